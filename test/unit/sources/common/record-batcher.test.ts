import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch } from '../../../../src/core/batch.js';
import { DELIVERED } from '../../../../src/core/outcome.js';
import { sharedBuffers } from '../../../../src/sources/common/buffers.js';
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

test('perf-hot: stable records become views of their chunk, others are copied at once; the batch holds the same bytes', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 1 << 20, maxDelayMs: 1000 });
  const chunk = Buffer.from('aaa\nbbbb\r\nccc\n' + 'd'.repeat(40) + '\nee');
  // consecutive records of one chunk, each followed by its LF: one view
  void rb.add(chunk, 0, 3, true);
  void rb.add(chunk, 4, 8, true);
  // stripped "\r": not followed by LF, so copied
  void rb.add(chunk, 10, 13, true);
  void rb.add(chunk, 14, 54, true);
  // at the end of the chunk: no LF after it, so copied
  void rb.add(chunk, 55, 57, true);
  // not stable: copied now, so the caller may write its buffer right after
  const carry = Buffer.from('carried record that is longer than thirty-two bytes\n');
  void rb.add(carry, 0, carry.length - 1, false);
  carry.fill(0x78);
  const small = Buffer.from('tiny\n');
  void rb.add(small, 0, 4);
  small.fill(0x78);
  await rb.close();
  assert.equal(got.length, 1);
  const want = ['aaa', 'bbbb', 'ccc', 'd'.repeat(40), 'ee', 'carried record that is longer than thirty-two bytes', 'tiny'];
  assert.equal(got[0]!.data.toString(), want.map((r) => `${r}\n`).join(''));
  assert.deepEqual([...got[0]!.ends], want.reduce<number[]>((a, r) => [...a, (a.at(-1) ?? 0) + r.length + 1], []));
  // the next batch reuses the scratch buffer: the first batch's bytes are its own
  void rb.add(Buffer.from('zzzzzz'), 0, 6);
  await rb.close();
  assert.equal(got[0]!.data.toString().split('\n')[4], 'ee');
  assert.equal(got[1]!.data.toString(), 'zzzzzz\n');
});

test('perf-hot: the scratch buffer grows while views and copies interleave, across batches', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 10_000, maxDelayMs: 1000 });
  const want: string[] = [];
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let c = 0; c < 40; c++) {
    const recs = Array.from({ length: 1 + rnd(30) }, (_, i) => `c${c}r${i}-${'x'.repeat(rnd(300))}`);
    const chunk = Buffer.from(recs.join('\n') + (rnd(2) === 0 ? '\n' : ''));
    let p = 0;
    for (const r of recs) {
      void rb.add(chunk, p, p + r.length, rnd(4) !== 0);
      want.push(r);
      p += r.length + 1;
    }
  }
  await rb.close();
  assert.ok(got.length > 3);
  assert.equal(got.map((b) => b.data.toString()).join(''), want.map((r) => `${r}\n`).join(''));
  for (const b of got) assert.equal(b.ends[b.count - 1], b.data.length);
});

test('perf-hot: a batch made only of copies takes the scratch buffer it fills; later batches never write into it', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const max = 64 * 1024;
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: max, maxDelayMs: 1000 });
  const want: string[] = [];
  const src = Buffer.alloc(1000);
  for (let i = 0; i < 400; i++) {
    const r = `${String(i).padStart(6, '0')} ${String.fromCharCode(0x61 + (i % 26)).repeat(600 + (i % 300))}`;
    src.write(r);
    void rb.add(src, 0, Buffer.byteLength(r)); // not stable: src is written again right away
    want.push(r);
  }
  await rb.close();
  assert.equal(got.map((b) => b.data.toString()).join(''), want.map((r) => `${r}\n`).join(''));
  assert.ok(
    got.some((b) => b.data.buffer.byteLength > b.data.length && b.data.length * 4 >= b.data.buffer.byteLength * 3),
    'a full batch of copies is handed over without another copy',
  );
});

test('datagram-like records (at the start of their buffer, a short tail after) are copied exactly, tails overwritten', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes: 4096, maxDelayMs: 1000 });
  const want: string[] = [];
  for (let i = 0; i < 200; i++) {
    const text = `<13>datagram ${i} ${'x'.repeat(40 + (i % 50))}`;
    // tails of 0..20 bytes: up to 16 take the whole-buffer copy, longer ones the ranged one
    const tail = '\n\0\r#'.repeat(6).slice(0, i % 21);
    want.push(`${text}\n`);
    void rb.add(Buffer.from(text + tail), 0, text.length);
  }
  await rb.close();
  assert.equal(got.map((b) => b.data.toString()).join(''), want.join(''));
  const ends = got.flatMap((b) => [...b.ends].map((e, k) => e - (k === 0 ? 0 : b.ends[k - 1]!)));
  assert.deepEqual(ends, want.map((w) => w.length));
});

test('batch buffers come from a shared pool and go back only when their batch has settled', async () => {
  const got: Batch[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, (b) => void got.push(b));
  // A batch size of its own, so that no other test shares this pool.
  const maxBatchBytes = 40_000 + 7;
  const pool = sharedBuffers(maxBatchBytes + 16 * 1024);
  const rb = new RecordBatcher(ctx, { meta, maxBatchBytes, maxDelayMs: 1000 });
  const chunk = (tag: string): Buffer => Buffer.from(`${tag.repeat(99)}\n`.repeat(1000)); // 100,000 bytes, views
  const feed = async (tag: string): Promise<void> => {
    const c = chunk(tag);
    for (let s = 0; s < c.length; s += 100) await rb.add(c, s, s + 99, true);
  };
  await feed('a');
  await feed('b');
  await rb.flush();
  const before = got.map((b) => b.data.toString());
  assert.ok(got.length >= 3);
  const allocated = pool.allocated;
  // Nothing settled: new batches get new buffers, the earlier ones keep their bytes.
  await feed('c');
  await rb.flush();
  assert.ok(pool.allocated > allocated);
  assert.deepEqual(got.slice(0, before.length).map((b) => b.data.toString()), before);
  // Settled batches give their buffers back; the next batches reuse them.
  for (const b of got) b.settle(DELIVERED);
  await new Promise((r) => setImmediate(r));
  assert.ok(pool.free > 0);
  const now = pool.allocated;
  const n = got.length;
  await feed('d');
  await rb.close();
  assert.equal(pool.allocated, now, 'reused, not allocated');
  assert.equal(got.slice(n).map((b) => b.data.toString()).join(''), chunk('d').toString());
});
