import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes, SMALL_COPY } from '../../../src/util/copy-bytes.js';

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

test('copyBytes between views of one ArrayBuffer (the copyWithin path), source before or inside the output view', () => {
  const arena = Buffer.allocUnsafeSlow(4096).fill(0xee);
  const src = arena.subarray(100, 1100);
  src.set(pattern(1000, 3));
  const want = Buffer.from(src.subarray(200, 700));
  // output view is the whole arena: the source lies inside it
  assert.equal(copyBytes(arena, 2000, src, 200, 700), 2500);
  assert.deepEqual(arena.subarray(2000, 2500), want);
  // output view after the source: the source lies outside the output view (falls back to set)
  const out = arena.subarray(3000, 3600);
  assert.equal(copyBytes(out, 10, src, 200, 700), 510);
  assert.deepEqual(out.subarray(10, 510), want);
  assert.deepEqual(src.subarray(200, 700), want, 'the source is unchanged');
});
