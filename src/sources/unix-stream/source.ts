// The unix-stream source: listens on an AF_UNIX stream socket, runs one StreamConn per client
// (conn.ts), and feeds one LocalFlow (one batch stream for the whole source). Owns the socket file
// (stale one replaced at start, ours removed at stop), the connection limit and the idle sweep.
// Backpressure: when the flow is over its bound every connection is paused until there is room
// (the senders then block in write(), as with syslog-ng). Batches are pushed without waiting for
// their settlement: sockets cannot be re-read (the disk spool of a later issue will cover that).

import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { idleSweepMs } from '../common/listener-base.js';
import { socketFlow, type LocalFlow } from '../unix-dgram/flow.js';
import { claimPath, clearStaleSocket, releasePath, socketPathOf, type KeyRef, type PathIdentity } from '../unix-dgram/local-path.js';
import type { MessageStats } from '../unix-dgram/message.js';
import { StreamConn, type ConnDeps } from './conn.js';
import type { UnixStreamOptions } from './options.js';

/** How long stop() waits for the router to take the last batch. */
export const STOP_BOUND_MS = 5_000;
/** How long the liveness probe of an existing socket may take. */
const PROBE_TIMEOUT_MS = 1_000;

type State = 'new' | 'running' | 'stopped';

export class UnixStreamSource implements Source {
  private readonly _opts: UnixStreamOptions;
  private readonly _conns: Set<StreamConn>;
  private readonly _stats: MessageStats;
  private _state: State;
  private _ctx: SourceContext | undefined;
  private _server: Server | undefined;
  private _flow: LocalFlow | undefined;
  private _path: string;
  private _ident: PathIdentity | undefined;
  private _paused: boolean;
  private _sweep: NodeJS.Timeout | undefined;

  constructor(opts: UnixStreamOptions) {
    this._opts = opts;
    this._conns = new Set();
    this._stats = { truncated: 0, truncatedBytes: 0 };
    this._state = 'new';
    this._ctx = undefined;
    this._server = undefined;
    this._flow = undefined;
    this._path = '';
    this._ident = undefined;
    this._paused = false;
    this._sweep = undefined;
  }

  get path(): string {
    return this._path;
  }

  /** The batch stream id of this run (after start). */
  get stream(): string | undefined {
    return this._flow?.stream;
  }

  /** Open connections and their framing (for tests and status). */
  connections(): { framing: string; lastActivity: number }[] {
    return [...this._conns].map((c) => ({ framing: c.framing, lastActivity: c.lastActivity }));
  }

  stats(): { truncated: number; connections: number; paused: boolean; backlogBytes: number } {
    return { truncated: this._stats.truncated, connections: this._conns.size, paused: this._paused, backlogBytes: this._flow?.backlogBytes ?? 0 };
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'unix-stream source started twice');
    const o = this._opts;
    const ref: KeyRef = { who: `unix-stream source "${ctx.id}"`, key: 'listen' };
    const path = socketPathOf(o.listen, 'unix+stream', ref);
    this._ctx = ctx;
    this._path = path;
    await clearStaleSocket(path, ref, isStreamSocketLive);
    const flow = socketFlow(ctx, o);
    this._flow = flow;
    const deps: ConnDeps = {
      ctx,
      flow,
      path: this._path,
      maxMessageBytes: o.max_message_bytes,
      oversize: o.oversize,
      stats: this._stats,
      onFull: () => this._pause(),
      onClosed: (c) => this._conns.delete(c),
    };
    const server = createServer((socket) => this._accept(socket, deps));
    server.on('error', (err) => ctx.telemetry.emit('local_receive_error', { path: this._path, code: (err as NodeJS.ErrnoException).code ?? String(err) }));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this._path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      const hint = code === 'ENOENT' ? ': its directory does not exist; create it or fix `listen`' : code === 'EACCES' ? ': no permission to create a socket in its directory' : '';
      throw new LogshipError('LS_STARTUP', `${ref.who}: cannot listen on ${this._path}: ${code}${hint}`, { cause: err });
    }
    this._server = server;
    this._ident = await claimPath(this._path, o, ref, async () => {
      this._state = 'stopped';
      const closed = closeServer(server);
      for (const c of this._conns) c.close();
      await closed;
    });
    this._state = 'running';
    const idle = o.idle_timeout_ms;
    if (idle > 0) {
      this._sweep = setInterval(() => this._closeIdle(idle), idleSweepMs(idle));
      this._sweep.unref();
    }
    ctx.telemetry.emit('local_listening', { path: this._path, mode: o.mode });
  }

  async stop(): Promise<void> {
    const was = this._state;
    this._state = 'stopped';
    if (was !== 'running') return;
    if (this._sweep !== undefined) clearInterval(this._sweep);
    this._sweep = undefined;
    const closed = closeServer(this._server!);
    for (const c of this._conns) c.close();
    await closed;
    this._server = undefined;
    // libuv unlinks the path when the server closes; this covers the case where it did not.
    await releasePath(this._path, this._ident, this._ctx!.telemetry);
    await this._flow!.close(STOP_BOUND_MS);
  }

  private _accept(socket: Socket, deps: ConnDeps): void {
    const ctx = deps.ctx;
    // Clients that connect while permissions are being set are served (they got in).
    if (this._state === 'stopped') {
      socket.destroy();
      return;
    }
    if (this._conns.size >= this._opts.max_connections) {
      ctx.telemetry.emit('local_connection_refused', { path: this._path, max_connections: this._opts.max_connections });
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const c = new StreamConn(socket, deps);
    this._conns.add(c);
    ctx.telemetry.emit('local_connection_opened', { path: this._path, connections: this._conns.size });
    if (this._paused) socket.pause();
  }

  /** Pause every connection until the flow has room again. */
  private _pause(): void {
    if (this._paused || this._state === 'stopped') return;
    this._paused = true;
    for (const c of this._conns) c.socket.pause();
    void this._flow!.whenRoom().then(() => {
      this._paused = false;
      if (this._state === 'stopped') return;
      for (const c of this._conns) c.socket.resume();
    });
  }

  private _closeIdle(idleMs: number): void {
    if (this._paused) return; // paused connections are quiet because of us
    const now = Date.now();
    for (const c of this._conns) {
      if (now - c.lastActivity >= idleMs) c.close();
    }
  }
}

/** A live stream socket accepts a connection; a stale one refuses it (ECONNREFUSED). */
function isStreamSocketLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (live: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(live);
    };
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    s.once('connect', () => done(true));
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED'));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
