// One syslog stream connection (plain TCP or TLS): detect the framing from the first byte, deframe,
// hand records to this connection's SyslogFlow, pause the socket while the router has no room.
// A broken framing costs this connection only; nothing here throws out of an event handler.
//
//   'data' ─► deframer.push ─► _pump(): flow.addFrom (each record, until the backlog bound)
//                               backlog ≥ bound? pause socket; flow.flush() resolves → resume, _pump()
//   'end'/'close' ─► the rest of what was received (whole records, then the unterminated last
//                    message) ─► flow.close() (flushes)
//
// A plain TCP connection is read by the native reader where it is built (native.ts): the socket
// stays paused and is never read by node:net; the reader reads a duplicate of its fd, cuts records
// as NewlineDeframer or OctetCountingDeframer does (LF inside an octet-counted record already a
// space), and hands whole batches to the flow (flow.addBatch):
//
//   reader ─► batch ─► flow.addBatch      backlog ≥ bound? reader.pause; flow.flush() → resume
//   reader eof / error / broken framing ─► socket.destroy() ─► 'close' ─► flow.close()
//   'close' (stop, idle, peer) ─► reader.finish(): what it holds, the last message too ─► flow
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
import { peerHost, SYSLOG_BATCH_BYTES, SYSLOG_BATCH_DELAY_MS, SyslogFlow } from './flow.js';
import { NativeTcpReader, socketFd, type Binding } from './native.js';
import type { SyslogMessageSettings } from './options.js';

export type Framing = 'octet-counting' | 'newline';

/** A connection pauses its socket while this many bytes it received wait for the router. */
export const CONN_BACKLOG_BYTES = SYSLOG_BATCH_BYTES;

export interface ConnDeps {
  readonly ctx: SourceContext;
  readonly message: SyslogMessageSettings;
  /** Called once, when the socket is closed; `flushed` resolves when its records are pushed. */
  readonly onClosed: (conn: SyslogConnection, flushed: Promise<void>) => void;
  /** The native reader for plain TCP sockets (paused when accepted); null: read through node:net. */
  readonly reader: Binding | null;
}

export interface ConnStats {
  readonly remote: string;
  readonly framing: Framing | null;
  /** True while reading is paused because the router has no room. */
  readonly paused: boolean;
  /** Bytes received and not yet taken by the router (deframer + batcher + pushes in flight). */
  readonly bufferedBytes: number;
  /** What reads the socket: logship's native reader, or node:net. */
  readonly reader: 'native' | 'node';
}

type State = 'open' | 'closed';

/** Why a connection closed, in the syslog_connection_closed event: the first cause seen wins. */
export type CloseCause = 'peer' | 'idle' | 'stop' | 'framing' | 'error';

export class SyslogConnection {
  readonly remote: string;
  /** Sender's IP address: the host of records whose header has none. */
  readonly host: string;
  /** Resolves once the socket is closed and its records are handed to the flow (not yet pushed). */
  readonly closed: Promise<void>;
  private readonly _socket: Socket;
  private readonly _deps: ConnDeps;
  /** Last time bytes arrived or reading resumed, as node:net saw it (the reader keeps its own). */
  private _activityAt: number;
  private _reader: NativeTcpReader | null;
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
    this._activityAt = Date.now();
    this._reader = null;
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
    const fd = deps.reader !== null ? socketFd(socket) : undefined;
    if (fd === undefined || !this._attach(deps.reader!, fd)) this._readNode();
  }

  /** Last time bytes arrived or reading resumed (ms since epoch), for idle_timeout_ms. */
  get lastActivityAt(): number {
    return this._reader !== null ? Math.max(this._activityAt, this._reader.lastReadMs) : this._activityAt;
  }

  /** True while the socket is paused for backpressure (not idle). */
  get busy(): boolean {
    return this._waiting;
  }

  get stats(): ConnStats {
    return {
      remote: this.remote,
      framing: this._framing,
      paused: this._reader !== null ? this._waiting : this._socket.isPaused(),
      bufferedBytes: (this._deframer?.bufferedBytes ?? 0) + (this._reader?.pending ?? 0) + this._flow.backlogBytes + this._socket.readableLength,
      reader: this._reader !== null ? 'native' : 'node',
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

  /** Reads through node:net (the socket may have been accepted paused). */
  private _readNode(): void {
    this._socket.on('data', (chunk: Buffer) => this._onData(chunk));
    this._socket.resume();
  }

  /** Starts the native reader on the socket's fd; false when it cannot (then node:net reads). */
  private _attach(b: Binding, fd: number): boolean {
    const m = this._deps.message;
    const opts = { maxMessageBytes: m.maxMessageBytes, oversize: m.oversize, batchBytes: SYSLOG_BATCH_BYTES, delayMs: SYSLOG_BATCH_DELAY_MS };
    try {
      this._reader = new NativeTcpReader(b, fd, opts, this._flow.buffers, {
        batch: (data, whole, ends) => this._onBatch(data, whole, ends),
        oversize: (truncated, split) => this._onOversize(truncated, split),
        eof: () => this._endReader(),
        octet: () => {
          this._framing = 'octet-counting';
          this._flow.noInnerNewlines(); // the reader made each inner LF a space
        },
        framing: (err) => this._framingError(err),
        error: (code) => this._onReadError(code),
      });
      return true;
    } catch {
      return false; // no fd to spare (EMFILE): node:net reads this one
    }
  }

  /** Messages longer than the maximum, cut by the native reader. */
  private _onOversize(truncated: number, split: number): void {
    const telemetry = this._deps.ctx.telemetry;
    if (truncated > 0) telemetry.emit('syslog_message_truncated', { remote: this.remote }, truncated);
    if (split > 0) telemetry.emit('syslog_message_split', { remote: this.remote }, split);
  }

  /** A batch from the native reader (records each ended by LF, none holding another). */
  private _onBatch(data: Buffer, whole: Buffer, ends: Uint32Array): void {
    if (this._framing === null) {
      this._framing = 'newline';
      this._flow.noInnerNewlines();
    }
    this._flow.addBatch(data, whole, ends);
    if (!this._waiting && this._state === 'open' && this._flow.backlogBytes >= CONN_BACKLOG_BYTES) {
      const reader = this._reader!;
      this._waiting = true;
      reader.pause(true);
      void this._flow.flush().then(() => {
        this._waiting = false;
        if (this._state !== 'open' || this._reader !== reader) return;
        reader.pause(false); // the reader counts resuming as activity (lastReadMs)
      });
    }
  }

  private _onReadError(code: string): void {
    if (this._reason === null) {
      const err = Object.assign(new Error(`read failed: ${code}`), { code });
      this._reason = err;
      this._cause ??= 'error';
      this._deps.ctx.telemetry.emit('syslog_connection_error', { remote: this.remote, err });
    }
    this._endReader();
  }

  /** The reader delivered everything and stopped (EOF or a read error): close the connection. */
  private _endReader(): void {
    this._reader?.close();
    this._reader = null;
    this._socket.destroy();
  }

  private _onData(chunk: Buffer): void {
    if (this._state !== 'open' || this._failed) return;
    this._activityAt = Date.now();
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
      this._activityAt = Date.now();
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
    const reader = this._reader;
    if (reader !== null) {
      reader.finish(); // may end in _onReadError (no buffer given), which forgets the reader
      reader.close();
      this._reader = null;
    }
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
