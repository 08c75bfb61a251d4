// The ship destination: sends batches to upstream relays/servers and resolves each write only
// when an upstream acknowledged it. Owns one lane per upstream (health, in-flight queue,
// connection), the policy loop(s) and one zstd compressor. See docs/protocol.md §8.
//
//   failover:     one loop. connect to the first usable upstream → all batches live in its lane;
//                 lost → that upstream is down for its own backoff → next usable one (batches
//                 move, resent in order); on a fallback, every failback_after_ms probe the
//                 preferred ones: one answers → drain the old connection's ACKs → switch.
//   round-robin:  one loop per lane, each connecting on its own backoff. A stream is written to
//                 the lane holding its unacknowledged batches, else to its home (StreamSpread)
//                 when open, else to the next open lane. A lost lane's batches move, per stream
//                 and in order, to the open lanes.

import { DEFAULT_MAX_FRAME_BYTES } from '../../codec/framing/length-prefixed.js';
import { markRerouted, PROTOCOL_VERSION, ShipBatchDecoder, ShipBatchEncoder, type Ack, type Hello } from '../../codec/ship/index.js';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { DELIVERED, rejected, retryable, type Outcome } from '../../core/outcome.js';
import { streamKey } from '../../core/stream.js';
import { parseHostPort } from '../../transport/listener.js';
import {
  dialUpstream,
  firstUsable,
  sleepUnlessAborted,
  systemLookup,
  untilNextUsable,
  upstream,
  UpstreamHealth,
  type Lookup,
  type Upstream,
} from '../../transport/upstream.js';
import { UpstreamConnection, type ConnectionHooks, type ConnectionOptions } from './connection.js';
import { InflightQueue, type Pending } from './inflight.js';
import type { ShipOptions } from './options.js';
import { StreamSpread } from './spread.js';

type State = 'new' | 'running' | 'closed';

/** The upstream sends only ACK, PONG and small JSON control frames. */
const UPSTREAM_MAX_FRAME_BYTES = 1 << 20;

/** What tests (and embedders) may replace. */
export interface ShipInternals {
  /** Name resolution, asked on every connect; default dns.promises.lookup with all: true. */
  readonly lookup?: Lookup;
}

/** One upstream: its health, the unacknowledged batches assigned to it, its open connection. */
interface Lane {
  readonly index: number;
  readonly upstream: Upstream;
  readonly health: UpstreamHealth;
  readonly queue: InflightQueue;
  /** Set while a connection is open (WELCOME received, backlog resent). */
  conn: UpstreamConnection | null;
  /** The path of the open connection: the upstream's index and its peer's node name (from WELCOME). */
  peer: string;
}

/** Streams whose last acknowledging peer is remembered (the least recently acked are forgotten). */
const MAX_REMEMBERED_STREAMS = 65_536;

interface Dialled {
  readonly conn: UpstreamConnection;
  readonly peer: string;
  readonly address: string;
}

export class ShipSender implements Destination {
  readonly maxInFlight: number;
  private readonly _opts: ShipOptions;
  private readonly _lookup: Lookup;
  private readonly _encoder: ShipBatchEncoder;
  private readonly _decoder: ShipBatchDecoder;
  private readonly _connOpts: ConnectionOptions;
  private readonly _lanes: readonly Lane[];
  /** round-robin only: the home upstream of each stream. */
  private readonly _spread: StreamSpread | null;
  /** failover only: the lane holding every unacknowledged batch (the active or last active upstream). */
  private _home: number;
  /** Every socket this sender has open (closed on shutdown). */
  private readonly _conns: Set<UpstreamConnection>;
  private readonly _abort: AbortController;
  private _state: State;
  private _ctx: ComponentContext | null;
  private _loops: Promise<void>[];
  /** Wakes the failover loop's nap when a connection closes. */
  private _wake: (() => void) | null;
  /** Called after every ACK that settled something (a failback waits for its old connection's ACKs). */
  private _onProgress: (() => void) | null;
  /**
   * Per stream, the path (upstream and peer node name) that acknowledged its latest batch. A batch
   * sent another way is flagged rerouted: the previous peer (a relay) may still hold acknowledged batches of
   * the stream that the server has not seen, and the server must wait for them (docs/protocol.md §4).
   * A stream not in the map (new, forgotten, or after a restart) is flagged too, with several upstreams.
   */
  private readonly _ackedBy = new Map<string, string>();

  constructor(opts: ShipOptions, internals: ShipInternals = {}) {
    this._opts = opts;
    this._lookup = internals.lookup ?? systemLookup;
    this.maxInFlight = opts.window;
    this._encoder = new ShipBatchEncoder({ compressionLevel: opts.compression_level, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    // The upstream only sends small control frames; a big one is a broken peer.
    this._decoder = new ShipBatchDecoder(0);
    this._connOpts = { maxFrameBytes: UPSTREAM_MAX_FRAME_BYTES, ackTimeoutMs: opts.ack_timeout_ms, pingIntervalMs: opts.ping_interval_ms };
    const backoff = { backoffMinMs: opts.backoff_min_ms, backoffMaxMs: opts.backoff_max_ms };
    this._lanes = opts.upstreams.map((s, index) => {
      const hp = parseHostPort(s, false);
      if (!hp.ok) throw new LogshipError('LS_CONFIG_INVALID', `ship destination: upstream ${hp.error}`);
      const up = upstream(hp.value.host, hp.value.port);
      return { index, upstream: up, health: new UpstreamHealth(up, backoff), queue: new InflightQueue(), conn: null, peer: '' };
    });
    this._spread = opts.upstream_policy === 'round-robin' ? new StreamSpread(this._lanes.length) : null;
    this._home = 0;
    this._conns = new Set();
    this._abort = new AbortController();
    this._state = 'new';
    this._ctx = null;
    this._loops = [];
    this._wake = null;
    this._onProgress = null;
  }

  /** True while at least one connection is established (WELCOME received). */
  get connected(): boolean {
    return this._lanes.some((l) => l.conn?.isOpen === true);
  }

  /** Batches written and not yet acknowledged. */
  get pending(): number {
    let n = 0;
    for (const l of this._lanes) n += l.queue.size;
    return n;
  }

  /** "host:port" of every upstream with an open connection, in list order (for status and tests). */
  openUpstreams(): string[] {
    return this._lanes.filter((l) => l.conn?.isOpen === true).map((l) => l.upstream.label);
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'ship destination started twice');
    this._ctx = ctx;
    this._state = 'running';
    // Connecting is lazy: an upstream that is down must not stop this node from starting.
    this._loops = this._spread === null ? [this._runFailover()] : this._lanes.map((l) => this._runLane(l));
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
    const key = streamKey(batch.pos.origin, batch.pos.stream);
    const lane = this._laneFor(key);
    const { entry, settled } = lane.queue.add(key, batch.endOffset, frame);
    if (lane.conn !== null && lane.conn.isOpen) this._sendOne(lane, entry);
    return settled;
  }

  /** Writes resolve only once acknowledged, so there is nothing buffered to push out. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this._abort.abort();
    for (const c of this._conns) c.destroy(shutdownError());
    await Promise.all(this._loops);
    for (const l of this._lanes) l.queue.settleAll(retryable(shutdownError()));
  }

  // ---- lanes and connections ---------------------------------------------------------------

  private _laneFor(key: string): Lane {
    if (this._spread === null) return this._lanes[this._home]!;
    // Sticky while anything of the stream is unacknowledged: one stream, one connection, in order.
    for (const l of this._lanes) if (l.queue.has(key)) return l;
    const home = this._spread.home(key);
    const n = this._lanes.length;
    for (let k = 0; k < n; k++) {
      const l = this._lanes[(home + k) % n]!;
      if (l.conn?.isOpen === true) return l;
    }
    return this._lanes[home]!; // nothing open: it waits at home; the first lane to connect adopts it
  }

  /** Send one queued entry on the lane's open connection (or reject it when it can never fit). */
  private _sendOne(lane: Lane, entry: Pending): void {
    const conn = lane.conn!;
    if (!conn.fits(entry.frame)) {
      lane.queue.settleOne(entry, rejected(tooBigFor(conn, entry.frame)));
      return;
    }
    this._flagPath(lane, entry);
    if (conn.send(entry.frame)) {
      const resent = entry.sends > 0 ? 1 : 0;
      entry.sends++;
      this._countSent(entry.frame.length, 1, resent);
    }
  }

  private _hooks(lane: Lane): ConnectionHooks {
    return {
      onAck: (a: Ack) => {
        const key = streamKey(a.origin, a.stream);
        const n = lane.queue.ack(key, a.offset, DELIVERED);
        if (n > 0) {
          this._rememberPeer(key, lane.peer);
          this._onProgress?.();
        }
        return n;
      },
      outstanding: () => lane.queue.size,
    };
  }

  /**
   * Resolve, connect and handshake. On failure: the upstream is marked down with its backoff,
   * the reason is logged, and the result is null.
   */
  private async _dial(lane: Lane, probe = false): Promise<Dialled | null> {
    const ctx = this._ctx!;
    const up = lane.upstream;
    const timeoutMs = this._opts.connect_timeout_ms;
    try {
      const { socket, address } = await dialUpstream(up, { timeoutMs, signal: this._abort.signal, lookup: this._lookup });
      const conn = new UpstreamConnection(socket, up, this._connOpts, this._hooks(lane), this._decoder);
      this._conns.add(conn);
      void conn.closed.then(() => {
        this._conns.delete(conn);
        this._wake?.();
      });
      if (this._state !== 'running') {
        conn.destroy(shutdownError());
        return null;
      }
      const welcome = await conn.handshake(this._hello(ctx), timeoutMs);
      if (lane.health.connected(Date.now())) ctx.telemetry.emit('upstream_up', { upstream: up.label, address });
      return { conn, peer: welcome.node, address };
    } catch (err) {
      if (this._state !== 'running') return null;
      const e = err instanceof LogshipError ? err : new LogshipError('LS_SHIP_DISCONNECTED', String(err), { cause: err });
      const now = Date.now();
      if (lane.health.failed(now)) ctx.telemetry.emit('upstream_down', { upstream: up.label, err: e, retry_in_ms: lane.health.retryAt - now });
      if (e.code === 'LS_SHIP_REFUSED') ctx.telemetry.emit('ship_refused', { upstream: up.label, err: e });
      else if (probe) ctx.telemetry.emit('upstream_probe_failed', { upstream: up.label, err: e });
      else ctx.telemetry.emit('ship_connect_failed', { upstream: up.label, err: e });
      return null;
    }
  }

  /** Make the lane's connection the one it sends on: resend its backlog in order, then take new batches. */
  private _open(lane: Lane, d: Dialled): void {
    lane.conn = d.conn;
    lane.peer = `${lane.index}\u0000${d.peer}`;
    this._ctx!.telemetry.emit('ship_connected', { upstream: lane.upstream.label, address: d.address, peer: d.peer, pending: lane.queue.size });
    this._resend(lane, d.conn);
  }

  /** The lane's open connection closed: log why, mark the upstream down for its backoff. */
  private _lost(lane: Lane, conn: UpstreamConnection, reason: Error): void {
    if (lane.conn === conn) lane.conn = null;
    const t = this._ctx!.telemetry;
    const label = lane.upstream.label;
    if (reason instanceof LogshipError && reason.code === 'LS_SHIP_REFUSED') t.emit('ship_refused', { upstream: label, err: reason });
    else t.emit('ship_disconnected', { upstream: label, err: reason, pending: lane.queue.size });
    const now = Date.now();
    if (lane.health.lost(now)) t.emit('upstream_down', { upstream: label, err: reason, retry_in_ms: lane.health.retryAt - now });
  }

  /** Move every unacknowledged batch of `from` to `to`, in write order. Returns how many. */
  private _moveAll(from: Lane, to: Lane): number {
    const entries = from.queue.takeAll();
    for (const e of entries) to.queue.adopt(e);
    return entries.length;
  }

  /**
   * Send every unacknowledged batch, in write order, then open the connection to new ones.
   * A batch over the upstream's frame bound would close the connection again and again: it is
   * rejected instead (the pipeline reports the lost lines).
   */
  private _resend(lane: Lane, conn: UpstreamConnection): void {
    let bytes = 0;
    let resent = 0;
    const queue = lane.queue;
    const flag = (e: Pending): void => this._flagPath(lane, e);
    function* backlog(): IterableIterator<Buffer> {
      for (const e of queue.unsettled()) {
        if (!conn.fits(e.frame)) {
          queue.settleOne(e, rejected(tooBigFor(conn, e.frame)));
          continue;
        }
        flag(e);
        if (e.sends > 0) resent++;
        e.sends++;
        bytes += e.frame.length;
        yield e.frame;
      }
    }
    const batches = conn.open(backlog());
    if (batches > 0) this._countSent(bytes, batches, resent);
  }

  /**
   * Flags the batch rerouted unless the lane's path acknowledged the stream's latest batch. A stream
   * with no known path (new, forgotten, or after this sender's start) is flagged only when there are
   * several upstreams: with one, there was no other way for earlier batches to go.
   */
  private _flagPath(lane: Lane, entry: Pending): void {
    const last = this._ackedBy.get(entry.key);
    if (last === undefined ? this._lanes.length > 1 : last !== lane.peer) markRerouted(entry.frame);
  }

  private _rememberPeer(key: string, peer: string): void {
    const m = this._ackedBy;
    if (m.get(key) === peer) return;
    m.delete(key);
    m.set(key, peer);
    if (m.size > MAX_REMEMBERED_STREAMS) m.delete(m.keys().next().value!);
  }

  // ---- failover ----------------------------------------------------------------------------

  /** One connection at a time, to the first usable upstream; failback to preferred ones by probing. */
  private async _runFailover(): Promise<void> {
    const signal = this._abort.signal;
    const healths = this._lanes.map((l) => l.health);
    let last = -1; // the lane of the previous connection
    while (this._state === 'running') {
      const i = firstUsable(healths, Date.now());
      if (i === -1) {
        await sleepUnlessAborted(untilNextUsable(healths, Date.now()), signal);
        continue;
      }
      const d = await this._dial(this._lanes[i]!);
      if (d === null) continue;
      if (this._state !== 'running') {
        d.conn.destroy(shutdownError());
        return;
      }
      this._activate(i, d);
      if (i !== last && (last !== -1 || i > 0)) {
        const from = this._lanes[last === -1 ? 0 : last]!.upstream.label;
        this._ctx!.telemetry.emit('ship_failover', { from, to: this._lanes[i]!.upstream.label, pending: this._lanes[i]!.queue.size });
      }
      last = await this._stayConnected(i, d.conn);
    }
  }

  /** All batches to lane i, which sends on its new connection. */
  private _activate(i: number, d: Dialled): void {
    const lane = this._lanes[i]!;
    if (this._home !== i) {
      this._moveAll(this._lanes[this._home]!, lane);
      this._home = i;
    }
    this._open(lane, d);
  }

  /**
   * While connected: wait for the connection's loss; on a fallback upstream, probe the preferred
   * ones every failback_after_ms and switch to the first that answers. Returns the lane that was
   * connected last (its connection is lost, or the sender is closing).
   */
  private async _stayConnected(at: number, active: UpstreamConnection): Promise<number> {
    const every = this._opts.failback_after_ms;
    let probeAt = Date.now() + every;
    for (;;) {
      if (this._state !== 'running') return at;
      if (!active.isOpen) {
        this._lost(this._lanes[at]!, active, await active.closed);
        return at;
      }
      if (at > 0 && Date.now() >= probeAt) {
        const p = await this._probe(at);
        probeAt = Date.now() + every;
        if (p !== null) {
          if (this._state !== 'running') {
            p.d.conn.destroy(shutdownError());
            return at;
          }
          if (active.isOpen) await this._retire(this._lanes[at]!, active);
          if (this._state !== 'running') {
            p.d.conn.destroy(shutdownError());
            return at;
          }
          if (this._lanes[at]!.conn === active) this._lost(this._lanes[at]!, active, await active.closed);
          this._activate(p.index, p.d);
          this._ctx!.telemetry.emit('ship_failback', { from: this._lanes[at]!.upstream.label, to: this._lanes[p.index]!.upstream.label, pending: this._lanes[p.index]!.queue.size });
          at = p.index;
          active = p.d.conn;
        }
        continue;
      }
      await this._nap(at > 0 ? probeAt - Date.now() : Number.POSITIVE_INFINITY);
    }
  }

  /** Connect and handshake with the usable upstreams preferred over `below`, in order; the first that answers. */
  private async _probe(below: number): Promise<{ index: number; d: Dialled } | null> {
    for (let j = 0; j < below && this._state === 'running'; j++) {
      if (!this._lanes[j]!.health.usable(Date.now())) continue;
      const d = await this._dial(this._lanes[j]!, true);
      if (d !== null) return { index: j, d };
    }
    return null;
  }

  /**
   * Stop sending on the old connection (a batch boundary: new batches wait in its lane) and wait,
   * at most ack_timeout_ms, for the ACKs of what it already carries; then close it. Whatever is
   * still unacknowledged is resent on the new connection (the server drops duplicates).
   */
  private async _retire(lane: Lane, conn: UpstreamConnection): Promise<void> {
    conn.retire();
    const sent = [...lane.queue.unsettled()];
    if (sent.some((e) => !e.done)) {
      await new Promise<void>((resolve) => {
        const signal = this._abort.signal;
        let finished = false;
        const done = (): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this._onProgress = null;
          resolve();
        };
        const timer = setTimeout(done, this._opts.ack_timeout_ms);
        signal.addEventListener('abort', done, { once: true });
        this._onProgress = () => {
          if (sent.every((e) => e.done)) done();
        };
        void conn.closed.then(done);
        if (signal.aborted) done();
      });
    }
    if (lane.conn === conn) lane.conn = null;
    conn.end(new LogshipError('LS_SHIP_DISCONNECTED', `left upstream ${lane.upstream.label} for a preferred one (failback)`));
  }

  /** Sleep until ms pass, the sender closes, or any connection closes. */
  private _nap(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this._abort.signal;
      if (signal.aborted || ms <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this._wake === done) this._wake = null;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this._wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  // ---- round-robin -------------------------------------------------------------------------

  /** One lane of round-robin spreading: connect on its own backoff, adopt orphans, hand off on loss. */
  private async _runLane(lane: Lane): Promise<void> {
    const signal = this._abort.signal;
    while (this._state === 'running') {
      const now = Date.now();
      if (!lane.health.usable(now)) {
        await sleepUnlessAborted(lane.health.retryAt - now, signal);
        continue;
      }
      const d = await this._dial(lane);
      if (d === null) continue;
      if (this._state !== 'running') {
        d.conn.destroy(shutdownError());
        return;
      }
      this._adoptOrphans(lane);
      this._open(lane, d);
      const reason = await d.conn.closed;
      if (this._state !== 'running') return;
      this._lost(lane, d.conn, reason);
      this._handOff(lane);
    }
  }

  /** Batches waiting in lanes without a connection (none was open when they were written or lost) come here. */
  private _adoptOrphans(lane: Lane): void {
    for (const l of this._lanes) {
      if (l === lane || l.conn?.isOpen === true || l.queue.size === 0) continue;
      const moved = this._moveAll(l, lane);
      this._ctx!.telemetry.emit('ship_failover', { from: l.upstream.label, to: lane.upstream.label, pending: moved });
    }
  }

  /** A lost lane's unacknowledged batches go to the open lanes, each stream whole to one of them, in order. */
  private _handOff(lane: Lane): void {
    if (lane.queue.size === 0) return;
    const open = this._lanes.filter((l) => l !== lane && l.conn?.isOpen === true);
    if (open.length === 0) return; // they wait here; the first lane to connect adopts them
    const entries = lane.queue.takeAll();
    const target = new Map<string, Lane>();
    let next = 0;
    for (const e of entries) {
      let t = target.get(e.key);
      if (t === undefined) {
        t = open[next++ % open.length]!;
        target.set(e.key, t);
      }
      t.queue.adopt(e);
      this._sendOne(t, e);
    }
    const to = [...new Set(target.values())].map((l) => l.upstream.label).join(',');
    this._ctx!.telemetry.emit('ship_failover', { from: lane.upstream.label, to, pending: entries.length, streams: target.size });
  }

  // ---- telemetry and HELLO -----------------------------------------------------------------

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
