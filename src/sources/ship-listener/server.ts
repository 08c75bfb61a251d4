// The ship listener: accepts peer connections (clients, relays), runs one PeerConnection each,
// closes idle ones, and stops within a bound. Protocol details are in conn.ts and codec/ship; the
// start/stop bookkeeping it shares with the syslog listeners is in common/listener-base.ts.

import type { Server, Socket } from 'node:net';
import { ShipBatchDecoder } from '../../codec/ship/index.js';
import type { Source, SourceContext } from '../../core/component.js';
import { closeServer, listenTcp } from '../../transport/tcp.js';
import { idleSweepMs, ListenerBase, serverAddress } from '../common/listener-base.js';
import { PeerConnection, type PeerStats } from './conn.js';
import type { ShipListenerOptions } from './options.js';

/** How long stop() waits for in-flight batches to settle and their acks to go out. */
export const STOP_BOUND_MS = 5000;

export class ShipListener extends ListenerBase implements Source {
  private readonly _opts: ShipListenerOptions;
  private readonly _conns: Set<PeerConnection>;
  private _server: Server | null;

  constructor(opts: ShipListenerOptions) {
    super({ name: 'ship listener', source: 'ship listener' });
    this._opts = opts;
    this._conns = new Set();
    this._server = null;
  }

  /** One entry per open connection (for status and tests). */
  connections(): PeerStats[] {
    return [...this._conns].map((c) => c.stats);
  }

  async start(ctx: SourceContext): Promise<void> {
    const at = this._listenAddress(this._opts.listen, 'tcp');
    const decoder = new ShipBatchDecoder(this._opts.max_frame_bytes);
    const deps = {
      ctx,
      decoder,
      maxFrameBytes: this._opts.max_frame_bytes,
      onClosed: (c: PeerConnection) => {
        this._conns.delete(c);
      },
    };
    this._server = await listenTcp({
      host: at.host,
      port: at.port,
      maxConnections: this._opts.max_connections,
      onConnection: (socket: Socket) => {
        if (this._state !== 'running') {
          socket.destroy();
          return;
        }
        this._conns.add(new PeerConnection(socket, deps));
      },
      onDrop: (remote) => ctx.telemetry.emit('listener_connection_refused', { remote, max_connections: this._opts.max_connections }),
    });
    const idle = this._opts.idle_timeout_ms;
    this._running(serverAddress(this._server, at), () => this._closeIdle(idle), idleSweepMs(idle));
  }

  async stop(): Promise<void> {
    if (!this._stopping()) return;
    const server = this._server!;
    const closed = closeServer(server);
    const deadline = Date.now() + STOP_BOUND_MS;
    await Promise.all([...this._conns].map((c) => c.shutdown(deadline)));
    await closed;
    this._server = null;
  }

  private _closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const c of this._conns) c.sweep(now, idleMs);
  }
}
