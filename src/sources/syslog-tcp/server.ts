// The syslog stream listener shared by syslog-tcp and syslog-tls: binds (through a `bind` function
// the plug-in gives: plain TCP or TLS), runs one SyslogConnection per accepted peer, refuses and
// counts connections beyond max_connections, closes idle ones, and stops within a bound, pushing
// what was received. Framing and backpressure are in conn.ts; the start/stop bookkeeping it shares
// with the other listeners is in common/listener-base.ts.

import type { Server, Socket } from 'node:net';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { closeServer } from '../../transport/tcp.js';
import { withDeadline } from '../../util/deadline.js';
import { idleSweepMs, ListenerBase, serverAddress } from '../common/listener-base.js';
import { batchBufferBytes } from '../common/record-batcher.js';
import { SyslogConnection, type ConnStats } from './conn.js';
import { SYSLOG_BATCH_BYTES } from './flow.js';
import { fitsReader, tcpBinding, type Binding } from './native.js';
import type { SyslogStreamSettings } from './options.js';

/** How long stop() waits for the records already received to be taken by the router. */
export const STOP_BOUND_MS = 5000;

export interface BindRequest {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  /** A peer is ready to send syslog (for TLS: after the handshake). */
  readonly onConnection: (socket: Socket) => void;
  /** A connection was refused because maxConnections is reached. */
  readonly onDrop: (remote: string) => void;
}

/** Binds the server; rejects with LS_STARTUP when it cannot. */
export type BindFn = (req: BindRequest, ctx: SourceContext) => Promise<Server>;

/** What reads plain TCP connections: the native reader where it can ('auto'), or one of them only. */
export type TcpReaderKind = 'auto' | 'native' | 'node';

/** Test seams; the factories pass none. */
export interface SyslogStreamInternals {
  readonly reader?: TcpReaderKind;
  readonly binding?: () => Binding | Error;
}

export class SyslogStreamServer extends ListenerBase implements Source {
  private readonly _settings: SyslogStreamSettings;
  private readonly _scheme: string;
  private readonly _bind: BindFn;
  private readonly _conns: Set<SyslogConnection>;
  /** Every accepted TCP socket, TLS handshakes in progress included (destroyed on stop). */
  private readonly _sockets: Set<Socket>;
  /** Flushes of closed connections not yet taken by the router. */
  private readonly _flushing: Set<Promise<void>>;
  private _server: Server | null;
  private readonly _readerKind: TcpReaderKind;
  private readonly _binding: () => Binding | Error;

  /** `bind` must hand plain TCP sockets over paused (pauseOnConnect): the reader chooses who reads. */
  constructor(settings: SyslogStreamSettings, scheme: 'tcp' | 'tls', bind: BindFn, internals: SyslogStreamInternals = {}) {
    super({ name: `syslog-${scheme}`, source: `syslog-${scheme} source` });
    this._settings = settings;
    this._scheme = scheme;
    this._bind = bind;
    this._conns = new Set();
    this._sockets = new Set();
    this._flushing = new Set();
    this._server = null;
    this._readerKind = scheme === 'tcp' ? (internals.reader ?? 'auto') : 'node';
    this._binding = internals.binding ?? tcpBinding;
  }

  /** One entry per open connection (for status and tests). */
  connections(): ConnStats[] {
    return [...this._conns].map((c) => c.stats);
  }

  async start(ctx: SourceContext): Promise<void> {
    const at = this._listenAddress(this._settings.listen, 'tcp');
    const deps = {
      ctx,
      reader: this._reader(ctx),
      message: this._settings.message,
      onClosed: (c: SyslogConnection, flushed: Promise<void>) => {
        this._conns.delete(c);
        this._flushing.add(flushed);
        void flushed.finally(() => this._flushing.delete(flushed));
      },
    };
    const server = await this._bind(
      {
        host: at.host,
        port: at.port,
        maxConnections: this._settings.maxConnections,
        onConnection: (socket) => {
          if (this._state !== 'running') {
            socket.destroy();
            return;
          }
          this._conns.add(new SyslogConnection(socket, deps));
        },
        onDrop: (remote) => ctx.telemetry.emit('syslog_connection_refused', { remote, max_connections: this._settings.maxConnections }),
      },
      ctx,
    );
    server.on('connection', (socket: Socket) => {
      this._sockets.add(socket);
      socket.once('close', () => this._sockets.delete(socket));
    });
    this._server = server;
    const bound = serverAddress(server, at);
    const idle = this._settings.idleTimeoutMs;
    this._running(bound, () => this._closeIdle(idle), idleSweepMs(idle));
    ctx.telemetry.emit('syslog_listening', { listen: `${this._scheme}:${bound.host}:${bound.port}` });
  }

  /** Close the listener and every connection; push what they received, within STOP_BOUND_MS. */
  async stop(): Promise<void> {
    if (!this._stopping()) return;
    const server = this._server!;
    const closed = closeServer(server);
    const conns = [...this._conns];
    for (const c of conns) c.close();
    for (const s of this._sockets) s.destroy();
    const deadline = Date.now() + STOP_BOUND_MS;
    await withDeadline(Promise.all(conns.map((c) => c.closed)).then(() => undefined), deadline);
    await withDeadline(Promise.all([...this._flushing]).then(() => undefined), deadline);
    await withDeadline(closed, deadline);
    this._server = null;
  }

  /** The native reader for this listener's connections, or null (node:net reads them). */
  private _reader(ctx: SourceContext): Binding | null {
    if (this._readerKind === 'node') return null;
    const b = this._binding();
    const max = this._settings.message.maxMessageBytes;
    const why =
      b instanceof Error
        ? b.message
        : fitsReader(max, batchBufferBytes(SYSLOG_BATCH_BYTES))
          ? undefined
          : `max_message_bytes ${max} is more than the native TCP reader's buffers hold`;
    if (why === undefined) return b as Binding;
    if (this._readerKind === 'native') throw new LogshipError('LS_STARTUP', `syslog-tcp: ${why}`);
    ctx.telemetry.emit('syslog_tcp_fallback', { reason: why });
    return null;
  }

  private _closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const c of this._conns) {
      if (!c.busy && now - c.lastActivityAt >= idleMs) c.closeIdle(idleMs);
    }
  }
}
