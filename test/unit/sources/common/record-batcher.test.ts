import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch } from '../../../../src/core/batch.js';
import { RecordBatcher } from '../../../../src/sources/common/record-batcher.js';
import { testSourceContext } from '../../../helpers/context.js';

const meta = { host: 'h', program: '', facility: 1, severity: 5, format: 'syslog' as const };

test('records are cut into batches by size, with contiguous stream offsets', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 20, maxDelayMs: 1000 });
  for (let i = 0; i < 10; i++) await rb.add(Buffer.from(`msg ${i}`));
  await rb.close();
  const all = got.map((b) => b.data.toString()).join('');
  assert.equal(all, Array.from({ length: 10 }, (_, i) => `msg ${i}\n`).join(''));
  assert.ok(got.length >= 3);
  let offset = 0;
  for (const b of got) {
    assert.equal(b.pos.offset, offset);
    assert.equal(b.pos.stream, rb.stream);
    assert.equal(b.meta.format, 'syslog');
    assert.equal(b.ends[b.count - 1], b.data.length);
    offset = b.endOffset;
  }
});

test('a waiting record is pushed after max_delay_ms', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 1 << 20, maxDelayMs: 5 });
  assert.equal(rb.add(Buffer.from('xhellox'), 1, 6), undefined);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.data.toString(), 'hello\n');
});

test('a full batch resolves only when the router takes it (backpressure)', async () => {
  let release!: () => void;
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, () => new Promise<void>((r) => (release = r)));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 4, maxDelayMs: 1000 });
  let taken = false;
  const p = rb.add(Buffer.from('12345'))!.then(() => (taken = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(taken, false);
  release();
  await p;
  assert.equal(taken, true);
});

test('review udp-churn: a batcher starts with a small buffer and grows it on demand', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const before = process.memoryUsage().arrayBuffers;
  // One per UDP sender or connection: most send one short message and are gone.
  const many = Array.from({ length: 2000 }, () => new RecordBatcher(ctx, { meta, maxBatchBytes: 1 << 20, maxDelayMs: 1000 }));
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 2000 * 16 * 1024, `${(grown / 1e6).toFixed(1)} MB for 2000 idle batchers`);
  // Records far past the initial size still come out whole.
  const rb = many[0]!;
  const big = Buffer.alloc(100_000, 0x61);
  for (let i = 0; i < 3; i++) void rb.add(big);
  void rb.add(Buffer.from('tail'));
  await rb.close();
  for (const b of many) await b.close();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.count, 4);
  assert.equal(got[0]!.data.length, 3 * 100_001 + 5);
  assert.equal(got[0]!.data.toString('latin1', 300_003), 'tail\n');
});
