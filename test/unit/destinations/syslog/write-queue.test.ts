import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch } from '../../../../src/core/batch.js';
import { DELIVERED } from '../../../../src/core/outcome.js';
import { formatFailed, settle, settleDelivered, WriteQueue } from '../../../../src/destinations/syslog/write-queue.js';

const batch = (s: string): Batch =>
  new Batch(Buffer.from(`${s}\n`), Uint32Array.of(s.length + 1), { host: 'h', program: 'p', facility: 1, severity: 5, timeMs: 0 }, { origin: 'n', stream: 's', offset: 0 });

test('batches are taken in write order; each outcome is settled once', async () => {
  const q = new WriteQueue();
  const a = batch('a');
  const pa = q.add(a);
  const pb = q.add(batch('b'));
  assert.equal(q.queued, 2);
  assert.equal(q.pending, 2);
  const ea = q.take()!;
  assert.equal(ea.batch, a);
  settle(ea, DELIVERED);
  settle(ea, formatFailed(new Error('late')));
  assert.equal(await pa, DELIVERED);
  const eb = q.take()!;
  settle(eb, formatFailed(new Error('bad')));
  const ob = await pb;
  assert.equal(ob.kind, 'rejected');
  assert.equal(ob.kind === 'rejected' && (ob.error as Error & { code: string }).code, 'LS_INTERNAL');
  assert.equal(q.take(), undefined);
  await q.flush();
  assert.equal(q.pending, 0);
});

test('shutdown settles what is still queued retryable(LS_SHUTDOWN); take skips settled entries', async () => {
  const q = new WriteQueue();
  const p1 = q.add(batch('1'));
  const p2 = q.add(batch('2'));
  q.shutdown();
  assert.equal(q.queued, 0);
  for (const o of await Promise.all([p1, p2])) {
    assert.equal(o.kind, 'retryable');
    assert.equal(o.kind === 'retryable' && (o.error as Error & { code: string }).code, 'LS_SHUTDOWN');
  }
  const p3 = q.add(batch('3'));
  const e3 = q.take()!;
  const counted: [string, number | undefined][] = [];
  settleDelivered(e3, { emit: (ev, _f, n) => void counted.push([ev, n]) }, 1, 2);
  assert.equal(await p3, DELIVERED);
  assert.deepEqual(counted, [
    ['syslog_dest_messages', 1],
    ['syslog_dest_bytes', 2],
  ]);
});
