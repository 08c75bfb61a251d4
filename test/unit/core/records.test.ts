// RecordFields: its columns start at their defaults and are independent of each other, also now
// that the numeric ones share one backing buffer (perf-hot).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordFields } from '../../../src/core/records.js';

test('perf-hot: every column has one slot per record, starts at its default and is written alone', () => {
  for (const n of [0, 1, 3, 1000]) {
    const f = new RecordFields(n);
    const numeric = [f.pri, f.timeMs, f.tzMin, f.fracDigits, f.pidStart, f.pidEnd, f.msgidStart, f.msgidEnd, f.sdStart, f.sdEnd, f.msgStart, f.msgEnd, f.flags];
    for (const c of numeric) assert.equal(c.length, n);
    assert.equal(f.host.length, n);
    assert.equal(f.program.length, n);
    for (const c of [f.pidStart, f.pidEnd, f.msgidStart, f.msgidEnd, f.sdStart, f.sdEnd]) assert.ok(c.every((v) => v === -1));
    for (const c of [f.pri, f.timeMs, f.tzMin, f.fracDigits, f.msgStart, f.msgEnd, f.flags]) assert.ok(c.every((v) => v === 0));
    if (n === 0) continue;
    // the last slot of each column holds its own extreme value: no column overlaps another
    const last = n - 1;
    const want: [ArrayLike<number> & { [i: number]: number }, number][] = [
      [f.pri, 255], [f.timeMs, -1.5e15], [f.tzMin, -720], [f.fracDigits, 6], [f.pidStart, 2 ** 31 - 1], [f.pidEnd, -2],
      [f.msgidStart, 7], [f.msgidEnd, 8], [f.sdStart, 9], [f.sdEnd, 10], [f.msgStart, 2 ** 32 - 1], [f.msgEnd, 12], [f.flags, 31],
    ];
    for (const [c, v] of want) c[last] = v;
    for (const [c, v] of want) assert.equal(c[last], v);
    if (n > 1) for (const [c] of want) assert.ok(c[0] === 0 || c[0] === -1);
    assert.equal(f.facility(last), 31);
    assert.equal(f.severity(last), 7);
  }
});
