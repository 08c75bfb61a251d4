// The syslog stream listener shared by syslog-tcp and syslog-tls: binds (through a `bind` function
// the plug-in gives: plain TCP or TLS), runs one SyslogConnection per accepted peer, refuses and
// counts connections beyond max_connections, closes idle ones, and stops within a bound, pushing
// what was received. Framing and backpressure are in conn.ts; the start/stop bookkeeping it shares
// with the other listeners is in common/listener-base.ts.

import type { Server, Socket } from 'node:net';
import type { Source, SourceContext } from '../../core/component.js';
import { closeServer } from '../../transport/tcp.js';
import { withDeadline } from '../../util/deadline.js';
import { idleSweepMs, ListenerBase, serverAddress } from '../common/listener-base.js';
import { SyslogConnection, type ConnStats } from './conn.js';
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

  constructor(settings: SyslogStreamSettings, scheme: 'tcp' | 'tls', bind: BindFn) {
    super({ name: `syslog-${scheme}`, source: `syslog-${scheme} source` });
    this._settings = settings;
    this._scheme = scheme;
    this._bind = bind;
    this._conns = new Set();
    this._sockets = new Set();
    this._flushing = new Set();
    this._server = null;
  }

  /** One entry per open connection (for status and tests). */
  connections(): ConnStats[] {
    return [...this._conns].map((c) => c.stats);
  }

  async start(ctx: SourceContext): Promise<void> {
    const at = this._listenAddress(this._settings.listen, 'tcp');
    const deps = {
      ctx,
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

  private _closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const c of this._conns) {
      if (!c.busy && now - c.lastActivityAt >= idleMs) c.closeIdle(idleMs);
    }
  }
}
