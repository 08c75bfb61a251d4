// splitRecords: whole lines, held partial lines, long lines cut at max_line_bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch } from '../../../../src/core/batch.js';
import { splitRecords } from '../../../../src/sources/file/lines.js';

const split = (s: string, max = 1000, flush = false) => {
  const data = Buffer.from(s);
  const r = splitRecords(data, max, flush);
  const recs: string[] = [];
  let at = 0;
  for (const e of r.ends) {
    recs.push(data.subarray(at, e).toString());
    at = e;
  }
  return { recs, consumed: r.consumed, splits: r.splits };
};

test('whole lines only; the partial last line is held', () => {
  assert.deepEqual(split('a\nbb\nccc'), { recs: ['a\n', 'bb\n'], consumed: 5, splits: 0 });
  assert.deepEqual(split('a\nbb\n'), { recs: ['a\n', 'bb\n'], consumed: 5, splits: 0 });
  assert.deepEqual(split('partial'), { recs: [], consumed: 0, splits: 0 });
  assert.deepEqual(split(''), { recs: [], consumed: 0, splits: 0 });
  assert.deepEqual(split('\n\n'), { recs: ['\n', '\n'], consumed: 2, splits: 0 });
});

test('flushPartial makes the held bytes a last record', () => {
  assert.deepEqual(split('a\nbb', 1000, true), { recs: ['a\n', 'bb'], consumed: 4, splits: 0 });
  assert.deepEqual(split('a\n', 1000, true), { recs: ['a\n'], consumed: 2, splits: 0 });
});

test('a line longer than max_line_bytes is cut; the newline stays with the last piece', () => {
  assert.deepEqual(split('abcdefghij\n', 4), { recs: ['abcd', 'efgh', 'ij\n'], consumed: 11, splits: 2 });
  // Exactly max bytes of text: not cut.
  assert.deepEqual(split('abcd\n', 4), { recs: ['abcd\n'], consumed: 5, splits: 0 });
  assert.deepEqual(split('abcdefgh\n', 4), { recs: ['abcd', 'efgh\n'], consumed: 9, splits: 1 });
});

test('a long partial line: full pieces are records, the rest (≤ max) is held', () => {
  assert.deepEqual(split('x\nabcdefghij', 4), { recs: ['x\n', 'abcd', 'efgh'], consumed: 10, splits: 2 });
  assert.deepEqual(split('abcdefgh', 4), { recs: ['abcd'], consumed: 4, splits: 1 });
  assert.deepEqual(split('abcdefghij', 4, true), { recs: ['abcd', 'efgh', 'ij'], consumed: 10, splits: 2 });
});

test('re-reading a held partial from its start cuts it at the same places', () => {
  const line = 'abcdefghijklmnopqrstuvwxyz\n';
  const whole = split(line, 5).recs;
  const first = split(line.slice(0, 12), 5);
  const rest = split(line.slice(first.consumed), 5);
  assert.deepEqual([...first.recs, ...rest.recs], whole);
});

test('many records grow the index past its initial size; ends work with Batch', () => {
  const data = Buffer.from('y\n'.repeat(10_000));
  const r = splitRecords(data, 100, false);
  assert.equal(r.ends.length, 10_000);
  assert.equal(r.consumed, data.length);
  const b = new Batch(data, r.ends, { host: 'h', program: 'p', facility: 1, severity: 5, timeMs: 0 }, { origin: 'h', stream: 's', offset: 0 });
  assert.equal(b.count, 10_000);
  assert.equal(b.textEnd(9_999) - b.recordStart(9_999), 1);
});
