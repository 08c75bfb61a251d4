// Issue 4: the file destination after a client failed over between relays. A batch flagged
// rerouted that starts past its stream's written offset is parked (its router slot given back)
// until the range before it arrives through the other path; after reorder_wait_ms it is written
// anyway and the skipped range becomes a hole, which late batches still fill, exactly once,
// across restarts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Batch, indexLines, type BatchMeta } from '../../../src/core/batch.js';
import type { Outcome } from '../../../src/core/outcome.js';
import { type FileDestination, fileDestination, fileDestinationOptions } from '../../../src/destinations/file/index.js';
import { Router } from '../../../src/pipeline/router.js';
import { ComponentTelemetry, Counters } from '../../../src/observe/metrics.js';
import { memoryLogger, testContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const META: BatchMeta = { host: 'web-1', program: 'app', facility: 1, severity: 6, timeMs: 0 };

/** Lines "L{from}\n" … "L{to-1}\n", each 8 bytes wide ("L0000001\n" is 9: fixed width keeps offsets simple). */
function text(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `L${String(i).padStart(6, '0')}\n`;
  return s;
}
const W = 8; // bytes per line

/** Lines [from, to) of stream s1 as a batch at their stream offset. */
function lines(from: number, to: number, rerouted = false, stream = 's1'): Batch {
  const data = Buffer.from(text(from, to));
  return new Batch(data, indexLines(data), META, { origin: 'client-a', stream, offset: from * W }, { rerouted });
}

async function start(t: TestContext, opts: Record<string, unknown> = {}, dirs?: { base: string; state: string }) {
  const root = dirs ?? { base: join(await tmpDir(t), 'out'), state: join(await tmpDir(t), 'state') };
  const options = fileDestinationOptions.parse({ type: 'file', base_dir: root.base, template: 'raw', path: 'out.log', ...opts });
  const dest = fileDestination.create(options) as FileDestination;
  const ctx = testContext({ id: 'files', stateDir: root.state, role: 'server' });
  await dest.start(ctx);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await dest.close();
  };
  t.after(close);
  const counter = (name: string): number => ctx.counters.get(`logship_file_dest_${name}_total`) ?? 0;
  const content = (): Promise<string> => readFile(join(root.base, 'out.log'), 'utf8');
  return { dest, ctx, counter, content, close, dirs: root };
}

function kind(o: Outcome): string {
  return o.kind === 'delivered' ? o.kind : `${o.kind}: ${o.error.message}`;
}

/** Settles true once the promise has settled (without waiting for it). */
function tracked(p: Promise<Outcome>): { readonly done: boolean; readonly p: Promise<Outcome> } {
  const s = { done: false, p };
  void p.then(() => (s.done = true));
  return s;
}

test('a rerouted batch past the written offset waits for the range before it, which another path brings; then both are written in order', async (t) => {
  const d = await start(t);
  assert.equal(kind(await d.dest.write(lines(0, 10))), 'delivered');
  let yielded = 0;
  const parked = tracked(d.dest.write(lines(20, 30, true), () => yielded++));
  const behind = tracked(d.dest.write(lines(30, 40), () => yielded++)); // not flagged, but behind a parked one
  await waitFor('reorder wait counted', () => d.counter('reorder_waits') === 1, 2000);
  await sleep(100);
  assert.equal(parked.done || behind.done, false, 'parked batches are not answered');
  assert.equal(yielded, 2, 'each parked batch gave its router slot back');
  assert.equal(await d.content(), text(0, 10));
  // The other relay delivers the range in between (in two batches).
  assert.equal(kind(await d.dest.write(lines(10, 15))), 'delivered');
  assert.equal(kind(await d.dest.write(lines(15, 20))), 'delivered');
  assert.equal(kind(await parked.p), 'delivered');
  assert.equal(kind(await behind.p), 'delivered');
  assert.equal(await d.content(), text(0, 40), 'in order, each line once');
  assert.equal(d.counter('reordered'), 1);
  assert.equal(d.counter('gaps'), 0);
  assert.equal(d.counter('reorder_timeouts'), 0);
  assert.equal(d.dest.highWater('client-a', 's1'), 40 * W);
});

test('without the flag a batch past the written offset is written at once (a gap, as a filter or drop-oldest makes); a rerouted one that is contiguous or of an unknown stream is not parked', async (t) => {
  const d = await start(t);
  assert.equal(kind(await d.dest.write(lines(0, 10, true))), 'delivered', 'unknown stream: nothing to wait for');
  assert.equal(kind(await d.dest.write(lines(10, 20, true))), 'delivered', 'contiguous');
  assert.equal(kind(await d.dest.write(lines(25, 30))), 'delivered', 'unflagged gap');
  assert.equal(await d.content(), text(0, 20) + text(25, 30));
  assert.equal(d.counter('gaps'), 1);
  assert.equal(d.counter('reorder_waits'), 0);
});

test('a rerouted batch contiguous with one still being written is not parked', async (t) => {
  const d = await start(t);
  assert.equal(kind(await d.dest.write(lines(0, 10))), 'delivered');
  // Submitted in one tick: the second starts where the first (queued, not yet committed) ends.
  const [a, b] = await Promise.all([d.dest.write(lines(10, 20, true)), d.dest.write(lines(20, 30, true))]);
  assert.equal(kind(a), 'delivered');
  assert.equal(kind(b), 'delivered');
  assert.equal(d.counter('reorder_waits'), 0);
  assert.equal(await d.content(), text(0, 30));
});

test('after reorder_wait_ms the parked batches are written past the gap; the late range is still written once (a hole), also after a restart', async (t) => {
  const d = await start(t, { reorder_wait_ms: 300 });
  assert.equal(kind(await d.dest.write(lines(0, 10))), 'delivered');
  const t0 = Date.now();
  assert.equal(kind(await d.dest.write(lines(20, 30, true))), 'delivered');
  assert.ok(Date.now() - t0 >= 250, `answered after the wait (${Date.now() - t0} ms)`);
  assert.equal(d.counter('reorder_timeouts'), 1);
  assert.equal(await d.content(), text(0, 10) + text(20, 30));
  // The write core is shared per journal: reach it through a second look at the journal after restart.
  await d.close();
  const again = await start(t, { reorder_wait_ms: 300 }, d.dirs);
  // Part of the hole, then a resend of it (a duplicate), then the rest with a straddle into written lines.
  assert.equal(kind(await again.dest.write(lines(10, 14))), 'delivered');
  assert.equal(kind(await again.dest.write(lines(10, 14))), 'delivered');
  assert.equal(kind(await again.dest.write(lines(12, 25))), 'delivered');
  assert.equal(await again.content(), text(0, 10) + text(20, 30) + text(10, 14) + text(14, 20), 'late lines after the newer ones, each once');
  assert.equal(again.counter('late_lines'), 4 + 6);
  assert.ok(again.counter('duplicates') >= 4 + 2 + 5, `duplicates dropped: ${again.counter('duplicates')}`);
  assert.equal(again.dest.highWater('client-a', 's1'), 30 * W);
  // The hole is closed: a further resend of the range is a duplicate.
  assert.equal(kind(await again.dest.write(lines(10, 20))), 'delivered');
  assert.equal(await again.content(), text(0, 10) + text(20, 30) + text(10, 20));
});

test('closing answers parked batches retryable (their sender resends them)', async (t) => {
  const d = await start(t);
  assert.equal(kind(await d.dest.write(lines(0, 10))), 'delivered');
  const parked = d.dest.write(lines(20, 30, true));
  await waitFor('parked', () => d.counter('reorder_waits') === 1, 2000);
  const closing = d.close();
  const o = await parked;
  assert.equal(o.kind, 'retryable');
  await closing;
  assert.equal(await d.content(), text(0, 10));
});

test('through the router: parked batches do not take the write slots (max_in_flight 1), so the range they wait for gets through', async (t) => {
  const d = await start(t, { max_in_flight: 1 });
  const tel = new ComponentTelemetry(new Counters(), memoryLogger(), 'destination', 'file', 'files');
  const router = new Router([{ name: 'files', destination: d.dest, telemetry: tel }], [{ from: ['in'], to: ['files'] }]);
  const outcomes: Promise<Outcome>[] = [];
  const push = async (b: Batch): Promise<void> => {
    outcomes.push(b.settled);
    await router.push('in', b);
  };
  await push(lines(0, 10));
  await outcomes[0];
  // Three rerouted batches park one after the other; each push returns (the slot comes back).
  await push(lines(20, 30, true));
  await push(lines(30, 40, true));
  await push(lines(40, 50, true));
  await waitFor('parked', () => d.counter('reorder_waits') === 1, 2000);
  await push(lines(10, 20));
  const all = await Promise.all(outcomes);
  assert.deepEqual(all.map(kind), ['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
  assert.equal(await d.content(), text(0, 50));
  assert.ok(await router.drain(1000));
});
