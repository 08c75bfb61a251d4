// The TCP/TLS side of the syslog destination: one connection at a time, batches written in the
// order write() was called, reconnect with backoff. Owns the connection loop, the queue of
// batches not yet written (write-queue.ts) and one encoder.
//
//   write(batch) ─► _writes ─► _pump(): encode, socket.write ─► _written ─► write callback ─► delivered
//                     ▲                 (stops while the socket needs 'drain')        │ error / close
//                     └── stays queued across reconnects                              └─► retryable
//
// Delivery: plain syslog has no acknowledgements (RFC 6587, RFC 5425). A write resolves
// `delivered` when its bytes were written to the socket (handed to the kernel) without error.
// Bytes in the kernel buffers when the connection breaks are lost if the receiver crashed
// holding them; the batch being written when the connection breaks resolves `retryable` and the
// router sends it again, whole (at least once: the receiver may see some messages twice). RELP
// would close that gap and is out of scope. A receiver that stops reading fills the socket
// buffers: writes stop resolving, the router stops handing us batches (max_in_flight), memory
// stays bounded.
//
// Order: batches go out in write() order on a connection. After a reconnect the batches still
// queued go first and the failed ones follow when the router retries them, so order across a
// reconnect is not kept (receivers have the timestamp each message carries).

import type { Socket } from 'node:net';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { retryable, type Outcome } from '../../core/outcome.js';
import { sleepUnlessAborted, upstream, UpstreamRotation } from '../../transport/upstream.js';
import { connectStream, loadTlsSettings, type TlsSettings } from './connect.js';
import { SyslogEncoder } from './encode.js';
import { framingOf, parseTarget, type SyslogDestinationOptions, type SyslogFraming, type SyslogTarget } from './options.js';
import { formatFailed, settle, settleDelivered, shutdownError, WriteQueue, type WriteEntry } from './write-queue.js';

/** How long close() lets written bytes go out before it destroys the socket. */
export const CLOSE_GRACE_MS = 2000;

interface Conn {
  readonly socket: Socket;
  /** False once the socket is ending or closed: nothing more is written to it. */
  open: boolean;
  /** True while socket.write() asked us to wait for 'drain'. */
  draining: boolean;
}

type State = 'new' | 'running' | 'closed';

export class StreamSender implements Destination {
  readonly maxInFlight: number;
  private readonly _opts: SyslogDestinationOptions;
  private readonly _target: SyslogTarget;
  private readonly _label: string;
  private readonly _framing: SyslogFraming;
  private readonly _encoder: SyslogEncoder;
  private readonly _rotation: UpstreamRotation;
  private readonly _abort: AbortController;
  /** Accepted, not yet written: kept in order across reconnects. */
  private readonly _writes: WriteQueue;
  private _state: State;
  private _ctx: ComponentContext | null;
  private _tls: TlsSettings | undefined;
  /** Written to the current socket, write callback pending (in write order). */
  private _written: WriteEntry[];
  private _conn: Conn | null;
  private _loop: Promise<void> | null;

  constructor(opts: SyslogDestinationOptions) {
    const t = parseTarget(opts.target);
    if (!t.ok || t.value.transport === 'udp') throw new LogshipError('LS_CONFIG_INVALID', `syslog destination: target ${t.ok ? opts.target : t.error} is not tcp: or tls:`);
    this._opts = opts;
    this._target = t.value;
    this._label = opts.target;
    this.maxInFlight = opts.max_in_flight;
    this._framing = framingOf(opts);
    this._encoder = new SyslogEncoder(opts.format);
    this._rotation = new UpstreamRotation([upstream(t.value.host, t.value.port)], { backoffMinMs: opts.backoff_min_ms, backoffMaxMs: opts.backoff_max_ms });
    this._abort = new AbortController();
    this._writes = new WriteQueue();
    this._state = 'new';
    this._ctx = null;
    this._tls = undefined;
    this._written = [];
    this._conn = null;
    this._loop = null;
  }

  /** True while a connection is established. */
  get connected(): boolean {
    return this._conn?.open === true;
  }

  /** Batches written to write() and not yet answered. */
  get pending(): number {
    return this._writes.pending;
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'syslog destination started twice');
    if (this._target.transport === 'tls') this._tls = await loadTlsSettings(this._opts, this._target);
    this._ctx = ctx;
    this._state = 'running';
    // Connecting is lazy: a receiver that is down must not stop this node from starting.
    this._loop = this._run();
  }

  write(batch: Batch): Promise<Outcome> {
    if (this._state !== 'running') return Promise.resolve(retryable(shutdownError()));
    const p = this._writes.add(batch);
    this._pump();
    return p;
  }

  /** Resolves when every write() made so far is answered. */
  flush(): Promise<void> {
    return this._writes.flush();
  }

  /**
   * Batches not yet written resolve retryable(LS_SHUTDOWN) (their sources keep them); written
   * bytes get CLOSE_GRACE_MS to go out before the socket is destroyed.
   */
  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this._abort.abort();
    this._writes.shutdown();
    const c = this._conn;
    if (c !== null) {
      c.open = false;
      c.socket.end();
      const timer = setTimeout(() => c.socket.destroy(), CLOSE_GRACE_MS);
      await this._loop;
      clearTimeout(timer);
    } else await this._loop;
  }

  private _pump(): void {
    const c = this._conn;
    if (c === null || !c.open || c.draining) return;
    for (;;) {
      const e = this._writes.take();
      if (e === undefined) return;
      let bytes: Buffer;
      let messages: number;
      try {
        ({ bytes, messages } = this._encoder.encodeStream(e.batch, this._framing));
      } catch (err) {
        settle(e, formatFailed(err));
        continue;
      }
      this._written.push(e);
      const ok = c.socket.write(bytes, (err?: Error | null) => this._onWritten(c, e, bytes.length, messages, err ?? null));
      if (!ok) {
        c.draining = true;
        return;
      }
    }
  }

  private _onWritten(c: Conn, e: WriteEntry, bytes: number, messages: number, err: Error | null): void {
    const k = this._written.indexOf(e);
    if (k !== -1) this._written.splice(k, 1);
    // Node calls back with no error for a write that was cancelled because the socket was
    // destroyed (a reset): only a write completed on a live socket is delivered.
    if (err === null && !c.socket.destroyed) {
      settleDelivered(e, this._ctx?.telemetry, messages, bytes);
      return;
    }
    const why = err?.message ?? 'the connection was reset before the bytes were written';
    settle(e, retryable(new LogshipError('LS_SYSLOG_SEND', `syslog destination: write to ${this._label} failed: ${why}`, { cause: err ?? undefined })));
    c.open = false;
    c.socket.destroy();
  }

  /** The connection loop: connect → serve until lost → back off → again. Never rejects. */
  private async _run(): Promise<void> {
    const ctx = this._ctx!;
    const signal = this._abort.signal;
    while (this._state === 'running') {
      let socket: Socket;
      try {
        socket = await connectStream(this._target, { timeoutMs: this._opts.connect_timeout_ms, signal, ...(this._tls === undefined ? {} : { tls: this._tls }) });
      } catch (err) {
        if (this._state !== 'running') break;
        ctx.telemetry.emit('syslog_dest_connect_failed', { target: this._label, err });
        await sleepUnlessAborted(this._rotation.failed(), signal);
        continue;
      }
      if (this._state !== 'running') {
        socket.destroy();
        break;
      }
      this._rotation.connected(Date.now());
      ctx.telemetry.emit('syslog_dest_connected', { target: this._label, queued: this._writes.queued });
      const reason = await this._serve(socket);
      if (this._state !== 'running') break;
      ctx.telemetry.emit('syslog_dest_disconnected', { target: this._label, err: reason, queued: this._writes.queued });
      await sleepUnlessAborted(this._rotation.lost(Date.now()), signal);
    }
  }

  /** Writes queued batches on `socket` until it closes; resolves with why it closed. */
  private _serve(socket: Socket): Promise<LogshipError> {
    return new Promise<LogshipError>((resolve) => {
      const c: Conn = { socket, open: true, draining: false };
      let reason: Error | undefined;
      socket.on('error', (err) => {
        reason ??= err;
        c.open = false;
      });
      // Receivers send nothing; reading on lets us see their FIN.
      socket.on('data', () => {});
      socket.on('end', () => {
        // The receiver closed: Node ends our side once what is written went out (allowHalfOpen off).
        reason ??= new Error('the receiver closed the connection');
        c.open = false;
      });
      socket.on('drain', () => {
        c.draining = false;
        this._pump();
      });
      socket.once('close', () => {
        c.open = false;
        if (this._conn === c) this._conn = null;
        const err = new LogshipError('LS_SYSLOG_SEND', `connection to ${this._label} lost: ${reason?.message ?? 'closed'}`, { cause: reason });
        const written = this._written;
        this._written = [];
        for (const e of written) settle(e, retryable(err));
        resolve(err);
      });
      this._conn = c;
      this._pump();
    });
  }
}
