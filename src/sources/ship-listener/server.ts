// The ship listener: accepts peer connections (clients, relays), runs one PeerConnection each,
// closes idle ones, and stops within a bound. Protocol details are in conn.ts and codec/ship.

import type { Server, Socket } from 'node:net';
import { ShipBatchDecoder } from '../../codec/ship/index.js';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { parseListenAddress } from '../../transport/listener.js';
import { closeServer, listenTcp } from '../../transport/tcp.js';
import { PeerConnection, type PeerStats } from './conn.js';
import type { ShipListenerOptions } from './options.js';

/** How long stop() waits for in-flight batches to settle and their acks to go out. */
export const STOP_BOUND_MS = 5000;

type State = 'new' | 'running' | 'stopped';

export class ShipListener implements Source {
  private readonly _opts: ShipListenerOptions;
  private readonly _conns: Set<PeerConnection>;
  private _state: State;
  private _server: Server | null;
  private _sweep: NodeJS.Timeout | null;
  private _address: { host: string; port: number } | null;

  constructor(opts: ShipListenerOptions) {
    this._opts = opts;
    this._conns = new Set();
    this._state = 'new';
    this._server = null;
    this._sweep = null;
    this._address = null;
  }

  /** The bound address (the real port when `listen` asked for port 0). Throws before start(). */
  address(): { host: string; port: number } {
    if (this._address === null) throw new LogshipError('LS_INTERNAL', 'ship listener address() called before start()');
    return this._address;
  }

  get port(): number {
    return this.address().port;
  }

  /** One entry per open connection (for status and tests). */
  connections(): PeerStats[] {
    return [...this._conns].map((c) => c.stats);
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'ship listener started twice');
    const a = parseListenAddress(this._opts.listen);
    if (!a.ok || a.value.kind !== 'tcp') {
      throw new LogshipError('LS_STARTUP', `ship listener: listen "${this._opts.listen}" is not tcp:HOST:PORT`);
    }
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
      host: a.value.host,
      port: a.value.port,
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
    const bound = this._server.address();
    this._address = bound !== null && typeof bound === 'object' ? { host: bound.address, port: bound.port } : { host: a.value.host, port: a.value.port };
    this._state = 'running';
    const idle = this._opts.idle_timeout_ms;
    this._sweep = setInterval(() => this._closeIdle(idle), Math.max(10, Math.min(1000, Math.floor(idle / 4))));
    this._sweep.unref();
  }

  async stop(): Promise<void> {
    if (this._state !== 'running') {
      this._state = 'stopped';
      return;
    }
    this._state = 'stopped';
    if (this._sweep !== null) clearInterval(this._sweep);
    this._sweep = null;
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
