// The benchmark's output watcher (complete lines counted across files, and the time of the last
// write it read: the run's end, bench/lib/runner.ts) and its sequence checker, which alone decides
// what a run lost or duplicated (issue 5: checked, not assumed).

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkOutput, OutputWatcher, RunClock } from '../../../bench/lib/output.js';
import { tmpDir } from '../../helpers/tmp.js';

test('OutputWatcher: counts complete lines in every file under the root, and keeps the latest mtime of what it read', async (t) => {
  const root = await tmpDir(t, 'logship-watch-');
  const w = new OutputWatcher(root);
  t.after(() => w.close());
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
});

test('OutputWatcher: look() only stats (what grew, and when), count() reads what look() saw', async (t) => {
  const root = await tmpDir(t, 'logship-look-');
  const w = new OutputWatcher(root);
  t.after(() => w.close());
  assert.equal(w.look(), false, 'nothing there yet');
  const a = join(root, 'a.log');
  writeFileSync(a, 'one\ntwo\n');
  utimesSync(a, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  assert.equal(w.look(), true);
  assert.equal(w.lines, 0, 'look() reads nothing');
  assert.equal(w.lastWriteMs, 1_700_000_000_000);

  // Bytes written after the look are left for the next one: count() reads only what it saw.
  appendFileSync(a, 'three\n');
  assert.equal(w.count(), 2);
  assert.equal(w.look(), true);
  assert.equal(w.lines, 2);
  assert.equal(w.count(), 3);
  const wrote = statSync(a).mtimeMs;
  assert.equal(w.lastWriteMs, wrote);

  // Nothing new: no growth, nothing more to read; a touch alone (to a later time) is not a write.
  utimesSync(a, new Date(2_000_000_000_000), new Date(2_000_000_000_000));
  assert.equal(w.look(), false);
  assert.equal(w.count(), 3);
  assert.equal(w.lastWriteMs, wrote);
});

test('RunClock: reads when the output stops growing, or while eager, and at least every readEveryMs, so growth without new lines still stalls', () => {
  const stallMs = 1000;
  const c = new RunClock(0, stallMs / 2);
  // Growing, lines coming: read only every 500 ms, and never stalled.
  let reads = 0;
  for (let now = 20; now <= 3000; now += 20) {
    if (c.looked(now, true, false)) {
      reads++;
      c.counted(now, now * 10);
    }
    assert.ok(now - c.lastLines <= stallMs, `not stalled at ${now} ms`);
  }
  assert.equal(reads, 6, 'a read every 500 ms of growth');
  assert.equal(c.lastGrowth, 3000);
  // Growing without a new line (a partial line written forever): stalled a stall time after the last line.
  let stalledAt = -1;
  for (let now = 3020; now <= 6000 && stalledAt < 0; now += 20) {
    if (c.looked(now, true, false)) c.counted(now, 30_000);
    if (now - c.lastLines > stallMs) stalledAt = now;
  }
  assert.ok(stalledAt > 4000 && stalledAt <= 4000 + stallMs / 2 + 20, `stalled at ${stalledAt} ms`);
  // Nothing grew: read at once; eager (before an outage): read at every poll.
  assert.equal(c.looked(6020, false, false), true);
  c.counted(6020, 30_001);
  assert.equal(c.lastLines, 6020);
  assert.equal(c.looked(6040, true, true), true);
  assert.equal(c.looked(6060, true, false), false);
  // A restart starts every clock again.
  c.restart(9000);
  assert.deepEqual([c.lastGrowth, c.lastLines, c.lastRead], [9000, 9000, 9000]);
  assert.equal(c.looked(9020, true, false), false);
});

test('checkOutput: counts lost (with their ranges), duplicated, foreign and misrouted lines, whatever header each daemon writes', async (t) => {
  const root = await tmpDir(t, 'logship-check-');
  const line = (seq: number, header = '<38>Nov 23 12:04:31 host prg00000[1234]: '): string =>
    `${header}seq: ${String(seq).padStart(10, '0')}, thread: 0000, runid: 1, stamp: x PADD\n`;
  mkdirSync(join(root, 'host-a'));
  // Sender 0 owns 0-3, sender 1 owns 4-7 (perSender 4). 3, 6 and 7 never arrive; 2 twice; 5 in
  // sender 0's file, without its last newline; a daemon notice and an out-of-range number.
  writeFileSync(
    join(root, 'host-a', 'a.log'),
    line(0) + line(1, '2026-11-23T12:04:31Z host prg: ') + line(2) + line(2) + 'rsyslogd: notice, no sequence here\n' + line(99) + line(5).trimEnd(),
  );
  writeFileSync(join(root, 'b.log'), line(4));
  const r = checkOutput(root, 8, 4);
  assert.equal(r.files, 2);
  assert.equal(r.lines, 8);
  assert.equal(r.unique, 5);
  assert.equal(r.lost, 3);
  assert.equal(r.lostRanges, '3, 6-7');
  assert.equal(r.duplicated, 1);
  assert.equal(r.foreign, 2);
  assert.match(r.foreignExample, /^rsyslogd: notice/);
  assert.equal(r.misrouted, 1, 'seq 5 (sender 1) in the file of sender 0');

  // Every line once, each sender in a file of its own: nothing to report.
  rmSync(join(root, 'host-a'), { recursive: true });
  writeFileSync(join(root, 'b.log'), [4, 5, 6, 7].map((q) => line(q)).join(''));
  writeFileSync(join(root, 'c.log'), [0, 1, 2, 3].map((q) => line(q)).join(''));
  const ok = checkOutput(root, 8, 4);
  assert.deepEqual([ok.lost, ok.duplicated, ok.foreign, ok.misrouted, ok.unique, ok.lostRanges], [0, 0, 0, 0, 8, '']);
});
