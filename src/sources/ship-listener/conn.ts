// One peer connection of the ship listener: HELLO → WELCOME, then BATCH → push → ACK (in order,
// per stream), PING → PONG. The socket is paused while a batch is being pushed (backpressure),
// and while more than WRITE_BOUND_BYTES of our frames wait for the peer to read them: a peer that
// PINGs (or sends batches) and never reads gets nothing more read until 'drain', and is closed
// once that lasts idle_timeout_ms. Until HELLO is accepted a frame may be at most
// HELLO_MAX_FRAME_BYTES, so an unknown peer cannot make us buffer max_frame_bytes.
// A bad frame costs this connection only; nothing here throws out of an event handler.
//
//   'data' ─► deframer ─► _process(): pause socket; for each whole frame: (wait for 'drain' while
//                          stalled) decode, handle (BATCH: await ctx.push(batch)); resume socket
//                          when the buffer is empty
//   batch.settled ─► StreamAcks.settle ─► ACK frame (cumulative per stream)
//   _send(frame) ─► socket.write; writableLength > WRITE_BOUND_BYTES → stalled: pause reading

import type { Socket } from 'node:net';
import { LengthPrefixedDeframer } from '../../codec/framing/length-prefixed.js';
import { MAX_CONTROL_BODY_BYTES } from '../../codec/ship/control.js';
import {
  decodeShipFrame,
  encodeAck,
  encodePong,
  encodeRefused,
  encodeWelcome,
  FRAME_TYPE,
  PROTOCOL_VERSION,
  type DecodedBatch,
  type Hello,
  type ShipBatchDecoder,
  type ShipFrame,
} from '../../codec/ship/index.js';
import { Batch } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcome.js';
import { streamKey } from '../../core/stream.js';
import { remoteOf } from '../../transport/tcp.js';
import { withDeadline } from '../../util/deadline.js';
import { StreamAcks, type AckSlot } from './acks.js';

/** Our frames the peer has not read yet above which we stop reading from it (until 'drain'). */
export const WRITE_BOUND_BYTES = 1024 * 1024;
/** Bound of a frame before HELLO is accepted: the largest control frame (HELLO is one). */
export const HELLO_MAX_FRAME_BYTES = MAX_CONTROL_BODY_BYTES + 1;

export interface PeerDeps {
  readonly ctx: SourceContext;
  readonly decoder: ShipBatchDecoder;
  readonly maxFrameBytes: number;
  readonly onClosed: (conn: PeerConnection) => void;
}

export interface PeerStats {
  readonly remote: string;
  /** The peer's node name from HELLO, or null before it. */
  readonly node: string | null;
  /** True while reading is paused (a push is waiting for room, or shutting down). */
  readonly paused: boolean;
  /** Bytes received and not yet processed (deframer + socket read buffer). */
  readonly bufferedBytes: number;
  /** Batches pushed and not yet settled. */
  readonly unsettled: number;
  /** Bytes of our frames (ACK, PONG…) written and not yet taken by the peer's TCP stack. */
  readonly queuedBytes: number;
  /** True while reading is stopped because the peer does not read (queuedBytes > WRITE_BOUND_BYTES). */
  readonly stalled: boolean;
}

// hello: waiting for HELLO; ready: after WELCOME; draining: shutting down or refused (input is
// discarded, acks still go out); closed: socket gone.
type State = 'hello' | 'ready' | 'draining' | 'closed';

export class PeerConnection {
  readonly remote: string;
  /** Time of the last frame received, or of the last time reading resumed (for idle_timeout_ms). */
  lastFrameAt: number;
  private readonly _socket: Socket;
  private readonly _deps: PeerDeps;
  private readonly _deframer: LengthPrefixedDeframer;
  private readonly _acks: StreamAcks;
  private _state: State;
  private _peer: Hello | null;
  private _busy: boolean;
  private _reason: Error | null;
  private _waiters: (() => void)[];
  /** Since when the peer leaves more than WRITE_BOUND_BYTES unread (ms since epoch), or null. */
  private _stalledSince: number | null;
  private _drainWaiters: (() => void)[];
  private _closed: Promise<void>;

  constructor(socket: Socket, deps: PeerDeps) {
    this.remote = remoteOf(socket);
    this.lastFrameAt = Date.now();
    this._socket = socket;
    this._deps = deps;
    this._deframer = new LengthPrefixedDeframer(Math.min(deps.maxFrameBytes, HELLO_MAX_FRAME_BYTES));
    this._acks = new StreamAcks();
    this._state = 'hello';
    this._peer = null;
    this._busy = false;
    this._reason = null;
    this._waiters = [];
    this._stalledSince = null;
    this._drainWaiters = [];
    this._closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this._state = 'closed';
        this._deframer.reset();
        this._onDrain();
        const fields: Record<string, unknown> = { remote: this.remote, node: this._peer?.node ?? null };
        if (this._reason !== null) fields.err = this._reason;
        deps.ctx.telemetry.emit('listener_connection_closed', fields);
        this._wake();
        deps.onClosed(this);
        resolve();
      });
    });
    socket.on('error', (err) => {
      this._reason ??= err;
    });
    socket.on('data', (chunk: Buffer) => this._onData(chunk));
    socket.on('drain', () => this._onDrain());
    deps.ctx.telemetry.emit('listener_connection_opened', { remote: this.remote });
  }

  /** True while frames are being processed (reading paused by us, not idle). */
  get busy(): boolean {
    return this._busy;
  }

  get stats(): PeerStats {
    return {
      remote: this.remote,
      node: this._peer?.node ?? null,
      paused: this._socket.isPaused(),
      bufferedBytes: this._deframer.bufferedBytes + this._socket.readableLength,
      unsettled: this._acks.unsettled,
      queuedBytes: this._socket.writableLength,
      stalled: this._stalledSince !== null,
    };
  }

  /**
   * The idle sweep: closes a connection that sent nothing for `idleMs` while we were reading, or
   * that has kept more than WRITE_BOUND_BYTES of our frames unread for `idleMs`.
   */
  sweep(now: number, idleMs: number): void {
    if (this._state === 'closed') return;
    if (this._stalledSince !== null) {
      // Reading stays stopped until 'drain'; the clock restarts while the peer is catching up.
      if (this._socket.writableLength <= WRITE_BOUND_BYTES) this._stalledSince = now;
      if (now - this._stalledSince < idleMs) return;
      this._reason ??= new LogshipError(
        'LS_SHIP_DISCONNECTED',
        `peer ${this.remote} left ${this._socket.writableLength} bytes of our frames unread for ${idleMs} ms (idle_timeout_ms)`,
      );
      this._socket.destroy();
      return;
    }
    if (this._busy || now - this.lastFrameAt < idleMs) return;
    this._reason ??= new LogshipError('LS_SHIP_DISCONNECTED', `peer ${this.remote} sent no frame for ${idleMs} ms (idle_timeout_ms)`);
    this._socket.destroy();
  }

  /**
   * Stop reading, wait until `deadline` (ms since epoch) for the batches already pushed to settle
   * and their acks to go out, then close the socket.
   */
  async shutdown(deadline: number): Promise<void> {
    if (this._state === 'closed') return;
    this._state = 'draining';
    this._socket.pause();
    await this._waitSettled(deadline);
    if (!this._isClosed()) {
      // end() sends the acks still queued, then FIN; reading (and discarding) on until the peer
      // closes avoids a reset that could drop them.
      this._socket.end();
      this._socket.resume();
      await withDeadline(this._closed, deadline);
      this._socket.destroy();
    }
  }

  private _onData(chunk: Buffer): void {
    if (this._state === 'draining' || this._state === 'closed') return; // discarded: the peer resends
    this._deframer.push(chunk);
    if (this._busy) return;
    this._busy = true;
    this._socket.pause();
    void this._process();
  }

  /** Handle every whole frame buffered, one at a time; resume reading when none is left. Never rejects. */
  private async _process(): Promise<void> {
    try {
      for (;;) {
        if (this._state === 'draining' || this._state === 'closed') return;
        if (this._stalledSince !== null) {
          // The peer does not read what we send: take nothing more from it until it does.
          await new Promise<void>((resolve) => this._drainWaiters.push(resolve));
          continue;
        }
        const raw = this._deframer.next();
        if (raw === null) break;
        this.lastFrameAt = Date.now();
        if (this._state === 'hello' && raw.type !== FRAME_TYPE.HELLO) {
          throw new LogshipError('LS_SHIP_PROTOCOL', `peer ${this.remote} sent frame type ${raw.type} before HELLO`);
        }
        const f = decodeShipFrame(raw, this._deps.decoder);
        if (f.type === 'batch') await this._onBatch(f.batch);
        else this._onControl(f);
      }
    } catch (err) {
      this._fail(
        this._state === 'hello' && err instanceof LogshipError && err.code === 'LS_FRAME_OVERSIZE'
          ? new LogshipError('LS_FRAME_OVERSIZE', `peer ${this.remote} sent a frame over ${HELLO_MAX_FRAME_BYTES} bytes before HELLO`, { cause: err })
          : err,
      );
      return;
    } finally {
      this._busy = false;
    }
    this._resumeReading();
  }

  /** Reading goes on unless a frame is being handled, the peer is stalled, or we are ending. */
  private _resumeReading(): void {
    if (this._busy || this._stalledSince !== null) return;
    if (this._state === 'hello' || this._state === 'ready') {
      this.lastFrameAt = Date.now();
      this._socket.resume();
    }
  }

  /** Writes one frame; past WRITE_BOUND_BYTES unread, stops reading from the peer until 'drain'. */
  private _send(frame: Buffer): void {
    if (this._socket.destroyed || !this._socket.writable) return;
    this._socket.write(frame);
    if (this._stalledSince === null && this._socket.writableLength > WRITE_BOUND_BYTES) {
      this._stalledSince = Date.now();
      // Draining or closed: the socket reads on (and discards) so that the peer can close.
      if (this._state === 'hello' || this._state === 'ready') this._socket.pause();
    }
  }

  /** 'drain' (everything written was taken) or 'close': wake the frame loop, resume reading. */
  private _onDrain(): void {
    if (this._stalledSince === null) return;
    this._stalledSince = null;
    const w = this._drainWaiters;
    this._drainWaiters = [];
    for (const fn of w) fn();
    this._resumeReading();
  }

  private _onControl(f: Exclude<ShipFrame, { type: 'batch' }>): void {
    if (this._state === 'hello') {
      if (f.type !== 'hello') throw new LogshipError('LS_SHIP_PROTOCOL', `peer ${this.remote} sent ${f.type.toUpperCase()} before HELLO`);
      if (f.hello === null) {
        const err = new LogshipError('LS_SHIP_PROTOCOL', `peer ${this.remote} speaks ship protocol ${f.proto}; this node speaks ${PROTOCOL_VERSION}`);
        this._deps.ctx.telemetry.emit('listener_peer_error', { remote: this.remote, err });
        this._send(encodeRefused({ code: 'LS_SHIP_PROTOCOL', reason: `protocol version ${f.proto} is not supported; this node speaks ${PROTOCOL_VERSION}` }));
        this._reason = err;
        this._endGracefully();
        return;
      }
      this._peer = f.hello;
      this._state = 'ready';
      this._deframer.setMaxFrameBytes(this._deps.maxFrameBytes);
      this._send(encodeWelcome({ proto: PROTOCOL_VERSION, node: this._deps.ctx.node.name, maxFrameBytes: this._deps.maxFrameBytes }));
      return;
    }
    switch (f.type) {
      case 'ping':
        this._send(encodePong(f.seq));
        return;
      case 'pong':
        return;
      default:
        throw new LogshipError('LS_SHIP_PROTOCOL', `peer ${this.remote} sent an unexpected ${f.type.toUpperCase()} frame`);
    }
  }

  private async _onBatch(b: DecodedBatch): Promise<void> {
    if (this._state !== 'ready') throw new LogshipError('LS_SHIP_PROTOCOL', `peer ${this.remote} sent BATCH before HELLO`);
    // extras: a compacted batch keeps its record offsets and end offset, so the ACK below (and the
    // server's dedupe) cover the whole range the sender accounted for, dropped records included.
    const batch = new Batch(b.data, b.ends, b.meta, b.pos, b.extras);
    const slot = this._acks.track(streamKey(b.pos.origin, b.pos.stream), b.pos.origin, b.pos.stream, batch.endOffset);
    void batch.settled.then((o) => this._onSettled(slot, o));
    const t = this._deps.ctx.telemetry;
    t.emit('listener_batches', {}, 1);
    t.emit('source_batches', {}, 1);
    t.emit('source_lines', {}, b.ends.length);
    t.emit('source_bytes', {}, b.data.length);
    try {
      await this._deps.ctx.push(batch);
    } catch (err) {
      // The router refused the batch (it is stopping): no ack; the peer resends it.
      this._acks.settle(slot, false);
      this._reason ??= err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err));
      this._endGracefully();
    }
  }

  private _onSettled(slot: AckSlot, o: Outcome): void {
    try {
      // delivered and rejected are final (rejected lines are counted by the pipeline); retryable
      // only happens on shutdown: no ack, the peer sends the batch again.
      const ack = this._acks.settle(slot, o.kind !== 'retryable');
      if (ack !== null) this._send(encodeAck(ack));
      if (o.kind === 'retryable' && (this._state === 'ready' || this._state === 'hello')) {
        // The stream cannot be acked past this batch on this connection: make the peer reconnect.
        this._reason ??= o.error;
        this._endGracefully();
      }
      if (this._acks.unsettled === 0) this._wake();
    } catch (err) {
      this._reason ??= err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err));
      this._socket.destroy();
    }
  }

  /** Bad input or protocol violation: count it, log it (rate-limited), drop this connection only. */
  private _fail(err: unknown): void {
    const e = err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err));
    this._reason ??= e;
    if (this._state !== 'closed') {
      this._deps.ctx.telemetry.emit('listener_peer_error', { remote: this.remote, node: this._peer?.node ?? null, err: e });
    }
    this._socket.destroy();
  }

  /** Stop taking frames; send what is queued, then FIN. The idle sweep bounds a peer that never closes. */
  private _endGracefully(): void {
    if (this._state === 'closed') return;
    this._state = 'draining';
    this._socket.end();
    this._socket.resume();
  }

  /** A method, so that TypeScript does not keep a narrowing of _state across an await. */
  private _isClosed(): boolean {
    return this._state === 'closed';
  }

  private _wake(): void {
    const w = this._waiters;
    this._waiters = [];
    for (const fn of w) fn();
  }

  private _waitSettled(deadline: number): Promise<void> {
    if (this._acks.unsettled === 0 || this._state === 'closed') return Promise.resolve();
    return withDeadline(
      new Promise<void>((resolve) => {
        this._waiters.push(resolve);
      }),
      deadline,
    );
  }
}
