// One connection of the ship destination to an upstream: HELLO/WELCOME handshake, reading ACKs,
// PING keepalive and the ack/silence watchdog. The sender (sender.ts) owns the retry loop and the
// in-flight queue; this file owns one socket and never throws from its event handlers.

import type { Socket } from 'node:net';
import { LengthPrefixedDeframer } from '../../codec/framing/length-prefixed.js';
import {
  decodeShipFrame,
  encodeHello,
  encodePing,
  encodePong,
  PROTOCOL_VERSION,
  type Ack,
  type Hello,
  type ShipBatchDecoder,
  type ShipFrame,
  type Welcome,
} from '../../codec/ship/index.js';
import { LogshipError } from '../../core/errors.js';
import type { Upstream } from '../../transport/upstream.js';

export interface ConnectionOptions {
  /** Bound of frames from the upstream (only small control frames are expected). */
  readonly maxFrameBytes: number;
  readonly ackTimeoutMs: number;
  readonly pingIntervalMs: number;
}

export interface ConnectionHooks {
  /** An ACK arrived; returns how many batches it settled. */
  onAck(ack: Ack): number;
  /** Batches sent and not yet acknowledged. */
  outstanding(): number;
}

// handshake → (WELCOME) welcomed → (sender resent the backlog: open()) open → closed.
// Only an open connection takes new batches, so nothing overtakes the resent backlog.
// open → retired (failback: no new batches, ACKs still read) → end() → closed.
type State = 'handshake' | 'welcomed' | 'open' | 'retired' | 'closed';

/** How long end() waits for the upstream to close its side before destroying the socket. */
const END_GRACE_MS = 2000;

export class UpstreamConnection {
  readonly upstream: Upstream;
  /** The upstream's frame bound from WELCOME (unbounded when it did not say). */
  peerMaxFrameBytes: number;
  /** Resolves with the reason once the socket is closed. */
  readonly closed: Promise<Error>;
  private readonly _socket: Socket;
  private readonly _opts: ConnectionOptions;
  private readonly _hooks: ConnectionHooks;
  private readonly _decoder: ShipBatchDecoder;
  private readonly _deframer: LengthPrefixedDeframer;
  private _state: State;
  private _reason: Error | null;
  private _welcome: { resolve: (w: Welcome) => void; reject: (e: Error) => void } | null;
  private _timer: NodeJS.Timeout | null;
  private _lastPingAt: number;
  private _pingSeq: number;
  /** Time since which an unanswered PING (or any silence after it) is waiting; 0 when answered. */
  private _silentSince: number;
  /** Time since which batches are outstanding without ack progress; 0 when none are outstanding. */
  private _stalledSince: number;

  constructor(socket: Socket, upstream: Upstream, opts: ConnectionOptions, hooks: ConnectionHooks, decoder: ShipBatchDecoder) {
    this.upstream = upstream;
    this.peerMaxFrameBytes = Number.POSITIVE_INFINITY;
    this._socket = socket;
    this._opts = opts;
    this._hooks = hooks;
    this._decoder = decoder;
    this._deframer = new LengthPrefixedDeframer(opts.maxFrameBytes);
    this._state = 'handshake';
    this._reason = null;
    this._welcome = null;
    this._timer = null;
    this._lastPingAt = 0;
    this._pingSeq = 0;
    this._silentSince = 0;
    this._stalledSince = 0;
    this.closed = new Promise<Error>((resolve) => {
      socket.once('close', () => {
        this._state = 'closed';
        if (this._timer !== null) clearInterval(this._timer);
        this._timer = null;
        const reason = this._reason ?? new LogshipError('LS_SHIP_DISCONNECTED', `upstream ${upstream.label} closed the connection`);
        this._welcome?.reject(reason);
        this._welcome = null;
        this._deframer.reset();
        resolve(reason);
      });
    });
    socket.on('error', (err) => {
      this._reason ??= new LogshipError('LS_SHIP_DISCONNECTED', `connection to ${upstream.label} failed: ${err.message}`, { cause: err });
    });
    socket.on('data', (chunk: Buffer) => this._onData(chunk));
  }

  get isOpen(): boolean {
    return this._state === 'open' && !this._socket.destroyed;
  }

  /** Send HELLO and wait for WELCOME. Rejects with LS_SHIP_REFUSED, LS_SHIP_PROTOCOL or LS_SHIP_DISCONNECTED (the socket is then destroyed). */
  handshake(hello: Hello, timeoutMs: number): Promise<Welcome> {
    const p = new Promise<Welcome>((resolve, reject) => {
      this._welcome = { resolve, reject };
    });
    const timer = setTimeout(() => {
      this.destroy(new LogshipError('LS_SHIP_DISCONNECTED', `upstream ${this.upstream.label} sent no WELCOME within ${timeoutMs} ms (connect_timeout_ms)`));
    }, timeoutMs);
    this._socket.write(encodeHello(hello));
    return p.finally(() => clearTimeout(timer));
  }

  /** After WELCOME: write the backlog (unacknowledged batches, in order), then take new batches. Returns how many were written. */
  open(backlog: Iterable<Buffer>): number {
    if (this._state !== 'welcomed' || this._socket.destroyed) return 0;
    let n = 0;
    for (const frame of backlog) {
      this._write(frame);
      n++;
    }
    this._state = 'open';
    this._startTimer();
    return n;
  }

  /** True when the upstream accepts a frame of this many bytes (header included). */
  fits(frame: Buffer): boolean {
    return frame.length - 4 <= this.peerMaxFrameBytes;
  }

  /** Write one encoded frame; false when the connection is not open (the frame will be resent later). */
  send(frame: Buffer): boolean {
    if (!this.isOpen) return false;
    this._write(frame);
    return true;
  }

  private _write(frame: Buffer): void {
    if (this._stalledSince === 0) this._stalledSince = Date.now();
    this._socket.write(frame);
  }

  destroy(reason: Error): void {
    this._reason ??= reason;
    this._socket.destroy();
  }

  /**
   * Take no more batches, but keep reading the ACKs of those already sent (a failback is moving
   * to another upstream and waits for them). The watchdog stops: the sender bounds that wait.
   */
  retire(): void {
    if (this._state === 'open' || this._state === 'welcomed') this._state = 'retired';
  }

  /** Close politely (FIN after the written frames); destroyed if the upstream has not closed within a grace period. */
  end(reason: Error): void {
    this._reason ??= reason;
    if (this._socket.destroyed) return;
    this._socket.end();
    const timer = setTimeout(() => this._socket.destroy(), END_GRACE_MS);
    timer.unref();
    this._socket.once('close', () => clearTimeout(timer));
  }

  private _onData(chunk: Buffer): void {
    if (this._state === 'closed') return;
    try {
      this._deframer.push(chunk);
      for (let raw = this._deframer.next(); raw !== null; raw = this._deframer.next()) {
        this._silentSince = 0;
        this._handle(decodeShipFrame(raw, this._decoder));
        if (this._socket.destroyed) return;
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err)));
    }
  }

  private _handle(f: ShipFrame): void {
    if (this._state === 'handshake') {
      if (f.type === 'welcome') {
        if (f.welcome.proto !== PROTOCOL_VERSION) {
          throw new LogshipError('LS_SHIP_PROTOCOL', `upstream ${this.upstream.label} speaks ship protocol ${f.welcome.proto}, this node speaks ${PROTOCOL_VERSION}`);
        }
        this._state = 'welcomed';
        if (f.welcome.maxFrameBytes !== undefined) this.peerMaxFrameBytes = f.welcome.maxFrameBytes;
        const w = this._welcome;
        this._welcome = null;
        w?.resolve(f.welcome);
        return;
      }
      if (f.type === 'refused') {
        throw new LogshipError('LS_SHIP_REFUSED', `upstream ${this.upstream.label} refused this node: ${f.refused.code}: ${f.refused.reason}`);
      }
      throw new LogshipError('LS_SHIP_PROTOCOL', `upstream ${this.upstream.label} sent ${f.type.toUpperCase()} before WELCOME`);
    }
    switch (f.type) {
      case 'ack':
        if (this._hooks.onAck(f.ack) > 0) this._stalledSince = this._hooks.outstanding() > 0 ? Date.now() : 0;
        return;
      case 'pong':
        return;
      case 'ping':
        this._socket.write(encodePong(f.seq));
        return;
      case 'refused':
        throw new LogshipError('LS_SHIP_REFUSED', `upstream ${this.upstream.label} refused this node: ${f.refused.code}: ${f.refused.reason}`);
      default:
        throw new LogshipError('LS_SHIP_PROTOCOL', `upstream ${this.upstream.label} sent an unexpected ${f.type.toUpperCase()} frame`);
    }
  }

  private _startTimer(): void {
    const { ackTimeoutMs, pingIntervalMs } = this._opts;
    const tick = Math.max(5, Math.min(pingIntervalMs, Math.floor(ackTimeoutMs / 4)));
    this._lastPingAt = Date.now();
    this._timer = setInterval(() => this._onTick(), tick);
    this._timer.unref();
  }

  private _onTick(): void {
    if (!this.isOpen) return;
    const now = Date.now();
    const { ackTimeoutMs, pingIntervalMs } = this._opts;
    if (this._hooks.outstanding() === 0) {
      this._stalledSince = 0;
    } else if (this._stalledSince === 0) {
      this._stalledSince = now;
    } else if (now - this._stalledSince >= ackTimeoutMs) {
      this.destroy(new LogshipError('LS_SHIP_DISCONNECTED', `no acknowledgement from ${this.upstream.label} for ${now - this._stalledSince} ms (ack_timeout_ms); reconnecting`));
      return;
    }
    if (this._silentSince !== 0 && now - this._silentSince >= ackTimeoutMs) {
      this.destroy(new LogshipError('LS_SHIP_DISCONNECTED', `upstream ${this.upstream.label} silent for ${now - this._silentSince} ms (ack_timeout_ms); reconnecting`));
      return;
    }
    if (now - this._lastPingAt >= pingIntervalMs) {
      this._lastPingAt = now;
      if (this._silentSince === 0) this._silentSince = now;
      this._socket.write(encodePing(this._pingSeq++));
    }
  }
}
