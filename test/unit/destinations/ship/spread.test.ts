// Unit tests of round-robin stream spreading: turn-by-turn homes, stickiness, bounded memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamSpread } from '../../../../src/destinations/ship/spread.js';

test('streams get homes in turn at first sight and keep them', () => {
  const s = new StreamSpread(3);
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((k) => s.home(k)), [0, 1, 2, 0, 1]);
  assert.deepEqual(['e', 'a', 'c', 'b', 'd', 'a'].map((k) => s.home(k)), [1, 0, 2, 1, 0, 0]);
  assert.equal(s.size, 5);
});

test('memory is bounded: past max streams the least recently written is forgotten, then gets a new home', () => {
  const s = new StreamSpread(2, 3);
  s.home('a'); // 0
  s.home('b'); // 1
  s.home('c'); // 0
  s.home('a'); // refreshed: b is now the oldest
  s.home('d'); // 1, evicts b
  assert.equal(s.size, 3);
  assert.equal(s.home('a'), 0, 'a, written recently, is remembered');
  assert.equal(s.home('b'), 0, 'b was forgotten: it gets the next home in turn');
  assert.equal(s.size, 3);
});
