import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseIn, copyAt, copyBytes, SMALL_COPY } from '../../../src/util/copy-bytes.js';

const pattern = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

test('copyBytes copies short and long runs between separate buffers', () => {
  for (const n of [0, 1, SMALL_COPY, SMALL_COPY + 1, 300]) {
    const src = pattern(n + 10, 7);
    const out = Buffer.alloc(n + 20, 0xee);
    const end = copyBytes(out, 5, src, 4, 4 + n);
    assert.equal(end, 5 + n);
    assert.deepEqual(out.subarray(5, 5 + n), src.subarray(4, 4 + n));
    assert.equal(out[4], 0xee);
    assert.equal(out[5 + n], 0xee);
  }
});

test('baseIn finds a source inside the output view; copyAt copies from there (copyWithin) or falls back', () => {
  const arena = Buffer.allocUnsafeSlow(4096).fill(0xee);
  const src = arena.subarray(100, 1100);
  src.set(pattern(1000, 3));
  const want = Buffer.from(src.subarray(200, 700));
  assert.equal(baseIn(arena, src), 100);
  assert.equal(copyAt(arena, 2000, 100, src, 200, 700), 2500);
  assert.deepEqual(arena.subarray(2000, 2500), want);
  // an output view that does not hold the source, or another buffer: -1, and copyAt copies anyway
  const out = arena.subarray(3000, 3600);
  assert.equal(baseIn(out, src), -1);
  assert.equal(baseIn(Buffer.alloc(4096), src), -1);
  assert.equal(copyAt(out, 10, -1, src, 200, 700), 510);
  assert.deepEqual(out.subarray(10, 510), want);
  // short runs
  assert.equal(copyAt(arena, 3000, 100, src, 0, 5), 3005);
  assert.deepEqual(arena.subarray(3000, 3005), src.subarray(0, 5));
  assert.deepEqual(src.subarray(200, 700), want, 'the source is unchanged');
});
