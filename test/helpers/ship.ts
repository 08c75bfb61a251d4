// Helpers of the ship destination's component tests: real listeners and senders on loopback,
// batch factories, a writer that keeps the window full as the router does, and order checks.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Batch, indexLines } from '../../src/core/batch.js';
import type { Destination } from '../../src/core/component.js';
import { DELIVERED, type Outcome } from '../../src/core/outcome.js';
import { shipDestination, ShipSender, type ShipInternals } from '../../src/destinations/ship/index.js';
import { shipListenerSource, type ShipListener } from '../../src/sources/ship-listener/index.js';
import { testContext, testSourceContext } from './context.js';
import { tmpDir } from './tmp.js';

export interface Received {
  stream: string;
  offset: number;
  end: number;
  data: string;
  /** Which listener got it (the `name` given to startListener). */
  at: string;
  /** Sent with the rerouted flag. */
  rerouted: boolean;
}

export type ListenerCtx = ReturnType<typeof testSourceContext>;

export async function startListener(
  t: TestContext,
  onBatch: (b: Batch) => void | Promise<void>,
  port = 0,
  host = '127.0.0.1',
  extra: Record<string, unknown> = {},
): Promise<{ listener: ShipListener; ctx: ListenerCtx }> {
  const ctx = testSourceContext({ stateDir: await tmpDir(t), nodeName: 'server-1', role: 'server', id: 'in' }, onBatch);
  const listener = shipListenerSource.create(shipListenerSource.options.parse({ type: 'ship-listener', listen: `tcp:${host}:${port}`, ...extra }));
  await listener.start(ctx);
  t.after(() => listener.stop());
  return { listener, ctx };
}

export async function startSender(
  t: TestContext,
  upstreams: string[],
  extra: Record<string, unknown> = {},
  internals: ShipInternals = {},
): Promise<{ dest: ShipSender; ctx: ReturnType<typeof testContext> }> {
  const ctx = testContext({ stateDir: await tmpDir(t), nodeName: 'client-1', role: 'client', id: 'out' });
  const opts = shipDestination.options.parse({ type: 'ship', upstreams, backoff_min_ms: 20, backoff_max_ms: 200, ...extra });
  const dest = new ShipSender(opts, internals);
  await dest.start(ctx);
  t.after(() => dest.close());
  return { dest, ctx };
}

/** Batches for `streams`, round-robin, each stream's offsets contiguous from `from` (default 0). */
export function makeBatches(n: number, streams: string[], linesPer = 10, from?: Map<string, number>): Batch[] {
  const off = from ?? new Map(streams.map((s) => [s, 0]));
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    const stream = streams[i % streams.length]!;
    const text = Array.from({ length: linesPer }, (_, j) => `${stream} batch ${i} line ${j} ${'x'.repeat((i * 7 + j) % 60)}\n`).join('');
    const data = Buffer.from(text);
    const offset = off.get(stream) ?? 0;
    off.set(stream, offset + data.length);
    out.push(
      new Batch(data, indexLines(data), { host: 'client-1', program: 'app', facility: 1, severity: 6, timeMs: 1_700_000_000_000 + i }, {
        origin: 'client-1',
        stream,
        offset,
      }),
    );
  }
  return out;
}

/** Writes every batch with at most maxInFlight outstanding (as the router does); bounded. */
export async function writeAll(
  dest: Destination,
  batches: Batch[],
  timeoutMs = 30_000,
  onResolved?: (i: number) => void,
): Promise<{ outcomes: Outcome[]; order: number[] }> {
  const outcomes: Outcome[] = [];
  const order: number[] = [];
  const inflight = new Set<Promise<void>>();
  const run = async () => {
    for (let i = 0; i < batches.length; i++) {
      while (inflight.size >= dest.maxInFlight) await Promise.race(inflight);
      const p: Promise<void> = dest.write(batches[i]!).then((o) => {
        outcomes[i] = o;
        order.push(i);
        inflight.delete(p);
        onResolved?.(i);
      });
      inflight.add(p);
    }
    await Promise.all(inflight);
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    run(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`writeAll: ${order.length}/${batches.length} resolved after ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return { outcomes, order };
}

/**
 * A listener callback that records each batch (tagged `at`) and settles it delivered on the next
 * turn, or after `settleAfterMs` (a slow downstream: the ACK comes late, the socket keeps flowing).
 */
export function recorder(into: Received[], at = 'in', settleAfterMs = 0): (b: Batch) => void {
  return (b) => {
    into.push({ stream: b.pos.stream, offset: b.pos.offset, end: b.endOffset, data: b.data.toString(), at, rerouted: b.rerouted });
    if (settleAfterMs > 0) setTimeout(() => b.settle(DELIVERED), settleAfterMs);
    else setImmediate(() => b.settle(DELIVERED));
  };
}

/**
 * Every stream fully covered from its first offset, never skipping ahead (duplicates allowed), same
 * bytes as sent. `got` is in arrival order; with several listeners, arrival order is the order of
 * the shared array, which per stream is the order the sender sent it.
 */
export function assertCompleteInOrder(got: Received[], sent: Batch[]): void {
  const want = new Map<string, Map<number, string>>();
  const start = new Map<string, number>();
  const total = new Map<string, number>();
  for (const b of sent) {
    if (!want.has(b.pos.stream)) want.set(b.pos.stream, new Map());
    want.get(b.pos.stream)!.set(b.pos.offset, b.data.toString());
    if (!start.has(b.pos.stream)) start.set(b.pos.stream, b.pos.offset);
    total.set(b.pos.stream, b.endOffset);
  }
  const maxEnd = new Map<string, number>();
  for (const r of got) {
    const m = maxEnd.get(r.stream) ?? start.get(r.stream) ?? 0;
    assert.ok(r.offset <= m, `stream ${r.stream}: batch at ${r.offset} skips ahead of ${m} (a gap)`);
    assert.equal(r.data, want.get(r.stream)!.get(r.offset), `stream ${r.stream}: bytes at ${r.offset}`);
    maxEnd.set(r.stream, Math.max(m, r.end));
  }
  for (const [s, end] of total) assert.equal(maxEnd.get(s), end, `stream ${s} complete`);
}

/** Events logged by a test context, by name. */
export function eventsOf(ctx: ReturnType<typeof testContext>, name: string): Array<Record<string, unknown>> {
  return ctx.logs.map((l) => l.obj as Record<string, unknown>).filter((o) => o['event'] === name);
}
