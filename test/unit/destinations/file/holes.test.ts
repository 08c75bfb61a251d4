import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addHole, inHoles, overlapsHoles, subtractRange } from '../../../../src/destinations/file/holes.js';

test('inHoles and overlapsHoles: half-open ranges', () => {
  const h = [10, 20, 30, 40];
  assert.deepEqual([9, 10, 19, 20, 29, 30, 39, 40].map((o) => inHoles(h, o)), [false, true, true, false, false, true, true, false]);
  assert.equal(overlapsHoles(h, 0, 10), false);
  assert.equal(overlapsHoles(h, 0, 11), true);
  assert.equal(overlapsHoles(h, 20, 30), false);
  assert.equal(overlapsHoles(h, 39, 100), true);
  assert.equal(overlapsHoles([], 0, 100), false);
});

test('subtractRange cuts, splits and removes holes', () => {
  const h = [10, 20, 30, 40];
  assert.deepEqual(subtractRange(h, 10, 20), [30, 40]);
  assert.deepEqual(subtractRange(h, 12, 15), [10, 12, 15, 20, 30, 40]);
  assert.deepEqual(subtractRange(h, 0, 12), [12, 20, 30, 40]);
  assert.deepEqual(subtractRange(h, 15, 35), [10, 15, 35, 40]);
  assert.deepEqual(subtractRange(h, 0, 100), []);
  assert.deepEqual(subtractRange(h, 20, 30), h);
});

test('addHole appends past the last hole, merges a touching one, and forgets the oldest past the bound', () => {
  assert.deepEqual(addHole([], 10, 20, 4), { holes: [10, 20], dropped: 0 });
  assert.deepEqual(addHole([10, 20], 20, 30, 4), { holes: [10, 30], dropped: 0 });
  assert.deepEqual(addHole([10, 20], 25, 30, 4), { holes: [10, 20, 25, 30], dropped: 0 });
  assert.deepEqual(addHole([10, 20], 25, 25, 4), { holes: [10, 20], dropped: 0 }, 'an empty range adds nothing');
  assert.deepEqual(addHole([1, 2, 3, 4], 5, 6, 2), { holes: [3, 4, 5, 6], dropped: 1 });
});
