// The file destination's open handles: opening ahead (while a write cycle runs) and get() share one
// open per path; what fails ahead is reported by get(); closeAll() waits for opens in flight.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileHandles, type FileModes } from '../../../../src/destinations/file/handles.js';
import { pathOfFd } from '../../../helpers/fh-spy.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

const MODES: FileModes = { dirMode: 0o750, fileMode: 0o640, sync: false };

/** Descriptors of this process open on `path`. */
const fdsOn = (path: string): number => readdirSync('/proc/self/fd').filter((fd) => pathOfFd(Number(fd)) === path).length;

test('openAhead creates the file now; get() then uses that handle (one descriptor), with the size at get() time', async (t) => {
  const root = await tmpDir(t);
  const p = join(root, 'out', 'web-1', 'app.log');
  const h = new FileHandles(16);
  t.after(() => h.closeAll());
  h.openAhead(p, MODES);
  await waitFor('the handle opened ahead', () => h.size === 1);
  assert.equal(fdsOn(p), 1);
  await writeFile(p, 'written by another process\n', { flag: 'a' });
  const got = await h.get(p, MODES, join(root, 'out'));
  assert.equal(got.size, 'written by another process\n'.length);
  assert.equal(fdsOn(p), 1, 'no second open');
  h.openAhead(p, MODES); // open already: nothing to do
  assert.equal(fdsOn(p), 1);
});

test('get() while the same path is being opened ahead waits for that open instead of opening again', async (t) => {
  const root = await tmpDir(t);
  const p = join(root, 'app.log');
  const h = new FileHandles(16);
  t.after(() => h.closeAll());
  h.openAhead(p, MODES);
  const [a, b] = await Promise.all([h.get(p, MODES, root), h.get(p, MODES, root)]);
  assert.equal(a.file, b.file);
  assert.equal(a.size, 0);
  assert.equal(h.size, 1);
  assert.equal(fdsOn(p), 1);
});

test('an open ahead that fails is left to get(), which opens again and throws the error', async (t) => {
  const root = await tmpDir(t);
  await writeFile(join(root, 'web-1'), 'a file where a directory should be\n');
  const p = join(root, 'web-1', 'app.log');
  const h = new FileHandles(16);
  t.after(() => h.closeAll());
  h.openAhead(p, MODES); // fails in the background, unreported
  await assert.rejects(h.get(p, MODES, root), { code: 'ENOTDIR' });
  assert.equal(h.size, 0);
});

test('closeAll() waits for an open ahead in flight and closes it too', async (t) => {
  const root = await tmpDir(t);
  const p = join(root, 'new', 'app.log');
  const h = new FileHandles(16);
  h.openAhead(p, MODES);
  await h.closeAll();
  await sleep(100); // an open closeAll() did not wait for would have landed by now
  assert.equal(h.size, 0);
  assert.equal(fdsOn(p), 0);
});
