// Unit tests of the listener's ack order: cumulative per stream, in receive order, holes block.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamAcks } from '../../../../src/sources/ship-listener/acks.js';

test('an ACK is produced only when the settled prefix of a stream grows', () => {
  const a = new StreamAcks();
  const s1 = a.track('A', 'o', 'A', 10);
  const s2 = a.track('A', 'o', 'A', 20);
  const s3 = a.track('A', 'o', 'A', 30);
  const t1 = a.track('B', 'o', 'B', 7);
  assert.equal(a.unsettled, 4);
  assert.equal(a.settle(s2, true), null, 'b2 waits for b1');
  assert.deepEqual(a.settle(t1, true), { origin: 'o', stream: 'B', offset: 7 });
  assert.deepEqual(a.settle(s1, true), { origin: 'o', stream: 'A', offset: 20 }, 'b1 releases b1 and b2 at once');
  assert.equal(a.settle(s1, true), null, 'settling twice is a no-op');
  assert.deepEqual(a.settle(s3, true), { origin: 'o', stream: 'A', offset: 30 });
  assert.equal(a.unsettled, 0);
});

test('a hole (retryable) blocks its stream for good on this connection', () => {
  const a = new StreamAcks();
  const s1 = a.track('A', 'o', 'A', 10);
  const s2 = a.track('A', 'o', 'A', 20);
  const s3 = a.track('A', 'o', 'A', 30);
  assert.deepEqual(a.settle(s1, true), { origin: 'o', stream: 'A', offset: 10 });
  assert.equal(a.settle(s2, false), null);
  assert.equal(a.settle(s3, true), null);
  assert.equal(a.unsettled, 0);
});
