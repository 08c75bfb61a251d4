// The benchmark's output watcher: complete lines counted across files, and the time of the last
// write it read (the run's end; bench/lib/runner.ts).

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OutputWatcher } from '../../../bench/lib/output.js';

test('OutputWatcher: counts complete lines in every file under the root, and keeps the latest mtime of what it read', () => {
  const root = mkdtempSync(join(tmpdir(), 'logship-watch-'));
  const w = new OutputWatcher(root);
  try {
    assert.equal(w.poll(), 0);
    assert.equal(w.lastWriteMs, 0, 'nothing read yet');

    mkdirSync(join(root, 'host-01'));
    const a = join(root, 'host-01', 'a.log');
    const b = join(root, 'b.log');
    writeFileSync(a, 'one\ntwo\nthr');
    writeFileSync(b, 'x\n');
    utimesSync(a, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    utimesSync(b, new Date(1_700_000_005_000), new Date(1_700_000_005_000));
    assert.equal(w.poll(), 3, 'the unterminated "thr" is not a line yet');
    assert.equal(w.lastWriteMs, 1_700_000_005_000);

    // A file read to its end and only touched since: no new bytes, so its time is not the run's.
    utimesSync(b, new Date(1_700_000_009_000), new Date(1_700_000_009_000));
    assert.equal(w.poll(), 3);
    assert.equal(w.lastWriteMs, 1_700_000_005_000);

    // New bytes: their file's mtime (now, after the one above) becomes the last write.
    appendFileSync(a, 'ee\nfour\n');
    assert.equal(w.poll(), 5);
    assert.equal(w.lastWriteMs, statSync(a).mtimeMs);
    assert.ok(w.lastWriteMs > 1_700_000_009_000);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
  }
});
