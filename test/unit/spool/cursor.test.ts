// The spool cursor file: atomic write, read back, and what an unusable one reads as.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCursor, writeCursor } from '../../../src/spool/cursor.js';
import { tmpDir } from '../../helpers/tmp.js';

test('a written cursor reads back with its drop total, and leaves no temp file', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'cursor.json');
  assert.deepEqual(await readCursor(file), { kind: 'none' });
  await writeCursor(file, { seq: 7, offset: 81_234 }, 12, true);
  assert.deepEqual(await readCursor(file), { kind: 'ok', pos: { seq: 7, offset: 81_234 }, droppedRecords: 12 });
  await writeCursor(file, { seq: 8, offset: 8 }, 12, false);
  assert.deepEqual(await readCursor(file), { kind: 'ok', pos: { seq: 8, offset: 8 }, droppedRecords: 12 });
  assert.deepEqual(await readdir(dir), ['cursor.json']);
});

test('an unusable cursor reads as bad (the spool then replays from its oldest segment)', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'cursor.json');
  for (const text of ['', '{"v":1,"segment":', '[]', '{"v":2,"segment":1,"offset":8}', '{"v":1,"segment":-1,"offset":8}', '{"v":1,"segment":1.5,"offset":8}']) {
    await writeFile(file, text);
    assert.equal((await readCursor(file)).kind, 'bad', text);
  }
  // A cursor without a drop total (or a bad one) counts no drops.
  await writeFile(file, '{"v":1,"segment":3,"offset":8}');
  assert.deepEqual(await readCursor(file), { kind: 'ok', pos: { seq: 3, offset: 8 }, droppedRecords: 0 });
});
