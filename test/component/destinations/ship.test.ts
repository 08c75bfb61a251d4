// Component tests of the ship destination against a real ship listener (and raw protocol servers)
// on loopback: delivery and ack order, resend across a listener restart, backpressure, failover,
// refusal, ack timeout, shutdown.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { LengthPrefixedDeframer } from '../../../src/codec/framing/length-prefixed.js';
import { decodeShipFrame, encodeAck, encodePong, encodeRefused, encodeWelcome, ShipBatchDecoder, type ShipFrame } from '../../../src/codec/ship/index.js';
import { Batch, indexLines } from '../../../src/core/batch.js';
import { LogshipError } from '../../../src/core/errors.js';
import { DELIVERED } from '../../../src/core/outcome.js';
import { shipDestination } from '../../../src/destinations/ship/index.js';
import { shipListenerSource } from '../../../src/sources/ship-listener/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { assertCompleteInOrder, makeBatches, recorder, startListener, startSender, writeAll, type Received } from '../../helpers/ship.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

// ---- helpers ---------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A raw ship server: answers HELLO with `onHello`'s frame, PING with PONG (unless `answerPings` is
 * false), and hands every other frame to `onFrame`.
 */
async function rawServer(
  t: TestContext,
  onHello: (socket: Socket) => void,
  onFrame: (socket: Socket, f: ShipFrame) => void = () => {},
  answerPings = true,
): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const d = new LengthPrefixedDeframer();
    const dec = new ShipBatchDecoder();
    let hello = false;
    socket.on('data', (c: Buffer) => {
      d.push(c);
      for (let raw = d.next(); raw !== null; raw = d.next()) {
        const f = decodeShipFrame(raw, dec);
        if (!hello && f.type === 'hello') {
          hello = true;
          onHello(socket);
        } else if (f.type === 'ping') {
          if (answerPings) socket.write(encodePong(f.seq));
        } else {
          onFrame(socket, f);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

// ---- tests -----------------------------------------------------------------------------------

test('1000 batches over 3 streams are all delivered once, each write resolving only after its ACK, in order per stream', async (t) => {
  const got: Received[] = [];
  const { listener, ctx: lctx } = await startListener(t, recorder(got));
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${listener.port}`]);
  assert.equal(dest.maxInFlight, 64);
  const batches = makeBatches(1000, ['a', 'b', 'c']);
  const { outcomes, order } = await writeAll(dest, batches);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.equal(got.length, 1000, 'exactly once without reconnects');
  assertCompleteInOrder(got, batches);
  for (const s of ['a', 'b', 'c']) {
    const idx = order.filter((i) => batches[i]!.pos.stream === s);
    assert.deepEqual(idx, [...idx].sort((x, y) => x - y), `stream ${s} writes resolve in write order`);
  }
  assert.equal(ctx.counters.get('logship_ship_batches_sent_total'), 1000);
  assert.equal(ctx.counters.get('logship_ship_batches_resent_total'), 0);
  assert.equal(ctx.counters.get('logship_ship_connects_total'), 1);
  assert.ok(ctx.counters.get('logship_ship_bytes_sent_total') > 0);
  assert.equal(lctx.counters.get('logship_listener_batches_total'), 1000);
  assert.equal(dest.pending, 0);
  // the HELLO carried the node name from the ComponentContext
  assert.deepEqual(
    listener.connections().map((c) => c.node),
    ['client-1'],
  );
});

test('a listener stopped and restarted on the same port mid-stream: every batch delivered, none missing, order kept', async (t) => {
  const got: Received[] = [];
  const slowRecorder = async (b: Batch): Promise<void> => {
    got.push({ stream: b.pos.stream, offset: b.pos.offset, end: b.endOffset, data: b.data.toString(), at: 'in', rerouted: b.rerouted });
    setImmediate(() => b.settle(DELIVERED));
    await sleep(1); // a little backpressure so that frames are still queued when the listener stops
  };
  const first = await startListener(t, slowRecorder);
  const port = first.listener.port;
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${port}`], { window: 32 });
  const batches = makeBatches(600, ['x', 'y']);
  const writing = writeAll(dest, batches);
  await waitFor('150 batches received by the first listener', () => got.length >= 150);
  await first.listener.stop();
  const receivedByFirst = got.length;
  await sleep(100); // the sender retries against a closed port meanwhile
  const second = await startListener(t, slowRecorder, port);
  const { outcomes } = await writing;
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.ok(receivedByFirst < 600, 'the restart happened mid-stream');
  assertCompleteInOrder(got, batches);
  assert.ok(ctx.counters.get('logship_ship_connects_total') >= 2);
  assert.ok(ctx.counters.get('logship_ship_disconnects_total') >= 1);
  assert.ok(ctx.counters.get('logship_ship_batches_resent_total') >= 1, 'unacknowledged batches were resent');
  assert.ok(second.ctx.counters.get('logship_listener_batches_total') > 0);
});

test('backpressure: a blocked push stops acks (writes stay pending) and pauses the listener socket with bounded buffering', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const got: Batch[] = [];
  const { listener } = await startListener(t, async (b) => {
    got.push(b);
    await gate;
    b.settle(DELIVERED);
  });
  const window = 8;
  const { dest } = await startSender(t, [`127.0.0.1:${listener.port}`], { window, compression_level: 0 });
  // incompressible 256 KiB batches: 2 MiB on the wire while the listener is stuck on the first
  const batches: Batch[] = [];
  for (let i = 0; i < window; i++) {
    const data = Buffer.concat([randomBytes(256 * 1024 - 1), Buffer.from('\n')]);
    batches.push(new Batch(data, indexLines(data), { host: 'h', program: 'p', facility: 1, severity: 6, timeMs: 0 }, { origin: 'client-1', stream: 's', offset: i * data.length }));
  }
  let resolved = 0;
  const writes = batches.map((b) => dest.write(b).then((o) => (resolved++, o)));
  await waitFor('the listener to pause its socket', () => listener.connections()[0]?.paused === true && got.length === 1);
  await sleep(400);
  const stats = listener.connections()[0]!;
  assert.equal(resolved, 0, 'no write resolves while the upstream cannot take more');
  assert.equal(got.length, 1, 'nothing else is pushed while the push is blocked');
  assert.equal(stats.paused, true);
  assert.ok(stats.bufferedBytes < 512 * 1024, `listener buffers ${stats.bufferedBytes} bytes, bounded well below the 2 MiB sent`);
  release();
  const outcomes = await Promise.all(writes);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.equal(got.length, window);
});

test("a batch over the upstream's max_frame_bytes is rejected (LS_FRAME_OVERSIZE), not resent forever; the stream goes on", async (t) => {
  const got: Received[] = [];
  const ctx = testSourceContext({ stateDir: await tmpDir(t), nodeName: 'server-1', role: 'server', id: 'in' }, recorder(got));
  const listener = shipListenerSource.create(shipListenerSource.options.parse({ type: 'ship-listener', listen: 'tcp:127.0.0.1:0', max_frame_bytes: 4096 }));
  await listener.start(ctx);
  t.after(() => listener.stop());
  const { dest, ctx: sctx } = await startSender(t, [`127.0.0.1:${listener.port}`], { compression_level: 0 });
  const mk = (offset: number, size: number) => {
    const data = Buffer.alloc(size, 0x61);
    data[size - 1] = 0x0a;
    return new Batch(data, indexLines(data), { host: 'h', program: 'p', facility: 1, severity: 6, timeMs: 0 }, { origin: 'client-1', stream: 'big', offset });
  };
  // written before the connection exists (checked at resend) and after (checked at write)
  const early = [dest.write(mk(0, 100)), dest.write(mk(100, 10_000)), dest.write(mk(10_100, 100))];
  const outcomes = await Promise.all(early);
  assert.deepEqual(outcomes.map((o) => o.kind), ['delivered', 'rejected', 'delivered']);
  assert.ok(outcomes[1]!.kind === 'rejected' && (outcomes[1]!.error as LogshipError).code === 'LS_FRAME_OVERSIZE');
  const late = await Promise.all([dest.write(mk(10_200, 10_000)), dest.write(mk(20_200, 100))]);
  assert.deepEqual(late.map((o) => o.kind), ['rejected', 'delivered']);
  assert.equal(sctx.counters.get('logship_ship_connects_total'), 1, 'no reconnect loop');
  assert.deepEqual(got.map((r) => r.offset), [0, 10_100, 20_200]);
});

test('upstream failover: the first address refuses connections, the second one works', async (t) => {
  const got: Received[] = [];
  const { listener } = await startListener(t, recorder(got));
  const dead = await freePort();
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${dead}`, `localhost:${listener.port}`]);
  const batches = makeBatches(20, ['f']);
  const { outcomes } = await writeAll(dest, batches, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assertCompleteInOrder(got, batches);
  assert.ok(ctx.counters.get('logship_ship_connect_failures_total') >= 1);
  assert.equal(ctx.counters.get('logship_ship_connects_total'), 1);
});

test('REFUSED is logged as ship_refused and retried with backoff; writes stay pending, close() resolves them retryable(LS_SHUTDOWN)', async (t) => {
  const raw = await rawServer(t, (socket) => {
    socket.end(encodeRefused({ code: 'LS_SHIP_REFUSED', reason: 'revoked' }));
  });
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${raw.port}`], { backoff_min_ms: 50, backoff_max_ms: 100 });
  const pending = dest.write(makeBatches(1, ['r'])[0]!);
  let settled = false;
  void pending.then(() => (settled = true));
  await waitFor('two refusals', () => ctx.counters.get('logship_ship_refusals_total') >= 2);
  assert.ok(ctx.logs.some((l) => l.level === 'error' && (l.obj as { event?: string }).event === 'ship_refused'));
  assert.equal(settled, false, 'a refused write is not resolved while running');
  await dest.close();
  const o = await pending;
  assert.equal(o.kind, 'retryable');
  assert.ok(o.kind === 'retryable' && o.error instanceof LogshipError && o.error.code === 'LS_SHUTDOWN');
  const after = await dest.write(makeBatches(1, ['r'])[0]!);
  assert.equal(after.kind, 'retryable');
});

test('no ACK within ack_timeout_ms: the sender reconnects and resends; a late ACK then resolves the writes', async (t) => {
  let ackNow = false;
  const seen: number[] = [];
  const raw = await rawServer(
    t,
    (socket) => socket.write(encodeWelcome({ proto: 1, node: 'raw' })),
    (socket, f) => {
      if (f.type === 'batch') {
        seen.push(f.batch.pos.offset);
        if (ackNow) socket.write(encodeAck({ origin: f.batch.pos.origin, stream: f.batch.pos.stream, offset: f.batch.pos.offset + f.batch.data.length }));
      }
    },
  );
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${raw.port}`], { ack_timeout_ms: 300, ping_interval_ms: 100 });
  const batches = makeBatches(3, ['t']);
  const writes = batches.map((b) => dest.write(b));
  await waitFor('a reconnect after the ack timeout', () => raw.connections() >= 2, 5000);
  ackNow = true;
  const outcomes = await Promise.all(writes);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.ok(ctx.counters.get('logship_ship_batches_resent_total') >= 3);
  // resent in the same order as first sent
  assert.deepEqual(seen.slice(0, 3), [batches[0]!.pos.offset, batches[1]!.pos.offset, batches[2]!.pos.offset]);
  assert.deepEqual(seen.slice(3, 6), seen.slice(0, 3));
});

test('an upstream that never answers HELLO times out after connect_timeout_ms and is retried', async (t) => {
  const raw = await rawServer(t, () => {});
  const { dest, ctx } = await startSender(t, [`127.0.0.1:${raw.port}`], { connect_timeout_ms: 150 });
  await waitFor('two handshake timeouts', () => ctx.counters.get('logship_ship_connect_failures_total') >= 2 && raw.connections() >= 2, 5000);
  assert.equal(dest.connected, false);
  assert.equal(ctx.counters.get('logship_ship_connects_total'), 0);
});

test('an idle connection whose upstream stops answering PINGs is replaced after ack_timeout_ms', async (t) => {
  const raw = await rawServer(t, (socket) => socket.write(encodeWelcome({ proto: 1, node: 'raw' })), () => {}, false);
  const { ctx } = await startSender(t, [`127.0.0.1:${raw.port}`], { ack_timeout_ms: 300, ping_interval_ms: 50 });
  await waitFor('a reconnect after silence', () => raw.connections() >= 2, 5000);
  assert.ok(ctx.counters.get('logship_ship_disconnects_total') >= 1);
});

test('an idle connection whose upstream answers PINGs stays up', async (t) => {
  const raw = await rawServer(t, (socket) => socket.write(encodeWelcome({ proto: 1, node: 'raw' })));
  const { dest } = await startSender(t, [`127.0.0.1:${raw.port}`], { ack_timeout_ms: 200, ping_interval_ms: 40 });
  await waitFor('connected', () => dest.connected);
  await sleep(600);
  assert.equal(raw.connections(), 1);
  assert.equal(dest.connected, true);
});

test('options: defaults, window as maxInFlight, bad upstreams rejected at config time', () => {
  const o = shipDestination.options.parse({ type: 'ship', upstreams: ['relay.example:5140'] });
  assert.equal(o.window, 64);
  assert.equal(o.compression_level, 3);
  assert.equal(o.connect_timeout_ms, 5000);
  assert.equal(o.backoff_min_ms, 100);
  assert.equal(o.backoff_max_ms, 10_000);
  assert.equal(o.ack_timeout_ms, 30_000);
  assert.equal(o.ping_interval_ms, 10_000);
  assert.equal(o.upstream_policy, 'failover');
  assert.equal(o.failback_after_ms, 30_000);
  assert.equal(shipDestination.options.parse({ type: 'ship', upstreams: ['a:1', 'b:1'], upstream_policy: 'round-robin' }).upstream_policy, 'round-robin');
  assert.equal(shipDestination.options.safeParse({ type: 'ship', upstreams: ['a:1'], upstream_policy: 'random' }).success, false);
  assert.equal(shipDestination.options.safeParse({ type: 'ship', upstreams: ['a:1'], failback_after_ms: 0 }).success, false);
  const dup = shipDestination.options.safeParse({ type: 'ship', upstreams: ['a:1', 'b:2', 'a:1'] });
  assert.equal(dup.success, false, 'an upstream listed twice is a config error');
  assert.deepEqual(dup.error?.issues[0]?.path, ['upstreams', 2]);
  assert.equal(shipDestination.create(o).maxInFlight, 64);
  for (const bad of [[], ['nohost'], ['h:0'], ['h:70000'], ['::1:5']]) {
    assert.equal(shipDestination.options.safeParse({ type: 'ship', upstreams: bad }).success, false, JSON.stringify(bad));
  }
  assert.equal(shipDestination.options.safeParse({ type: 'ship', upstreams: ['[::1]:5140'] }).success, true);
  assert.equal(shipDestination.options.safeParse({ type: 'ship', upstreams: ['a:1'], extra: 1 }).success, false);
});

test('issue 3: compacted syslog batches keep format, record offsets and end offset end to end; ACKs cover the whole range', async (t) => {
  const { compact } = await import('../../../src/core/batch.js');
  const got: Batch[] = [];
  const { listener } = await startListener(t, (b) => {
    got.push(b);
    setImmediate(() => b.settle(DELIVERED));
  });
  const { dest } = await startSender(t, [`127.0.0.1:${listener.port}`]);
  const sent: Batch[] = [];
  let offset = 0;
  for (let i = 0; i < 20; i++) {
    const text = Array.from({ length: 10 }, (_, j) => `<14>1 2026-11-23T10:33:00Z h app - - - batch ${i} line ${j}\n`).join('');
    const data = Buffer.from(text);
    const whole = new Batch(data, indexLines(data), { host: 'client-1', program: 'app', facility: 1, severity: 6, timeMs: 1, format: 'syslog' }, { origin: 'client-1', stream: 'sys', offset });
    offset += data.length;
    // Keep records 1, 4 and 5 only: the batch's last records are dropped, so its end offset is past its last record.
    const c = compact(whole, Uint8Array.from([0, 1, 0, 0, 1, 1, 0, 0, 0, 0]))!;
    assert.ok(c.endOffset > c.recordOffset(c.count - 1) + (c.ends[c.count - 1]! - c.recordStart(c.count - 1)));
    sent.push(c);
  }
  // Each write resolves only once the listener ACKed its end offset (the sender settles by endOffset <= ACK).
  const { outcomes } = await writeAll(dest, sent, 10_000);
  assert.ok(outcomes.every((o) => o.kind === 'delivered'));
  assert.equal(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) {
    const a = sent[i]!;
    const b = got[i]!;
    assert.equal(b.meta.format, 'syslog');
    assert.equal(b.endOffset, a.endOffset);
    assert.equal(b.data.toString(), a.data.toString());
    for (let k = 0; k < a.count; k++) assert.equal(b.recordOffset(k), a.recordOffset(k));
  }
  assert.equal(dest.pending, 0);
});
