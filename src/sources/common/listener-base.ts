// What the network listener sources share (ship-listener, syslog-tcp and syslog-tls, syslog-udp):
// the new → running → stopped life cycle, the bound address behind address() and port, and the
// periodic sweep (idle connections, idle senders). No sockets here: each source binds, accepts,
// reads and closes its own, and decides what its stop() waits for (util/deadline.ts bounds that).
//
//   start():  _listenAddress(listen) ─► bind (the source) ─► _running(bound address, sweep, period)
//   stop():   _stopping() ─► false: nothing runs (never started, or stopped already) ─► return
//                         └► true:  state stopped, sweep cleared ─► close and wait (the source)
//
// A base class rather than a helper object: the state stays a field of the source itself, which
// checks it for every connection or datagram that arrives.

import type { Server } from 'node:net';
import { LogshipError } from '../../core/errors.js';
import { parseListenAddress } from '../../transport/listener.js';

export type ListenerState = 'new' | 'running' | 'stopped';

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/** How a listener names itself in its LS_INTERNAL and LS_STARTUP messages. */
export interface ListenerNames {
  /** e.g. 'syslog-udp': "syslog-udp address() called before start()", "syslog-udp: listen "…" is not udp:HOST:PORT". */
  readonly name: string;
  /** e.g. 'syslog-udp source': "syslog-udp source started twice". */
  readonly source: string;
}

export abstract class ListenerBase {
  protected _state: ListenerState;
  private readonly _names: ListenerNames;
  private _address: BoundAddress | null;
  private _sweep: NodeJS.Timeout | null;

  constructor(names: ListenerNames) {
    this._state = 'new';
    this._names = names;
    this._address = null;
    this._sweep = null;
  }

  /** The bound address (the real port when `listen` asked for port 0). Throws before start(). */
  address(): BoundAddress {
    if (this._address === null) throw new LogshipError('LS_INTERNAL', `${this._names.name} address() called before start()`);
    return this._address;
  }

  get port(): number {
    return this.address().port;
  }

  /**
   * start()'s first step: the host and port of `listen`. Throws LS_INTERNAL when this listener was
   * started before, LS_STARTUP when `listen` is not `kind`:HOST:PORT.
   */
  protected _listenAddress(listen: string, kind: 'tcp' | 'udp'): BoundAddress {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', `${this._names.source} started twice`);
    const a = parseListenAddress(listen);
    if (!a.ok || a.value.kind !== kind || !('port' in a.value)) {
      throw new LogshipError('LS_STARTUP', `${this._names.name}: listen "${listen}" is not ${kind}:HOST:PORT`);
    }
    return { host: a.value.host, port: a.value.port };
  }

  /** start()'s last step: bound to `address` and running; `sweep` runs every `periodMs` (an unref'd timer). */
  protected _running(address: BoundAddress, sweep: () => void, periodMs: number): void {
    this._address = address;
    this._state = 'running';
    this._sweep = setInterval(sweep, periodMs);
    this._sweep.unref();
  }

  /** stop()'s first step: false when nothing runs; else true, with the state stopped and the sweep cleared. */
  protected _stopping(): boolean {
    const was = this._state;
    this._state = 'stopped';
    if (was !== 'running') return false;
    if (this._sweep !== null) clearInterval(this._sweep);
    this._sweep = null;
    return true;
  }
}

/** How often to look for connections idle for `idleMs`: a quarter of it, from 10 ms to 1 s. */
export function idleSweepMs(idleMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(idleMs / 4)));
}

/** The address `server` is bound to, or `fallback` (the one asked for) when it reports none. */
export function serverAddress(server: Server, fallback: BoundAddress): BoundAddress {
  const bound = server.address();
  return bound !== null && typeof bound === 'object' ? { host: bound.address, port: bound.port } : fallback;
}
