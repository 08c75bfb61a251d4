// Component tests of the ship listener on real loopback sockets, driven by raw protocol peers:
// handshake, ack order, bad peers (one connection lost, never the process), idle, stop, limits.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { encodeRawFrame, frameHeader, LengthPrefixedDeframer } from '../../../src/codec/framing/length-prefixed.js';
import {
  decodeShipFrame,
  encodeHello,
  encodePing,
  FRAME_TYPE,
  ShipBatchDecoder,
  ShipBatchEncoder,
  type ShipFrame,
} from '../../../src/codec/ship/index.js';
import { indexLines, type Batch } from '../../../src/core/batch.js';
import { LogshipError } from '../../../src/core/errors.js';
import { DELIVERED, rejected, retryable } from '../../../src/core/outcome.js';
import { HELLO_MAX_FRAME_BYTES, WRITE_BOUND_BYTES } from '../../../src/sources/ship-listener/conn.js';
import { shipListenerSource, type ShipListener } from '../../../src/sources/ship-listener/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

// ---- helpers ---------------------------------------------------------------------------------

type Ctx = ReturnType<typeof testSourceContext>;

async function startListener(
  t: TestContext,
  onBatch: (b: Batch) => void | Promise<void>,
  opts: Record<string, unknown> = {},
): Promise<{ listener: ShipListener; ctx: Ctx }> {
  const ctx = testSourceContext({ stateDir: await tmpDir(t), nodeName: 'server-1', role: 'server', id: 'in' }, onBatch);
  const listener = shipListenerSource.create(shipListenerSource.options.parse({ type: 'ship-listener', listen: 'tcp:127.0.0.1:0', ...opts }));
  await listener.start(ctx);
  t.after(() => listener.stop());
  return { listener, ctx };
}

/** A protocol peer on a raw socket: writes whatever it is told, decodes what comes back. */
class RawPeer {
  readonly socket: Socket;
  readonly frames: ShipFrame[] = [];
  closed = false;
  private readonly _deframer = new LengthPrefixedDeframer(1 << 20);
  private readonly _decoder = new ShipBatchDecoder(0);
  private _read = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this._deframer.push(c);
      for (let raw = this._deframer.next(); raw !== null; raw = this._deframer.next()) this.frames.push(decodeShipFrame(raw, this._decoder));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async open(t: TestContext, port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    t.after(() => socket.destroy());
    return new RawPeer(socket);
  }

  send(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** The next frame not yet returned. */
  async next(what = 'a frame', timeoutMs = 5000): Promise<ShipFrame> {
    await waitFor(what, () => this.frames.length > this._read || this.closed, timeoutMs);
    const f = this.frames[this._read];
    if (f === undefined) throw new Error(`connection closed while waiting for ${what}`);
    this._read++;
    return f;
  }

  async hello(node = 'client-1'): Promise<void> {
    this.send(encodeHello({ proto: 1, node, role: 'client', version: '1.0.0' }));
    const f = await this.next('WELCOME');
    assert.equal(f.type, 'welcome');
    if (f.type === 'welcome') {
      assert.equal(f.welcome.proto, 1);
      assert.equal(f.welcome.node, 'server-1');
    }
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    return waitFor('the listener to close the connection', () => this.closed, timeoutMs);
  }
}

const encoder = new ShipBatchEncoder({ compressionLevel: 3 });

function batchFrame(stream: string, offset: number, text: string, origin = 'client-1'): Buffer {
  const data = Buffer.from(text);
  return encoder.encode({
    pos: { origin, stream, offset },
    meta: { host: 'web-1', program: 'app', facility: 1, severity: 6, timeMs: 1_700_000_000_000 },
    data,
    ends: indexLines(data),
  });
}

function counter(ctx: Ctx, name: string): number {
  return ctx.counters.get(name);
}

// ---- tests -----------------------------------------------------------------------------------

test('HELLO → WELCOME; a BATCH is pushed with its origin, stream, offset and meta intact, then ACKed', async (t) => {
  const got: Batch[] = [];
  const { listener, ctx } = await startListener(t, (b) => {
    got.push(b);
    b.settle(DELIVERED);
  });
  assert.ok(listener.port > 0);
  const peer = await RawPeer.open(t, listener.port);
  peer.send(encodeHello({ proto: 1, node: 'client-1', role: 'client', version: '1.0.0' }));
  assert.deepEqual(await peer.next('WELCOME'), { type: 'welcome', welcome: { proto: 1, node: 'server-1', maxFrameBytes: 67108864 } });
  peer.send(batchFrame('s1', 1000, 'one\ntwo\n', 'origin-node'));
  const ack = await peer.next('ACK');
  assert.deepEqual(ack, { type: 'ack', ack: { origin: 'origin-node', stream: 's1', offset: 1008 } });
  assert.equal(got.length, 1);
  const b = got[0]!;
  assert.deepEqual(b.pos, { origin: 'origin-node', stream: 's1', offset: 1000 });
  assert.deepEqual(b.meta, { host: 'web-1', program: 'app', facility: 1, severity: 6, timeMs: 1_700_000_000_000 });
  assert.equal(b.data.toString(), 'one\ntwo\n');
  assert.deepEqual([...b.ends], [4, 8]);
  peer.send(encodePing(77));
  assert.deepEqual(await peer.next('PONG'), { type: 'pong', seq: 77 });
  assert.equal(counter(ctx, 'logship_listener_batches_total'), 1);
  assert.equal(counter(ctx, 'logship_source_lines_total'), 2);
  assert.equal(counter(ctx, 'logship_source_bytes_total'), 8);
  assert.equal(counter(ctx, 'logship_listener_connections_total'), 1);
});

test('ACKs are cumulative, per stream, in order, and only cover settled batches (random settle order)', async (t) => {
  const settled = new Set<string>();
  const { listener } = await startListener(t, (b) => {
    setTimeout(() => {
      settled.add(`${b.pos.stream}@${b.endOffset}`);
      b.settle(DELIVERED);
    }, Math.floor(Math.random() * 20));
  });
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello();
  const ends: Record<string, number[]> = { A: [], B: [] };
  const off: Record<string, number> = { A: 0, B: 0 };
  for (let i = 0; i < 200; i++) {
    const s = i % 3 === 0 ? 'B' : 'A';
    const text = `batch ${i} of ${s}\n`.repeat(1 + (i % 4));
    peer.send(batchFrame(s, off[s]!, text));
    off[s]! += text.length;
    ends[s]!.push(off[s]!);
  }
  const last: Record<string, number> = { A: 0, B: 0 };
  while (last.A !== off.A || last.B !== off.B) {
    const f = await peer.next('an ACK');
    assert.equal(f.type, 'ack');
    if (f.type !== 'ack') return;
    const { stream, offset } = f.ack;
    assert.ok(offset > last[stream]!, `ACK offsets grow per stream (${stream}: ${offset} after ${last[stream]})`);
    assert.ok(ends[stream]!.includes(offset), 'an ACK offset is a batch end');
    for (const e of ends[stream]!) if (e <= offset) assert.ok(settled.has(`${stream}@${e}`), `batch ${stream}@${e} settled before ACK ${offset}`);
    last[stream] = offset;
  }
});

test('rejected batches are ACKed; a retryable one is not, and the connection is ended so the peer resends', async (t) => {
  let n = 0;
  const { listener } = await startListener(t, (b) => {
    n++;
    if (n === 1) b.settle(DELIVERED);
    else if (n === 2) b.settle(rejected(new LogshipError('LS_FILE_WRITE', 'test')));
    else if (n === 3) setTimeout(() => b.settle(retryable(new LogshipError('LS_SHUTDOWN', 'test'))), 50);
    else b.settle(DELIVERED);
  });
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello();
  peer.send(batchFrame('s', 0, 'a\n'));
  peer.send(batchFrame('s', 2, 'b\n'));
  peer.send(batchFrame('s', 4, 'c\n'));
  peer.send(batchFrame('s', 6, 'd\n'));
  const acks: number[] = [];
  await peer.waitClosed();
  for (const f of peer.frames) if (f.type === 'ack') acks.push(f.ack.offset);
  assert.equal(acks.at(-1), 4, `acked up to the retryable batch only: ${acks.join(',')}`);
});

test('a protocol version other than 1 gets REFUSED and the connection closes', async (t) => {
  const { listener, ctx } = await startListener(t, (b) => b.settle(DELIVERED));
  const peer = await RawPeer.open(t, listener.port);
  peer.send(encodeRawFrame(FRAME_TYPE.HELLO, Buffer.from(JSON.stringify({ proto: 2, node: 'future' }))));
  const f = await peer.next('REFUSED');
  assert.equal(f.type, 'refused');
  if (f.type === 'refused') assert.equal(f.refused.code, 'LS_SHIP_PROTOCOL');
  await peer.waitClosed();
  assert.equal(counter(ctx, 'logship_listener_peer_errors_total'), 1);
});

test('garbage, oversize and out-of-order frames close that connection only; another keeps working', async (t) => {
  const got: Batch[] = [];
  const { listener, ctx } = await startListener(
    t,
    (b) => {
      got.push(b);
      b.settle(DELIVERED);
    },
    { max_frame_bytes: 4096 },
  );
  const good = await RawPeer.open(t, listener.port);
  await good.hello('good');
  good.send(batchFrame('g', 0, 'before\n'));
  assert.equal((await good.next('first ACK')).type, 'ack');

  // 1. random garbage (decodes as a huge or zero length, or an unknown type)
  const garbage = await RawPeer.open(t, listener.port);
  garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  // 2. a length over max_frame_bytes after a valid HELLO
  const oversize = await RawPeer.open(t, listener.port);
  await oversize.hello('oversize');
  oversize.send(frameHeader(FRAME_TYPE.BATCH, 10 * 1024 * 1024));
  // 3. a BATCH before HELLO
  const early = await RawPeer.open(t, listener.port);
  early.send(batchFrame('e', 0, 'too early\n'));
  // 4. a corrupt BATCH body (truncated zstd payload) after HELLO
  const corrupt = await RawPeer.open(t, listener.port);
  await corrupt.hello('corrupt');
  const frame = batchFrame('c', 0, 'corrupt me\n'.repeat(50));
  const body = frame.subarray(5, frame.length - 3);
  corrupt.send(encodeRawFrame(FRAME_TYPE.BATCH, body));
  // 5. an unknown frame type
  const unknown = await RawPeer.open(t, listener.port);
  await unknown.hello('unknown');
  unknown.send(encodeRawFrame(99, Buffer.from('x')));

  for (const p of [garbage, oversize, early, corrupt, unknown]) assert.ok(await p.waitClosed());
  await waitFor('5 peer errors counted', () => counter(ctx, 'logship_listener_peer_errors_total') === 5);

  good.send(batchFrame('g', 7, 'after\n'));
  assert.deepEqual(await good.next('second ACK'), { type: 'ack', ack: { origin: 'client-1', stream: 'g', offset: 13 } });
  assert.equal(good.closed, false);
  assert.deepEqual(
    got.map((b) => b.data.toString()),
    ['before\n', 'after\n'],
  );
});

test('a connection that sends no frame for idle_timeout_ms is closed; one that PINGs stays', async (t) => {
  const { listener } = await startListener(t, (b) => b.settle(DELIVERED), { idle_timeout_ms: 200 });
  const quiet = await RawPeer.open(t, listener.port);
  await quiet.hello('quiet');
  // The quiet peer's idle time runs from its HELLO, not from when the chatty one is ready.
  const started = Date.now();
  const chatty = await RawPeer.open(t, listener.port);
  await chatty.hello('chatty');
  const timer = setInterval(() => chatty.send(encodePing(1)), 40);
  t.after(() => clearInterval(timer));
  await quiet.waitClosed(3000);
  assert.ok(Date.now() - started >= 150, 'not closed before the idle timeout');
  await sleep(300);
  assert.equal(chatty.closed, false);
  clearInterval(timer);
});

test('stop() waits for in-flight batches to settle and sends their ACKs before closing', async (t) => {
  const got: Batch[] = [];
  const { listener } = await startListener(t, (b) => {
    got.push(b);
    setTimeout(() => b.settle(DELIVERED), 300);
  });
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello();
  for (let i = 0; i < 5; i++) peer.send(batchFrame('s', i * 2, `${i}\n`));
  await waitFor('5 batches pushed', () => got.length === 5);
  const started = Date.now();
  await listener.stop();
  assert.ok(Date.now() - started < 5000, 'stop is bounded');
  await peer.waitClosed();
  const acks = peer.frames.filter((f) => f.type === 'ack');
  assert.ok(acks.length >= 1);
  const last = acks.at(-1)!;
  assert.equal(last.type === 'ack' ? last.ack.offset : -1, 10);
});

test('connections beyond max_connections are refused and counted', async (t) => {
  const { listener, ctx } = await startListener(t, (b) => b.settle(DELIVERED), { max_connections: 2 });
  const a = await RawPeer.open(t, listener.port);
  const b = await RawPeer.open(t, listener.port);
  await a.hello('a');
  await b.hello('b');
  const c = await RawPeer.open(t, listener.port);
  assert.ok(await c.waitClosed());
  assert.equal(counter(ctx, 'logship_listener_connections_refused_total'), 1);
  assert.equal(a.closed || b.closed, false);
});

test('a push that blocks pauses the socket; frames already buffered wait their turn', async (t) => {
  const got: Batch[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const { listener } = await startListener(t, async (b) => {
    got.push(b);
    b.settle(DELIVERED);
    if (got.length === 1) await gate;
  });
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello();
  for (let i = 0; i < 20; i++) peer.send(batchFrame('s', i * 3, `${String(i).padStart(2, '0')}\n`));
  await waitFor('the listener to pause', () => listener.connections()[0]?.paused === true && got.length === 1);
  await sleep(200);
  assert.equal(got.length, 1, 'no batch pushed while the first push is pending');
  release();
  await waitFor('all 20 batches', () => got.length === 20);
  assert.deepEqual(
    got.map((b) => b.pos.offset),
    Array.from({ length: 20 }, (_, i) => i * 3),
  );
  await waitFor('reading resumed', () => listener.connections()[0]?.paused === false);
});

/**
 * Writes PINGs as fast as the socket takes them, never reading: up to `maxBytes`, or until the
 * listener says it stopped reading (`stalled`) and nothing drained for 500 ms since. Bounded by 20 s.
 * Returns the bytes written.
 */
async function pingFlood(peer: RawPeer, maxBytes: number, stalled: () => boolean): Promise<number> {
  const ping = encodePing(1);
  const burst = Buffer.concat(Array.from({ length: 8192 }, () => ping));
  const deadline = Date.now() + 20_000;
  let sent = 0;
  while (sent < maxBytes && !peer.closed && Date.now() < deadline) {
    sent += burst.length;
    if (peer.socket.write(burst)) continue;
    let drained = false;
    const onDrain = (): void => {
      drained = true;
    };
    peer.socket.once('drain', onDrain);
    let stalledAt = 0;
    while (!drained && !peer.closed && Date.now() < deadline) {
      await sleep(20);
      if (stalledAt === 0 && stalled()) stalledAt = Date.now();
      if (stalledAt !== 0 && Date.now() - stalledAt > 500) break;
    }
    peer.socket.off('drain', onDrain);
    if (!drained) break;
  }
  return sent;
}

test('review pong-flood: a peer that PINGs and never reads stops being read; unread PONGs stay bounded; it is closed after idle_timeout_ms', async (t) => {
  const { listener, ctx } = await startListener(t, (b) => b.settle(DELIVERED), { idle_timeout_ms: 1500 });
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello('evil');
  peer.socket.pause(); // never read again
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, listener.connections()[0]?.queuedBytes ?? 0);
  }, 2);
  t.after(() => clearInterval(sampler));
  // 40 MB of PINGs is 40 MB of PONGs; kernel buffers hold a few MB of them at most.
  const sent = await pingFlood(peer, 40 * 1024 * 1024, () => listener.connections()[0]?.stalled === true);
  const conn = listener.connections()[0];
  assert.ok(conn !== undefined, 'still connected while stalled');
  assert.equal(conn.stalled, true);
  assert.equal(conn.paused, true);
  assert.ok(sent < 40 * 1024 * 1024, `the listener read all ${sent} bytes`);
  clearInterval(sampler);
  peak = Math.max(peak, conn.queuedBytes);
  assert.ok(peak <= WRITE_BOUND_BYTES + 64, `unread PONGs peaked at ${peak} bytes`);
  // Closed once it has kept them unread for idle_timeout_ms.
  const stalledAt = Date.now();
  assert.ok(await peer.waitClosed(5000));
  assert.ok(Date.now() - stalledAt >= 1000, 'not closed before idle_timeout_ms');
  await waitFor('connection closed', () => listener.connections().length === 0);
  const closed = ctx.logs.find((l) => (l.obj as { event?: string }).event === 'listener_connection_closed');
  assert.equal((closed?.obj as { err?: { code?: string } } | undefined)?.err?.code, 'LS_SHIP_DISCONNECTED');
});

test('review pong-flood: a stalled peer that reads again is read again; every PING gets its PONG', async (t) => {
  const { listener } = await startListener(t, (b) => b.settle(DELIVERED));
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello('slow');
  peer.socket.pause();
  const sent = await pingFlood(peer, 24 * 1024 * 1024, () => listener.connections()[0]?.stalled === true);
  assert.equal(listener.connections()[0]?.stalled, true);
  const pings = sent / encodePing(1).length;
  peer.socket.resume();
  await waitFor(`${pings} PONGs`, () => peer.frames.length >= pings + 1, 30_000, 50);
  assert.equal(peer.frames.length, pings + 1); // + WELCOME
  assert.ok(peer.frames.slice(1).every((f) => f.type === 'pong'));
  await waitFor('reading resumed', () => listener.connections()[0]?.stalled === false && listener.connections()[0]?.paused === false);
  // And the connection still works.
  peer.send(batchFrame('s', 0, 'after the flood\n'));
  await waitFor('ACK after the flood', () => peer.frames.length === pings + 2);
  assert.deepEqual(peer.frames.at(-1), { type: 'ack', ack: { origin: 'client-1', stream: 's', offset: 16 } });
});

test('review pong-flood: before HELLO a frame over 64 KiB closes the connection at once (LS_FRAME_OVERSIZE); after HELLO max_frame_bytes applies', async (t) => {
  const got: Batch[] = [];
  const { listener, ctx } = await startListener(t, (b) => {
    got.push(b);
    b.settle(DELIVERED);
  });
  // A HELLO header announcing 64 MiB, and a trickle of its body: nothing more is buffered.
  const big = await RawPeer.open(t, listener.port);
  big.send(frameHeader(FRAME_TYPE.HELLO, 64 * 1024 * 1024 - 1));
  big.send(Buffer.alloc(1024, 0x7b));
  assert.ok(await big.waitClosed(2000));
  await waitFor('the peer error', () => counter(ctx, 'logship_listener_peer_errors_total') === 1);
  const err = ctx.logs.find((l) => (l.obj as { event?: string }).event === 'listener_peer_error');
  assert.equal((err?.obj as { err?: { code?: string } } | undefined)?.err?.code, 'LS_FRAME_OVERSIZE');
  // Just at the bound is not oversize (it is not a valid HELLO either).
  const edge = await RawPeer.open(t, listener.port);
  edge.send(encodeRawFrame(FRAME_TYPE.HELLO, Buffer.alloc(HELLO_MAX_FRAME_BYTES - 1, 0x20)));
  assert.ok(await edge.waitClosed(2000));
  await waitFor('the second peer error', () => counter(ctx, 'logship_listener_peer_errors_total') === 2);
  const errs = ctx.logs.filter((l) => (l.obj as { event?: string }).event === 'listener_peer_error');
  assert.notEqual((errs[1]?.obj as { err?: { code?: string } } | undefined)?.err?.code, 'LS_FRAME_OVERSIZE');
  // After HELLO, a batch frame far over 64 KiB is taken.
  const peer = await RawPeer.open(t, listener.port);
  await peer.hello();
  // Random hex: zstd cannot shrink it below 64 KiB.
  const text = Array.from({ length: 1000 }, () => `${randomBytes(500).toString('hex').slice(0, 999)}\n`).join('');
  const frame = batchFrame('s', 0, text);
  assert.ok(frame.length > 4 * HELLO_MAX_FRAME_BYTES, `frame of ${frame.length} bytes`);
  peer.send(frame);
  assert.equal((await peer.next('ACK of a 1 MB batch')).type, 'ack');
  assert.equal(got[0]?.data.length, 1_000_000);
});

test('listen rejects non-tcp addresses at config time and bind errors at start', async (t) => {
  const bad = shipListenerSource.options.safeParse({ type: 'ship-listener', listen: 'udp:0.0.0.0:514' });
  assert.equal(bad.success, false);
  const { listener } = await startListener(t, (b) => b.settle(DELIVERED));
  const clash = shipListenerSource.create(shipListenerSource.options.parse({ type: 'ship-listener', listen: `tcp:127.0.0.1:${listener.port}` }));
  const ctx = testSourceContext({ stateDir: await tmpDir(t) }, () => {});
  await assert.rejects(clash.start(ctx), (e: unknown) => e instanceof LogshipError && e.code === 'LS_STARTUP');
});
