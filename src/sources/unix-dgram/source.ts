// The unix-dgram source: binds a /dev/log-style AF_UNIX datagram socket and turns each datagram
// into one syslog record of one batch stream. Owns the socket file (stale one replaced at start,
// ours removed at stop). Datagrams cannot be re-read and the binding cannot pause reading, so
// above the backlog bound datagrams are dropped and counted (like UDP); the disk spool of a later
// issue will take them instead. Batches are pushed without waiting for their settlement.

import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { socketFlow, type LocalFlow } from './flow.js';
import { claimPath, clearStaleSocket, releasePath, socketPathOf, type KeyRef, type PathIdentity } from './local-path.js';
import { addMessage, type MessageStats } from './message.js';
import { isDgramSocketLive, RECV_LIMIT, UnixDgramError, UnixDgramSocket } from './native.js';
import type { UnixDgramOptions } from './options.js';

/** How long stop() waits for the router to take the last batch. */
export const STOP_BOUND_MS = 5_000;

type State = 'new' | 'running' | 'stopped';

export class UnixDgramSource implements Source {
  private readonly _opts: UnixDgramOptions;
  private _state: State;
  private _ctx: SourceContext | undefined;
  private _socket: UnixDgramSocket | undefined;
  private _flow: LocalFlow | undefined;
  private _path: string;
  private _ident: PathIdentity | undefined;
  private readonly _stats: MessageStats;
  private _dropped: number;

  constructor(opts: UnixDgramOptions) {
    this._opts = opts;
    this._state = 'new';
    this._ctx = undefined;
    this._socket = undefined;
    this._flow = undefined;
    this._path = '';
    this._ident = undefined;
    this._stats = { truncated: 0, truncatedBytes: 0 };
    this._dropped = 0;
  }

  /** The socket path (after start). */
  get path(): string {
    return this._path;
  }

  /** The batch stream id of this run (after start). */
  get stream(): string | undefined {
    return this._flow?.stream;
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'unix-dgram source started twice');
    const o = this._opts;
    const ref: KeyRef = { who: `unix-dgram source "${ctx.id}"`, key: 'listen' };
    const path = socketPathOf(o.listen, 'unix+dgram', ref);
    this._ctx = ctx;
    this._path = path;
    await clearStaleSocket(path, ref, (p) => isDgramSocketLive(p));
    const flow = socketFlow(ctx, o);
    this._flow = flow;
    const max = o.max_message_bytes;
    const add = (src: Buffer, start: number, end: number): void => flow.add(src, start, end);
    try {
      this._socket = new UnixDgramSocket({
        message: (buf) => {
          // Datagrams that arrive while permissions are being set are kept (they were accepted).
          if (this._state === 'stopped') return;
          if (flow.full) {
            this._dropped++;
            ctx.telemetry.emit('local_message_dropped', { path: this._path, backlog_bytes: flow.backlogBytes });
            return;
          }
          const before = this._stats.truncated;
          // A datagram of RECV_LIMIT bytes may have been longer: the binding cannot tell.
          if (buf.length >= RECV_LIMIT && max >= RECV_LIMIT) this._stats.truncated++;
          addMessage(add, buf, 0, buf.length, max, this._stats);
          if (this._stats.truncated !== before) {
            ctx.telemetry.emit('local_message_truncated', { path: this._path, bytes: buf.length, max_message_bytes: max });
          }
        },
        error: (code) => ctx.telemetry.emit('local_receive_error', { path: this._path, code }),
      });
      this._socket.bind(this._path);
    } catch (err) {
      this._socket?.close();
      this._socket = undefined;
      throw new LogshipError('LS_STARTUP', `${ref.who}: cannot bind ${this._path}: ${bindHint(err)}`, { cause: err });
    }
    this._ident = await claimPath(this._path, o, ref, () => {
      this._socket?.close();
      this._socket = undefined;
    });
    this._state = 'running';
    ctx.telemetry.emit('local_listening', { path: this._path, mode: o.mode });
  }

  async stop(): Promise<void> {
    const was = this._state;
    this._state = 'stopped';
    if (was !== 'running') return;
    this._socket?.close();
    this._socket = undefined;
    await releasePath(this._path, this._ident, this._ctx!.telemetry);
    await this._flow!.close(STOP_BOUND_MS);
  }

  /** Counts since start (for tests and status). */
  stats(): { truncated: number; dropped: number; backlogBytes: number } {
    return { truncated: this._stats.truncated, dropped: this._dropped, backlogBytes: this._flow?.backlogBytes ?? 0 };
  }
}

function bindHint(err: unknown): string {
  const code = err instanceof UnixDgramError ? err.code : (err as Error).message;
  switch (code) {
    case 'ENOENT':
      return 'ENOENT: its directory does not exist; create it or fix `listen`';
    case 'EACCES':
      return 'EACCES: no permission to create a socket in its directory';
    case 'EADDRINUSE':
      return 'EADDRINUSE: the path was taken while starting';
    default:
      return code;
  }
}
