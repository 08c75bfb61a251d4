// The sequence checker (test/helpers/checker.ts) finds what the fault tests rely on it to find:
// missing ranges, duplicates, order violations, foreign lines and sources split over files.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSequences, isExactlyDropped, isExactlyOnce } from '../helpers/checker.js';
import { tmpDir } from '../helpers/tmp.js';
import { syslogMessage } from './syslog-sender.js';
import { seqLine } from './writer.js';

const lines = (id: string, seqs: number[]): string => seqs.map((q) => seqLine(id, q)).join('');
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('checker: a complete, ordered output is exactly once', async (t) => {
  const out = await tmpDir(t);
  await mkdir(join(out, 'h'));
  await writeFile(join(out, 'h', 'a.log'), lines('F00', range(0, 100)));
  await writeFile(join(out, 'h', 'b.log'), range(0, 50).map((q) => `${syslogMessage('S01', q)}\n`).join(''));
  const r = await checkSequences(out, new Map([['F00', 100], ['S01', 50]]));
  assert.ok(isExactlyOnce(r));
  assert.equal(r.totalReceived, 150);
});

test('checker: missing ranges, duplicates, order violations and foreign lines are reported precisely', async (t) => {
  const out = await tmpDir(t);
  await mkdir(join(out, 'h'));
  // F00: 10-19 missing, 30-31 twice, 40 three times. F01: 5 comes after 8.
  const f00 = [...range(0, 10), ...range(20, 32), 30, 31, ...range(32, 41), 40, 40, ...range(41, 50)];
  await writeFile(join(out, 'h', 'a.log'), `${lines('F00', f00)}garbage line\n`);
  await writeFile(join(out, 'h', 'b.log'), lines('F01', [0, 1, 2, 3, 4, 6, 7, 8, 5, 9]));
  const r = await checkSequences(out, new Map([['F00', 50], ['F01', 10], ['F02', 3]]));
  const [a, b, c] = r.sources;
  assert.deepEqual(a!.missing, [{ from: 10, to: 19 }]);
  assert.equal(a!.missingCount, 10);
  assert.deepEqual(a!.duplicates, [{ from: 30, to: 31, extra: 2 }, { from: 40, to: 40, extra: 2 }]);
  assert.equal(a!.duplicateCount, 4);
  assert.equal(a!.outOfOrderCount, 0);
  assert.equal(b!.outOfOrderCount, 1);
  assert.deepEqual(b!.outOfOrder[0], { file: join('h', 'b.log'), line: 9, seq: 5, after: 8 });
  assert.deepEqual(c!.missing, [{ from: 0, to: 2 }]);
  assert.equal(r.foreignLines, 1);
  assert.equal(r.totalMissing, 13);
  assert.ok(!isExactlyOnce(r));
  assert.ok(!isExactlyDropped(r, 13)); // duplicates and the order violation still count
});

test('checker: drops are exact only when nothing else is wrong', async (t) => {
  const out = await tmpDir(t);
  await writeFile(join(out, 'a.log'), lines('F00', range(7, 20)));
  const r = await checkSequences(out, new Map([['F00', 20]]));
  assert.ok(isExactlyDropped(r, 7));
  assert.ok(!isExactlyDropped(r, 6));
  assert.ok(!isExactlyOnce(r));
  // A source spread over two files is flagged (order across files is undefined).
  await writeFile(join(out, 'b.log'), lines('F01', [0]));
  await writeFile(join(out, 'c.log'), lines('F01', [1]));
  const r2 = await checkSequences(out, new Map([['F00', 20], ['F01', 2]]));
  assert.deepEqual(r2.splitSources, ['F01']);
  assert.ok(!isExactlyDropped(r2, 7));
});
