// Checkpoint file: round trip, atomic replace, and a clear error for a corrupt file.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointWriter, parseCheckpoint, readCheckpoint, type CheckpointEntry } from '../../../../src/sources/file/checkpoint.js';
import { tmpDir } from '../../../helpers/tmp.js';

/** The offset of the first entry in the checkpoint file as written. */
const firstOffset = async (file: string): Promise<number> =>
  (JSON.parse(await readFile(file, 'utf8')) as { files: CheckpointEntry[] }).files[0]!.offset;

const entry: CheckpointEntry = {
  path: '/var/log/app.log',
  dev: '2049',
  ino: '18446744073709551615',
  fingerprint: 'a1b2c3',
  fpLen: 256,
  stream: '0123456789abcdef',
  offset: 12345,
};

test('write then read gives the same entries; no temp file is left', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'checkpoints', 'src.json');
  let entries: CheckpointEntry[] = [entry, { ...entry, path: '/var/log/other.log', stream: 'ffff', offset: 0 }];
  const writer = new CheckpointWriter(file, () => entries, (err) => assert.fail(String(err)));
  assert.equal(await writer.write(), true);
  assert.deepEqual(await readCheckpoint(file), [entry, { ...entry, path: '/var/log/other.log', stream: 'ffff', offset: 0 }]);
  entries = [];
  assert.equal(await writer.write(), true);
  assert.deepEqual(await readCheckpoint(file), []);
  assert.deepEqual(await readdir(join(dir, 'checkpoints')), ['src.json']);
});

test('no checkpoint file yet: undefined (a first start)', async (t) => {
  const dir = await tmpDir(t);
  assert.equal(await readCheckpoint(join(dir, 'none.json')), undefined);
});

test('a corrupt checkpoint file is LS_STATE_CORRUPT', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'bad.json');
  for (const text of ['{"version":1,"files":[', '[]', '{"version":2,"files":[]}', JSON.stringify({ version: 1, files: [{ ...entry, offset: -1 }] }), JSON.stringify({ version: 1, files: [{ ...entry, ino: 7 }] })]) {
    await writeFile(file, text);
    await assert.rejects(readCheckpoint(file), (err: { code?: string }) => err.code === 'LS_STATE_CORRUPT', text);
    assert.throws(() => parseCheckpoint(text, file), (err: { code?: string }) => err.code === 'LS_STATE_CORRUPT');
  }
});

test('CheckpointWriter: writes in order, and calls made while a write is queued share it', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'w.json');
  let state: CheckpointEntry[] = [entry];
  let snapshots = 0;
  const errors: unknown[] = [];
  const w = new CheckpointWriter(
    file,
    () => {
      snapshots++;
      return state;
    },
    (err) => errors.push(err),
  );
  const first = w.write();
  const shared = w.write(); // the first has not started yet: same write
  assert.equal(shared, first);
  await new Promise((r) => setImmediate(r)); // the first write has started (its snapshot is taken)
  assert.equal(snapshots, 1);
  const second = w.write(); // queued behind the first
  const third = w.write(); // shares the second
  assert.equal(third, second);
  state = [{ ...entry, offset: 99 }];
  assert.deepEqual(await Promise.all([first, second, third]), [true, true, true]);
  assert.equal(snapshots, 2);
  assert.equal(await firstOffset(file), 99, 'the queued write took the state of when it ran');
  assert.deepEqual(errors, []);
});

test('CheckpointWriter reports a failed write as false', async (t) => {
  const dir = await tmpDir(t);
  await writeFile(join(dir, 'file'), '');
  const errors: unknown[] = [];
  const w = new CheckpointWriter(join(dir, 'file', 'sub', 'x.json'), () => [], (err) => errors.push(err));
  assert.equal(await w.write(), false);
  assert.equal(errors.length, 1);
});

test('CheckpointWriter skips a state already on disk, and writes it again after a failed write', async (t) => {
  const dir = await tmpDir(t);
  const sub = join(dir, 'sub');
  const file = join(sub, 'x.json');
  let state: CheckpointEntry[] = [entry];
  const errors: unknown[] = [];
  const w = new CheckpointWriter(file, () => state, (err) => errors.push(err));
  assert.equal(await w.write(), true);
  assert.equal(w.writes, 1);
  await unlink(file); // gone: a skipped write does not notice (the writer trusts its own last write)
  assert.equal(await w.write(), true, 'unchanged: nothing to write');
  assert.equal(w.writes, 1);
  state = [{ ...entry, offset: 7 }];
  assert.equal(await w.write(), true);
  assert.equal(w.writes, 2);
  assert.equal(await firstOffset(file), 7);
  // A failed write forgets what is on disk: the same state is written once the failure is gone.
  await rm(sub, { recursive: true });
  await writeFile(sub, 'not a directory');
  state = [{ ...entry, offset: 8 }];
  assert.equal(await w.write(), false);
  assert.equal(errors.length, 1);
  await unlink(sub);
  assert.equal(await w.write(), true);
  assert.equal(w.writes, 3);
  assert.equal(await firstOffset(file), 8);
});
