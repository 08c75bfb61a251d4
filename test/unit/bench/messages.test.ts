// The load generator's message bytes (bench/lib/messages.ts): a chunk must be the template
// repeated, each copy numbered one more than the one before, whatever the digits carry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildChunk, buildTemplate, SEQ_DIGITS, writeSeq, type MessageKind } from '../../../bench/lib/messages.js';

/** The chunk as the generator built it before: the template copied and numbered line by line. */
function byLine(tpl: ReturnType<typeof buildTemplate>, first: number, count: number): Buffer {
  const len = tpl.bytes.length;
  const buf = Buffer.alloc(len * count);
  for (let k = 0; k < count; k++) {
    tpl.bytes.copy(buf, k * len);
    writeSeq(buf, k * len + tpl.seqAt, first + k);
  }
  return buf;
}

test('buildChunk: the template repeated and numbered first, first+1, …, with carries across digits, for every kind', () => {
  const kinds: MessageKind[] = ['newline', 'octet-counting', 'dgram', 'file'];
  const top = 10 ** SEQ_DIGITS;
  const cases: [number, number][] = [
    [0, 0],
    [0, 1],
    [0, 1310],
    [7, 3],
    [95, 10], // 99 → 100
    [999_999_990, 25], // a carry through nine digits
    [top - 17, 17], // up to the last number there is
    [123_456, 777],
  ];
  for (const kind of kinds) {
    const tpl = buildTemplate({ kind, size: 200, host: 'host-07', thread: 7, runid: 1, time: new Date(Date.UTC(2026, 11, 7, 12)) });
    for (const [first, count] of cases) {
      const got = buildChunk(tpl, first, count);
      assert.equal(got.length, tpl.bytes.length * count, `${kind} ${first}+${count}: length`);
      assert.ok(got.equals(byLine(tpl, first, count)), `${kind} ${first}+${count}: bytes`);
    }
  }
  const tpl = buildTemplate({ kind: 'newline', size: 200, host: 'h', thread: 0, runid: 1, time: new Date() });
  const last = buildChunk(tpl, top - 1, 1).toString('latin1');
  assert.match(last, new RegExp(`seq: ${'9'.repeat(SEQ_DIGITS)},`));
});

test('buildChunk: numbers that do not fit in the digits, or are not whole, are refused', () => {
  const tpl = buildTemplate({ kind: 'newline', size: 200, host: 'h', thread: 0, runid: 1, time: new Date() });
  assert.throws(() => buildChunk(tpl, 10 ** SEQ_DIGITS - 1, 2), RangeError);
  assert.throws(() => buildChunk(tpl, -1, 2), RangeError);
  assert.throws(() => buildChunk(tpl, 1.5, 2), RangeError);
});
