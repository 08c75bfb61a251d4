// The ship destination: sends batches to an upstream relay/server and resolves each write only
// when the upstream acknowledged it. Owns the reconnect loop (failover, backoff), the in-flight
// queue (resent in order on every new connection) and one zstd compressor. See docs/protocol.md.

import { DEFAULT_MAX_FRAME_BYTES } from '../../codec/framing/length-prefixed.js';
import { PROTOCOL_VERSION, ShipBatchDecoder, ShipBatchEncoder, type Ack, type Hello } from '../../codec/ship/index.js';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { DELIVERED, rejected, retryable, type Outcome } from '../../core/outcome.js';
import { streamKey } from '../../core/stream.js';
import { parseHostPort } from '../../transport/listener.js';
import { connectTcp } from '../../transport/tcp.js';
import { sleepUnlessAborted, upstream, UpstreamRotation, type Upstream } from '../../transport/upstream.js';
import { UpstreamConnection } from './connection.js';
import { InflightQueue } from './inflight.js';
import type { ShipOptions } from './options.js';

type State = 'new' | 'running' | 'closed';

/** The upstream sends only ACK, PONG and small JSON control frames. */
const UPSTREAM_MAX_FRAME_BYTES = 1 << 20;

export class ShipSender implements Destination {
  readonly maxInFlight: number;
  private readonly _opts: ShipOptions;
  private readonly _encoder: ShipBatchEncoder;
  private readonly _decoder: ShipBatchDecoder;
  private readonly _queue: InflightQueue;
  private readonly _rotation: UpstreamRotation;
  private readonly _abort: AbortController;
  private _state: State;
  private _ctx: ComponentContext | null;
  private _conn: UpstreamConnection | null;
  private _loop: Promise<void> | null;

  constructor(opts: ShipOptions) {
    this._opts = opts;
    this.maxInFlight = opts.window;
    this._encoder = new ShipBatchEncoder({ compressionLevel: opts.compression_level, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    // The upstream only sends small control frames; a big one is a broken peer.
    this._decoder = new ShipBatchDecoder(0);
    this._queue = new InflightQueue();
    const ups: Upstream[] = opts.upstreams.map((s) => {
      const hp = parseHostPort(s, false);
      if (!hp.ok) throw new LogshipError('LS_CONFIG_INVALID', `ship destination: upstream ${hp.error}`);
      return upstream(hp.value.host, hp.value.port);
    });
    this._rotation = new UpstreamRotation(ups, { backoffMinMs: opts.backoff_min_ms, backoffMaxMs: opts.backoff_max_ms });
    this._abort = new AbortController();
    this._state = 'new';
    this._ctx = null;
    this._conn = null;
    this._loop = null;
  }

  /** True while a connection is established (WELCOME received). */
  get connected(): boolean {
    return this._conn?.isOpen === true;
  }

  /** Batches written and not yet acknowledged. */
  get pending(): number {
    return this._queue.size;
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'ship destination started twice');
    this._ctx = ctx;
    this._state = 'running';
    // Connecting is lazy: an upstream that is down must not stop this node from starting.
    this._loop = this._run();
  }

  write(batch: Batch): Promise<Outcome> {
    if (this._state === 'closed') return Promise.resolve(retryable(shutdownError()));
    let frame: Buffer;
    try {
      frame = this._encoder.encode(batch);
    } catch (err) {
      // The batch can never be sent (too big, ids too long): retrying would not help.
      return Promise.resolve(rejected(err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err))));
    }
    const { entry, settled } = this._queue.add(streamKey(batch.pos.origin, batch.pos.stream), batch.endOffset, frame);
    const conn = this._conn;
    if (conn !== null && conn.isOpen) {
      if (!conn.fits(frame)) {
        this._queue.settleOne(entry, rejected(tooBigFor(conn, frame)));
      } else if (conn.send(frame)) {
        entry.sends++;
        this._countSent(frame.length, 1, 0);
      }
    }
    return settled;
  }

  /** Writes resolve only once acknowledged, so there is nothing buffered to push out. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this._abort.abort();
    this._conn?.destroy(shutdownError());
    await this._loop;
    this._queue.settleAll(retryable(shutdownError()));
  }

  private _onAck(ack: Ack): number {
    return this._queue.ack(streamKey(ack.origin, ack.stream), ack.offset, DELIVERED);
  }

  private _countSent(bytes: number, batches: number, resent: number): void {
    const t = this._ctx?.telemetry;
    if (t === undefined) return;
    t.emit('ship_batches_sent', {}, batches);
    t.emit('ship_bytes_sent', {}, bytes);
    if (resent > 0) t.emit('ship_batches_resent', {}, resent);
  }

  private _hello(ctx: ComponentContext): Hello {
    return {
      proto: PROTOCOL_VERSION,
      node: ctx.node.name,
      role: ctx.node.role,
      version: ctx.node.version,
      ...(this._opts.labels === undefined ? {} : { labels: this._opts.labels }),
      ...(this._opts.token === undefined ? {} : { token: this._opts.token }),
    };
  }

  /** The connection loop: connect → handshake → resend → wait for loss → back off → again. */
  private async _run(): Promise<void> {
    const ctx = this._ctx!;
    const signal = this._abort.signal;
    const hooks = { onAck: (a: Ack) => this._onAck(a), outstanding: () => this._queue.size };
    const connOpts = { maxFrameBytes: UPSTREAM_MAX_FRAME_BYTES, ackTimeoutMs: this._opts.ack_timeout_ms, pingIntervalMs: this._opts.ping_interval_ms };
    while (this._state === 'running') {
      const up = this._rotation.current();
      let conn: UpstreamConnection;
      let peer: string;
      try {
        const socket = await connectTcp(up.host, up.port, { timeoutMs: this._opts.connect_timeout_ms, signal });
        conn = new UpstreamConnection(socket, up, connOpts, hooks, this._decoder);
        if (this._state !== 'running') {
          conn.destroy(shutdownError());
          break;
        }
        this._conn = conn;
        peer = (await conn.handshake(this._hello(ctx), this._opts.connect_timeout_ms)).node;
      } catch (err) {
        this._conn = null;
        if (this._state !== 'running') break;
        const e = err instanceof LogshipError ? err : new LogshipError('LS_SHIP_DISCONNECTED', String(err), { cause: err });
        if (e.code === 'LS_SHIP_REFUSED') ctx.telemetry.emit('ship_refused', { upstream: up.label, err: e });
        else ctx.telemetry.emit('ship_connect_failed', { upstream: up.label, err: e });
        await sleepUnlessAborted(this._rotation.failed(), signal);
        continue;
      }
      this._rotation.connected(Date.now());
      ctx.telemetry.emit('ship_connected', { upstream: up.label, peer, pending: this._queue.size });
      this._resend(conn);
      const reason = await conn.closed;
      this._conn = null;
      if (this._state !== 'running') break;
      if (reason instanceof LogshipError && reason.code === 'LS_SHIP_REFUSED') {
        ctx.telemetry.emit('ship_refused', { upstream: up.label, err: reason });
      } else {
        ctx.telemetry.emit('ship_disconnected', { upstream: up.label, err: reason, pending: this._queue.size });
      }
      await sleepUnlessAborted(this._rotation.lost(Date.now()), signal);
    }
  }

  /**
   * Send every unacknowledged batch, in write order, then open the connection to new ones.
   * A batch over the upstream's frame bound would close the connection again and again: it is
   * rejected instead (the pipeline reports the lost lines).
   */
  private _resend(conn: UpstreamConnection): void {
    let bytes = 0;
    let resent = 0;
    const queue = this._queue;
    function* backlog(): IterableIterator<Buffer> {
      for (const e of queue.unsettled()) {
        if (!conn.fits(e.frame)) {
          queue.settleOne(e, rejected(tooBigFor(conn, e.frame)));
          continue;
        }
        if (e.sends > 0) resent++;
        e.sends++;
        bytes += e.frame.length;
        yield e.frame;
      }
    }
    const batches = conn.open(backlog());
    if (batches > 0) this._countSent(bytes, batches, resent);
  }
}

function tooBigFor(conn: UpstreamConnection, frame: Buffer): LogshipError {
  return new LogshipError(
    'LS_FRAME_OVERSIZE',
    `batch frame of ${frame.length - 4} bytes exceeds max_frame_bytes (${conn.peerMaxFrameBytes}) of upstream ${conn.upstream.label}; raise it there or make the source's batches smaller`,
  );
}

function shutdownError(): LogshipError {
  return new LogshipError('LS_SHUTDOWN', 'ship destination is shutting down; the batch will be sent again after restart');
}
