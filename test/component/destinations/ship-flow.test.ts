// Flow control end to end on loopback (issue 4, item 4): a source pushing through a router into
// the ship destination, a ship listener, and a server-side router whose destination is blocked,
// then slow. A slow server must slow the sender's write() resolution and the source's push(),
// with memory bounded by the windows, whatever is offered (100 MiB here).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Batch, indexLines } from '../../../src/core/batch.js';
import type { ComponentContext, Destination } from '../../../src/core/component.js';
import { DELIVERED, type Outcome } from '../../../src/core/outcome.js';
import { Router } from '../../../src/pipeline/router.js';
import { startListener, startSender } from '../../helpers/ship.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const MiB = 1024 * 1024;

/** The server's destination: takes at most `maxInFlight` writes, each held until the gate opens, then `delayMs`. */
class SlowDestination implements Destination {
  readonly maxInFlight = 4;
  inflight = 0;
  maxSeen = 0;
  written: Array<{ stream: string; offset: number }> = [];
  delayMs = 0;
  private _gate: Promise<void>;
  private _open!: () => void;

  constructor() {
    this._gate = new Promise((r) => {
      this._open = r;
    });
  }

  open(delayMs: number): void {
    this.delayMs = delayMs;
    this._open();
  }

  async write(batch: Batch): Promise<Outcome> {
    this.inflight++;
    this.maxSeen = Math.max(this.maxSeen, this.inflight);
    await this._gate;
    if (this.delayMs > 0) await sleep(this.delayMs);
    this.written.push({ stream: batch.pos.stream, offset: batch.pos.offset });
    this.inflight--;
    return DELIVERED;
  }

  async start(_ctx: ComponentContext): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

const noTelemetry = { emit: () => {} };

/** A full GC before each memory sample, so the samples measure what is held, not garbage not yet collected. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('issue 4: a blocked, then slow, server holds back the sender and the source; memory stays bounded while 100 MiB are offered', async (t) => {
  // server: listener → router → slow destination
  const slow = new SlowDestination();
  const serverRouter = new Router([{ name: 'slow', destination: slow, telemetry: noTelemetry }], [{ from: ['in'], to: ['slow'] }]);
  const { listener } = await startListener(t, (b) => serverRouter.push('in', b));
  // client: source loop → router → ship destination
  const window = 8;
  const { dest } = await startSender(t, [`127.0.0.1:${listener.port}`], { window, compression_level: 0, ack_timeout_ms: 60_000 });
  const clientRouter = new Router([{ name: 'up', destination: dest, telemetry: noTelemetry }], [{ from: ['src'], to: ['up'] }]);

  // 100 batches of 1 MiB of incompressible bytes; one shared buffer, so the test itself allocates nothing per batch
  const chunk = Buffer.concat([randomBytes(MiB - 1), Buffer.from('\n')]);
  const ends = indexLines(chunk);
  const total = 100;
  const settled: Array<Promise<Outcome>> = [];
  let pushed = 0;
  let resolved = 0;
  gc();
  const baseline = process.memoryUsage();
  let peakRss = 0;
  let peakExternal = 0;
  let maxPending = 0;
  let maxListenerBuffered = 0;
  const sampler = setInterval(() => {
    gc();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakExternal = Math.max(peakExternal, m.arrayBuffers);
    maxPending = Math.max(maxPending, dest.pending);
    for (const c of listener.connections()) maxListenerBuffered = Math.max(maxListenerBuffered, c.bufferedBytes);
  }, 10);
  t.after(() => clearInterval(sampler));

  const source = (async () => {
    for (let i = 0; i < total; i++) {
      const b = new Batch(chunk, ends, { host: 'h', program: 'p', facility: 1, severity: 6, timeMs: 0 }, { origin: 'client-1', stream: 'big', offset: i * chunk.length });
      settled.push(b.settled);
      void b.settled.then(() => resolved++);
      await clientRouter.push('src', b); // resolves only when the ship destination has room in its window
      pushed++;
    }
  })();

  // blocked: the server's destination takes 4 writes and holds them
  await waitFor('the server destination to fill up', () => slow.inflight === slow.maxInFlight);
  await sleep(500);
  const pushedWhileBlocked = pushed;
  assert.ok(pushedWhileBlocked <= window + 1, `the source pushed ${pushedWhileBlocked} batches while the server was blocked (window ${window})`);
  assert.equal(resolved, 0, 'no write resolved: nothing was acknowledged');
  assert.ok(dest.pending <= window);
  assert.equal(slow.written.length, 0);
  const conn = listener.connections()[0]!;
  assert.equal(conn.paused, true, 'the listener stopped reading its socket');

  // slow: 3 ms per batch, 4 at a time
  slow.open(3);
  await source;
  const outcomes = await Promise.all(settled);
  clearInterval(sampler);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.equal(slow.written.length, total);
  assert.deepEqual(
    slow.written.map((w) => w.offset),
    Array.from({ length: total }, (_, i) => i * chunk.length),
    'in order',
  );
  assert.ok(maxPending <= window, `sender held ${maxPending} unacknowledged batches (window ${window})`);
  assert.ok(slow.maxSeen <= slow.maxInFlight);
  // the listener reads at most one frame ahead of its blocked push (plus one socket read)
  assert.ok(maxListenerBuffered < 3 * MiB, `listener buffered ${maxListenerBuffered} bytes`);
  const rssGrowth = peakRss - baseline.rss;
  const externalGrowth = peakExternal - baseline.arrayBuffers;
  t.diagnostic(`offered ${total} MiB; peak growth: rss ${(rssGrowth / MiB).toFixed(1)} MiB, buffers ${(externalGrowth / MiB).toFixed(1)} MiB`);
  // held: the window (8 frames of 1 MiB) + the server's writes in flight (4 decoded batches) + one being read ≈ 16 MiB
  assert.ok(externalGrowth < 40 * MiB, `buffers grew by ${(externalGrowth / MiB).toFixed(1)} MiB while ${total} MiB were offered`);
  assert.ok(rssGrowth < 64 * MiB, `rss grew by ${(rssGrowth / MiB).toFixed(1)} MiB while ${total} MiB were offered`);
});

test('issue 4: a slow server slows write() resolution to its pace (no unbounded queue in between)', async (t) => {
  const slow = new SlowDestination();
  slow.open(20);
  const serverRouter = new Router([{ name: 'slow', destination: slow, telemetry: noTelemetry }], [{ from: ['in'], to: ['slow'] }]);
  const { listener } = await startListener(t, (b) => serverRouter.push('in', b));
  const { dest } = await startSender(t, [`127.0.0.1:${listener.port}`], { window: 4 });
  const clientRouter = new Router([{ name: 'up', destination: dest, telemetry: noTelemetry }], [{ from: ['src'], to: ['up'] }]);
  const data = Buffer.from('a line\n'.repeat(100));
  const started = Date.now();
  const settled: Array<Promise<Outcome>> = [];
  for (let i = 0; i < 40; i++) {
    const b = new Batch(data, indexLines(data), { host: 'h', program: 'p', facility: 1, severity: 6, timeMs: 0 }, { origin: 'c', stream: 's', offset: i * data.length });
    settled.push(b.settled);
    await clientRouter.push('src', b);
    assert.ok(dest.pending <= 4);
  }
  await Promise.all(settled);
  const elapsed = Date.now() - started;
  // 40 batches, 4 at a time at the server, 20 ms each: at least 10 rounds of 20 ms
  assert.ok(elapsed >= 190, `delivered in ${elapsed} ms: the source was not held to the server's pace`);
  assert.equal(slow.written.length, 40);
});
