// One syslog stream connection (plain TCP or TLS): detect the framing from the first byte, deframe,
// hand records to this connection's SyslogFlow, pause the socket while the router has no room.
// A broken framing costs this connection only; nothing here throws out of an event handler.
//
//   'data' ─► deframer.push ─► _pump(): flow.addFrom (each record, until the backlog bound)
//                               backlog ≥ bound? pause socket; flow.flush() resolves → resume, _pump()
//   'end'/'close' ─► the rest of what was received (whole records, then the unterminated last
//                    message) ─► flow.close() (flushes)
//
// Framing (RFC 6587), decided per connection by its first byte:
//   '1'..'9' → octet counting (§3.4.1); a frame that then starts with a non-digit is read up to
//              LF (§3.4.2), as rsyslog's imtcp does, so senders that mix are served.
//   otherwise → non-transparent LF framing (§3.4.2) for the whole connection: a later message
//              that begins with digits (a PRI-less "12:00:01 …" line) is text, not a count.

import type { Socket } from 'node:net';
import { NewlineDeframer, type RecordDeframer } from '../../codec/framing/newline.js';
import { OctetCountingDeframer } from '../../codec/framing/octet-counting.js';
import type { SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { remoteOf } from '../../transport/tcp.js';
import { peerHost, SYSLOG_BATCH_BYTES, SyslogFlow } from './flow.js';
import type { SyslogMessageSettings } from './options.js';

export type Framing = 'octet-counting' | 'newline';

/** A connection pauses its socket while this many bytes it received wait for the router. */
export const CONN_BACKLOG_BYTES = SYSLOG_BATCH_BYTES;

export interface ConnDeps {
  readonly ctx: SourceContext;
  readonly message: SyslogMessageSettings;
  /** Called once, when the socket is closed; `flushed` resolves when its records are pushed. */
  readonly onClosed: (conn: SyslogConnection, flushed: Promise<void>) => void;
}

export interface ConnStats {
  readonly remote: string;
  readonly framing: Framing | null;
  /** True while reading is paused because the router has no room. */
  readonly paused: boolean;
  /** Bytes received and not yet taken by the router (deframer + batcher + pushes in flight). */
  readonly bufferedBytes: number;
}

type State = 'open' | 'closed';

/** Why a connection closed, in the syslog_connection_closed event: the first cause seen wins. */
export type CloseCause = 'peer' | 'idle' | 'stop' | 'framing' | 'error';

export class SyslogConnection {
  readonly remote: string;
  /** Sender's IP address: the host of records whose header has none. */
  readonly host: string;
  /** Last time bytes arrived or reading resumed (ms since epoch), for idle_timeout_ms. */
  lastActivityAt: number;
  /** Resolves once the socket is closed and its records are handed to the flow (not yet pushed). */
  readonly closed: Promise<void>;
  private readonly _socket: Socket;
  private readonly _deps: ConnDeps;
  private readonly _flow: SyslogFlow;
  private _deframer: RecordDeframer | null;
  private _framing: Framing | null;
  private _waiting: boolean;
  private _failed: boolean;
  private _state: State;
  private _reason: Error | null;
  private _cause: CloseCause | null;
  private _resolveClosed: () => void;

  constructor(socket: Socket, deps: ConnDeps) {
    this.remote = remoteOf(socket);
    this.host = peerHost(socket.remoteAddress);
    this.lastActivityAt = Date.now();
    this._socket = socket;
    this._deps = deps;
    const m = deps.message;
    this._flow = new SyslogFlow(deps.ctx, { host: this.host, program: m.program, facility: m.facility, severity: m.severity, format: 'syslog' }, this.remote);
    this._deframer = null;
    this._framing = null;
    this._waiting = false;
    this._failed = false;
    this._state = 'open';
    this._reason = null;
    this._cause = null;
    let resolveClosed!: () => void;
    this.closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    this._resolveClosed = resolveClosed;
    socket.on('data', (chunk: Buffer) => this._onData(chunk));
    socket.on('end', () => this._onEnd());
    socket.on('error', (err) => {
      if (this._reason === null) {
        this._reason = err;
        this._cause ??= 'error';
        deps.ctx.telemetry.emit('syslog_connection_error', { remote: this.remote, err });
      }
    });
    socket.once('close', () => this._onClose());
    deps.ctx.telemetry.emit('syslog_connection_opened', { remote: this.remote });
  }

  /** True while the socket is paused for backpressure (not idle). */
  get busy(): boolean {
    return this._waiting;
  }

  get stats(): ConnStats {
    return {
      remote: this.remote,
      framing: this._framing,
      paused: this._socket.isPaused(),
      bufferedBytes: (this._deframer?.bufferedBytes ?? 0) + this._flow.backlogBytes + this._socket.readableLength,
    };
  }

  /** Close a connection that sent nothing for too long. */
  closeIdle(idleMs: number): void {
    if (this._state === 'closed') return;
    this._cause ??= 'idle';
    this._deps.ctx.telemetry.emit('syslog_connection_idle', { remote: this.remote, idle_timeout_ms: idleMs });
    this._socket.destroy();
  }

  /** Stop reading now; what was received is still pushed (on 'close'). */
  close(): void {
    if (this._state === 'closed') return;
    this._cause ??= 'stop';
    this._socket.destroy();
  }

  private _onData(chunk: Buffer): void {
    if (this._state !== 'open' || this._failed) return;
    this.lastActivityAt = Date.now();
    if (this._deframer === null) this._deframer = this._pick(chunk[0]!);
    this._deframer.push(chunk);
    if (!this._waiting) this._pump();
  }

  private _pick(first: number): RecordDeframer {
    const m = this._deps.message;
    const opts = { maxMessageBytes: m.maxMessageBytes, oversize: m.oversize };
    if (first >= 0x31 && first <= 0x39) {
      this._framing = 'octet-counting';
      return new OctetCountingDeframer({ ...opts, allowNonTransparent: true });
    }
    this._framing = 'newline';
    // Its records end at each LF: none can hold one.
    this._flow.noInnerNewlines();
    return new NewlineDeframer(opts);
  }

  /** Hand every buffered record to the flow; pause when the router falls behind. Never throws. */
  private _pump(): void {
    const d = this._deframer;
    if (d === null) return;
    try {
      if (this._flow.addFrom(d, CONN_BACKLOG_BYTES)) this._waitForRoom();
    } catch (err) {
      this._framingError(err);
    }
  }

  private _waitForRoom(): void {
    this._waiting = true;
    this._socket.pause();
    void this._flow.flush().then(() => {
      this._waiting = false;
      if (this._state !== 'open') return;
      this.lastActivityAt = Date.now();
      this._pump();
      if (!this._waiting && this._state === 'open') this._socket.resume();
    });
  }

  /** The peer sent its FIN: everything it sent has been seen ('end' follows the last 'data'). */
  private _onEnd(): void {
    this._drainAll();
  }

  private _onClose(): void {
    this._state = 'closed';
    this._drainAll();
    this._deframer?.reset();
    const flushed = this._flow.close();
    const fields: Record<string, unknown> = { remote: this.remote, framing: this._framing, cause: this._cause ?? 'peer' };
    if (this._reason !== null) fields.err = this._reason;
    this._deps.ctx.telemetry.emit('syslog_connection_closed', fields);
    this._deps.onClosed(this, flushed);
    this._resolveClosed();
  }

  /**
   * The connection is ending: every whole record still buffered, then the unterminated last
   * message, go to the flow regardless of the backlog bound (they are already in memory).
   */
  private _drainAll(): void {
    const d = this._deframer;
    if (d === null || this._failed) return;
    try {
      while (d.next()) this._flow.add(d.buf, d.start, d.end, d.flags, d.stable);
      if (d.finish()) this._flow.add(d.buf, d.start, d.end, d.flags, d.stable);
    } catch (err) {
      this._framingError(err);
    }
  }

  /** Broken framing: count it, log it (rate-limited), close this connection only. */
  private _framingError(err: unknown): void {
    const e = err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err));
    this._failed = true;
    this._reason = e;
    this._cause ??= 'framing';
    this._deps.ctx.telemetry.emit('syslog_framing_error', {
      remote: this.remote,
      framing: this._framing,
      code: e instanceof LogshipError ? e.code : undefined,
      err: e,
    });
    this._socket.destroy();
  }
}
