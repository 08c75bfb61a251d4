// Component tests of the ship destination's upstreams on loopback (127.0.0.1 and 127.0.0.2, both
// loopback on Linux): names resolved on every connect through an injected lookup, unresolvable
// names, ordered failover with health and failback, round-robin spreading with sticky streams.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { Batch } from '../../../src/core/batch.js';
import { LogshipError } from '../../../src/core/errors.js';
import type { ShipSender } from '../../../src/destinations/ship/index.js';
import type { Lookup } from '../../../src/transport/upstream.js';
import {
  assertCompleteInOrder,
  eventsOf,
  makeBatches,
  recorder,
  startListener,
  startSender,
  writeAll,
  type Received,
} from '../../helpers/ship.js';
import { sleep, waitFor } from '../../helpers/wait.js';

/** A port with nothing listening on 127.0.0.1. */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writes one batch at a time, each after the previous resolved, pausing `gapMs` in between. */
async function writePaced(dest: ShipSender, batches: Batch[], gapMs: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const inflight = new Set<Promise<void>>();
  for (const b of batches) {
    while (inflight.size >= dest.maxInFlight) await Promise.race(inflight);
    const p: Promise<void> = dest.write(b).then((o) => {
      assert.equal(o.kind, 'delivered');
      inflight.delete(p);
    });
    inflight.add(p);
    if (Date.now() > deadline) throw new Error('writePaced: too slow');
    await sleep(gapMs);
  }
  await Promise.all(inflight);
}

/** Two listeners on the SAME port, one on 127.0.0.2 and one on 127.0.0.1 (a name whose address changes). */
async function samePortPair(t: TestContext, got: Received[]) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const two = await startListener(t, recorder(got, '127.0.0.2'), 0, '127.0.0.2');
    try {
      const one = await startListener(t, recorder(got, '127.0.0.1'), two.listener.port, '127.0.0.1');
      return { two, one, port: two.listener.port };
    } catch {
      await two.listener.stop(); // the port was taken on 127.0.0.1: try another
    }
  }
  throw new Error('no port free on both 127.0.0.1 and 127.0.0.2');
}

const byStream = (got: Received[]) => {
  const m = new Map<string, Set<string>>();
  for (const r of got) {
    if (!m.has(r.stream)) m.set(r.stream, new Set());
    m.get(r.stream)!.add(r.at);
  }
  return m;
};

// ---- names ------------------------------------------------------------------------------------

test('the name is resolved again on every connect: after its address changes, the sender follows it', async (t) => {
  const got: Received[] = [];
  const { two, port } = await samePortPair(t, got);
  let answer = '127.0.0.2';
  const asked: string[] = [];
  const lookup: Lookup = async (name) => {
    asked.push(`${name}->${answer}`);
    return [{ address: answer, family: 4 }];
  };
  const { dest, ctx } = await startSender(t, [`relay.test:${port}`], {}, { lookup });
  const first = makeBatches(100, ['n1', 'n2']);
  await writeAll(dest, first);
  assert.ok(got.every((r) => r.at === '127.0.0.2'), 'first connection went to the first address');
  answer = '127.0.0.1'; // the name now points elsewhere
  await two.listener.stop();
  const off = new Map([
    ['n1', first.at(-2)!.endOffset],
    ['n2', first.at(-1)!.endOffset],
  ]);
  const second = makeBatches(100, ['n1', 'n2'], 10, off);
  const { outcomes } = await writeAll(dest, second, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.ok(got.some((r) => r.at === '127.0.0.1'), 'the second connection followed the new address');
  assertCompleteInOrder(got, [...first, ...second]);
  assert.deepEqual(asked.slice(0, 1), ['relay.test->127.0.0.2']);
  assert.ok(asked.includes('relay.test->127.0.0.1'), 'resolved again on reconnect, not cached');
  const connected = eventsOf(ctx, 'ship_connected').map((e) => e['address']);
  assert.deepEqual([connected[0], connected.at(-1)], ['127.0.0.2', '127.0.0.1']);
});

test('a name with several addresses: a dead first address is passed over within the same connect', async (t) => {
  const got: Received[] = [];
  const { listener } = await startListener(t, recorder(got), 0, '127.0.0.1');
  // 127.0.0.3 has nothing listening on this port: the connect is refused, the next address works
  const lookup: Lookup = async () => [
    { address: '127.0.0.3', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ];
  const { dest, ctx } = await startSender(t, [`relay.test:${listener.port}`], {}, { lookup });
  const batches = makeBatches(20, ['m']);
  const { outcomes } = await writeAll(dest, batches, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.equal(ctx.counters.get('logship_ship_connect_failures_total'), 0);
  assert.equal(ctx.counters.get('logship_ship_connects_total'), 1);
  assert.equal(eventsOf(ctx, 'ship_connected')[0]!['address'], '127.0.0.1');
});

test('a name that does not resolve is a failed connect with its reason (LS_SHIP_RESOLVE): down, next upstream', async (t) => {
  const got: Received[] = [];
  const { listener } = await startListener(t, recorder(got), 0, '127.0.0.1');
  const lookup: Lookup = async (name) => {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
  const { dest, ctx } = await startSender(t, ['nowhere.invalid:5140', `127.0.0.1:${listener.port}`], {}, { lookup });
  const batches = makeBatches(30, ['u']);
  const { outcomes } = await writeAll(dest, batches, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  const failed = eventsOf(ctx, 'ship_connect_failed')[0]!;
  assert.equal(failed['upstream'], 'nowhere.invalid:5140');
  assert.equal((failed['err'] as LogshipError).code, 'LS_SHIP_RESOLVE');
  assert.equal(eventsOf(ctx, 'upstream_down')[0]!['upstream'], 'nowhere.invalid:5140');
  const fo = eventsOf(ctx, 'ship_failover')[0]!;
  assert.deepEqual([fo['from'], fo['to']], ['nowhere.invalid:5140', `127.0.0.1:${listener.port}`]);
});

test('only an unresolvable upstream: retried with backoff (not hammered), writes stay pending until close', async (t) => {
  let asked = 0;
  const lookup: Lookup = async () => {
    asked++;
    throw Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' });
  };
  const { dest, ctx } = await startSender(t, ['relay.test:5140'], { backoff_min_ms: 50, backoff_max_ms: 400 }, { lookup });
  const pending = dest.write(makeBatches(1, ['p'])[0]!);
  await sleep(700);
  // backoff 25..50, 50..100, 100..200, 200..400 …: at most ~7 tries in 700 ms, at least 3
  assert.ok(asked >= 3 && asked <= 8, `resolved ${asked} times in 700 ms`);
  assert.equal(ctx.counters.get('logship_upstream_down_total'), 1, 'marked down once, not at every retry');
  assert.equal(dest.connected, false);
  await dest.close();
  const o = await pending;
  assert.ok(o.kind === 'retryable' && o.error instanceof LogshipError && o.error.code === 'LS_SHUTDOWN');
});

// ---- failover ---------------------------------------------------------------------------------

test('failover: the preferred upstream dies mid-stream, the next takes over in order; it comes back: failback at a batch boundary without duplicates', async (t) => {
  const got: Received[] = [];
  const a = await startListener(t, recorder(got, 'a'), 0, '127.0.0.1');
  const portA = a.listener.port;
  // B acknowledges 30 ms late: at the failback, batches are in flight on B and must be waited for
  const b = await startListener(t, recorder(got, 'b', 30), 0, '127.0.0.2');
  const labelA = `127.0.0.1:${portA}`;
  const labelB = `127.0.0.2:${b.listener.port}`;
  const { dest, ctx } = await startSender(t, [labelA, labelB], { failback_after_ms: 300, window: 16 });

  // phase 1: A dies while batches flow
  const streams = ['f1', 'f2', 'f3'];
  const off = new Map(streams.map((s) => [s, 0]));
  const phase1 = makeBatches(600, streams, 10, off);
  const writing1 = writeAll(dest, phase1, 15_000);
  await waitFor('100 batches at A', () => got.filter((r) => r.at === 'a').length >= 100);
  await a.listener.stop();
  const r1 = await writing1;
  assert.ok(r1.outcomes.every((o) => o.kind === 'delivered'));
  assert.ok(got.some((r) => r.at === 'b'), 'B took over');
  assertCompleteInOrder(got, phase1);
  assert.deepEqual(dest.openUpstreams(), [labelB]);
  assert.equal(ctx.counters.get('logship_ship_failovers_total'), 1);
  const fo = eventsOf(ctx, 'ship_failover')[0]!;
  assert.deepEqual([fo['from'], fo['to']], [labelA, labelB]);
  assert.ok(eventsOf(ctx, 'upstream_down').some((e) => e['upstream'] === labelA), 'A marked down');

  // phase 2: batches keep flowing (to B) while A comes back; the sender probes A and switches back
  const mark = got.length;
  const phase2 = makeBatches(400, streams, 10, off);
  const writing2 = writePaced(dest, phase2, 2);
  await sleep(150);
  const a2 = await startListener(t, recorder(got, 'a'), portA, '127.0.0.1');
  await writing2;
  assert.equal(ctx.counters.get('logship_ship_failbacks_total'), 1);
  const fb = eventsOf(ctx, 'ship_failback')[0]!;
  assert.deepEqual([fb['from'], fb['to']], [labelB, labelA]);
  assert.ok(eventsOf(ctx, 'upstream_up').some((e) => e['upstream'] === labelA), 'A marked up again');
  assert.deepEqual(dest.openUpstreams(), [labelA]);
  await waitFor('B has no connection left', () => b.listener.connections().length === 0, 5000);
  assert.ok(a2.listener.connections().length === 1);

  const p2 = got.slice(mark);
  const firstAtA = p2.findIndex((r) => r.at === 'a');
  assert.ok(firstAtA > 0, 'phase 2 started on B and moved to A');
  assert.ok(p2.slice(firstAtA).every((r) => r.at === 'a'), 'after the failback everything goes to A');
  assertCompleteInOrder(got, [...phase1, ...phase2]);
  const seen = new Set<string>();
  for (const r of p2) {
    const k = `${r.stream}@${r.offset}`;
    assert.ok(!seen.has(k), `${k} received twice: the failback did not wait for B's acknowledgements`);
    seen.add(k);
  }
  assert.equal(p2.length, phase2.length);
});

test('failback probes a preferred upstream that is still down every failback_after_ms, and stays on the fallback', async (t) => {
  const got: Received[] = [];
  const dead = await deadPort();
  const b = await startListener(t, recorder(got, 'b'), 0, '127.0.0.2');
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${dead}`, `127.0.0.2:${b.listener.port}`], { failback_after_ms: 100 });
  const first = makeBatches(10, ['q']);
  await writeAll(dest, first, 10_000);
  await sleep(650);
  const probes = ctx.counters.get('logship_upstream_probe_failures_total');
  assert.ok(probes >= 2 && probes <= 8, `${probes} probes in 650 ms at one per 100 ms at most`);
  assert.equal(ctx.counters.get('logship_ship_failbacks_total'), 0);
  assert.equal(ctx.counters.get('logship_ship_disconnects_total'), 0, 'the fallback connection is untouched');
  assert.equal(b.listener.connections().length, 1);
  const more = makeBatches(10, ['q'], 10, new Map([['q', first.at(-1)!.endOffset]]));
  await writeAll(dest, more, 10_000);
  assertCompleteInOrder(got, [...first, ...more]);
});

test('a failing single upstream is retried on its own backoff and picked up again when it returns', async (t) => {
  const got: Received[] = [];
  const dead = await deadPort();
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${dead}`], { backoff_min_ms: 20, backoff_max_ms: 100 });
  const batches = makeBatches(20, ['r']);
  const writing = writeAll(dest, batches, 10_000);
  await waitFor('two failed connects', () => ctx.counters.get('logship_ship_connect_failures_total') >= 2);
  await startListener(t, recorder(got), dead, '127.0.0.1');
  const { outcomes } = await writing;
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  assert.equal(ctx.counters.get('logship_upstream_down_total'), 1);
  assert.equal(ctx.counters.get('logship_upstream_up_total'), 1);
  assert.equal(ctx.counters.get('logship_ship_failovers_total'), 0, 'one upstream: nothing to fail over to');
});

// ---- round-robin ------------------------------------------------------------------------------

async function twoUpstreams(t: TestContext, got: Received[]) {
  const a = await startListener(t, recorder(got, 'a'), 0, '127.0.0.1');
  const b = await startListener(t, recorder(got, 'b'), 0, '127.0.0.2');
  return { a, b, labels: [`127.0.0.1:${a.listener.port}`, `127.0.0.2:${b.listener.port}`] };
}

test('round-robin: one connection per upstream; streams are dealt out in turn and each stays on its upstream', async (t) => {
  const got: Received[] = [];
  const { a, b, labels } = await twoUpstreams(t, got);
  const { dest } = await startSender(t, labels, { upstream_policy: 'round-robin' });
  await waitFor('both connected', () => dest.openUpstreams().length === 2);
  const streams = ['s0', 's1', 's2', 's3', 's4', 's5'];
  const batches = makeBatches(600, streams);
  const { outcomes } = await writeAll(dest, batches);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  const where = byStream(got);
  for (const s of streams) assert.equal(where.get(s)!.size, 1, `stream ${s} went to one upstream only`);
  assert.deepEqual(
    streams.map((s) => [...where.get(s)!][0]),
    ['a', 'b', 'a', 'b', 'a', 'b'],
    'dealt out in turn at first sight',
  );
  assert.equal(got.length, 600, 'no duplicates without failures');
  assert.equal(a.listener.connections().length, 1);
  assert.equal(b.listener.connections().length, 1);
});

test("round-robin: an upstream dies: its streams' unacknowledged batches move whole and in order to the other; back up, idle streams go home", async (t) => {
  const got: Received[] = [];
  const { a, labels } = await twoUpstreams(t, got);
  const portA = a.listener.port;
  const { dest, ctx } = await startSender(t, labels, { upstream_policy: 'round-robin', window: 32 });
  await waitFor('both connected', () => dest.openUpstreams().length === 2);
  const streams = ['s0', 's1', 's2', 's3'];
  const off = new Map(streams.map((s) => [s, 0]));
  const batches = makeBatches(1200, streams, 10, off);
  const writing = writeAll(dest, batches, 15_000);
  await waitFor('A received 100 batches', () => got.filter((r) => r.at === 'a').length >= 100);
  await a.listener.stop();
  const { outcomes } = await writing;
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  assert.ok(ctx.counters.get('logship_ship_failovers_total') >= 1);
  const fo = eventsOf(ctx, 'ship_failover').find((e) => e['from'] === labels[0]);
  if (fo !== undefined && fo['streams'] !== undefined) assert.ok((fo['streams'] as number) <= 2, 'only the streams of A moved');
  const where = byStream(got);
  assert.deepEqual([...where.get('s1')!], ['b'], "B's streams never moved");
  assert.deepEqual([...where.get('s3')!], ['b']);
  assert.ok(where.get('s0')!.has('b') && where.get('s2')!.has('b'), "A's streams continued on B");

  // A comes back: its lane reconnects by itself; a stream with nothing in flight goes home again
  await startListener(t, recorder(got, 'a'), portA, '127.0.0.1');
  await waitFor('A connected again', () => dest.openUpstreams().length === 2, 5000);
  assert.ok(ctx.counters.get('logship_upstream_up_total') >= 1);
  const mark = got.length;
  const tail = makeBatches(8, streams, 10, off);
  for (const batch of tail) assert.equal((await dest.write(batch)).kind, 'delivered'); // one at a time: each stream idle
  const after = got.slice(mark);
  assert.deepEqual(
    after.map((r) => `${r.stream}:${r.at}`),
    ['s0:a', 's1:b', 's2:a', 's3:b', 's0:a', 's1:b', 's2:a', 's3:b'],
  );
  assertCompleteInOrder(got, [...batches, ...tail]);
});

test('round-robin: an upstream down from the start; streams whose home it is go to the open one', async (t) => {
  const got: Received[] = [];
  const dead = await deadPort();
  const b = await startListener(t, recorder(got, 'b'), 0, '127.0.0.2');
  const { dest } = await startSender(t, [`127.0.0.1:${dead}`, `127.0.0.2:${b.listener.port}`], { upstream_policy: 'round-robin' });
  await waitFor('B connected', () => dest.openUpstreams().length === 1);
  const batches = makeBatches(200, ['d0', 'd1', 'd2']);
  const { outcomes } = await writeAll(dest, batches, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  assert.ok(got.every((r) => r.at === 'b'));
});

test('round-robin: batches written before any upstream is up wait, then go out when one connects', async (t) => {
  const got: Received[] = [];
  const [p1, p2] = [await deadPort(), await deadPort()];
  const { dest } = await startSender(t, [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`], { upstream_policy: 'round-robin', backoff_max_ms: 100 });
  const batches = makeBatches(40, ['w0', 'w1', 'w2', 'w3']);
  const writing = writeAll(dest, batches, 10_000);
  await sleep(200);
  assert.equal(got.length, 0);
  await startListener(t, recorder(got, 'two'), p2, '127.0.0.1');
  const { outcomes } = await writing;
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
});

test('issue 4: after a failover the first batches of each stream to the new upstream are flagged rerouted; once it acknowledged a stream, its next ones are not', async (t) => {
  const got: Received[] = [];
  // Both listeners call themselves server-1: the path is told apart by the upstream too.
  const a = await startListener(t, recorder(got, 'a'), 0, '127.0.0.1');
  const b = await startListener(t, recorder(got, 'b'), 0, '127.0.0.2');
  const { dest } = await startSender(t, [`127.0.0.1:${a.listener.port}`, `127.0.0.2:${b.listener.port}`], { window: 4, failback_after_ms: 600_000 });
  const streams = ['f1', 'f2'];
  const off = new Map(streams.map((s) => [s, 0]));
  const flags = (at: string, s: string): boolean[] => got.filter((r) => r.at === at && r.stream === s).map((r) => r.rerouted);

  const phase1 = makeBatches(40, streams, 5, off);
  assert.ok((await writeAll(dest, phase1, 10_000)).outcomes.every((o) => o.kind === 'delivered'));
  for (const s of streams) {
    const f = flags('a', s);
    assert.equal(f[0], true, `${s}: the first batch after the start is flagged (the path before is unknown)`);
    assert.deepEqual(f.slice(-10), Array(10).fill(false), `${s}: acknowledged by A, its later batches are not flagged: ${f.join(',')}`);
  }
  await a.listener.stop();
  const phase2 = makeBatches(40, streams, 5, off);
  assert.ok((await writeAll(dest, phase2, 10_000)).outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, [...phase1, ...phase2]);
  for (const s of streams) {
    const f = flags('b', s);
    assert.equal(f[0], true, `${s}: the first batch through B is flagged`);
    assert.deepEqual(f.slice(-10), Array(10).fill(false), `${s}: acknowledged by B, its later batches are not flagged: ${f.join(',')}`);
  }
});

test('issue 4: with a single upstream a stream\'s first batches after the start are not flagged (there was no other way); a later path change still is', async (t) => {
  const got: Received[] = [];
  const a = await startListener(t, recorder(got, 'a'), 0, '127.0.0.1');
  const { dest } = await startSender(t, [`127.0.0.1:${a.listener.port}`], { window: 4 });
  const off = new Map([['f1', 0]]);
  assert.ok((await writeAll(dest, makeBatches(20, ['f1'], 5, off), 10_000)).outcomes.every((o) => o.kind === 'delivered'));
  assert.deepEqual(
    got.map((r) => r.rerouted),
    Array(20).fill(false),
  );
});
