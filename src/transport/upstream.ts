// Upstream selection for outgoing connections: ordered failover over a list of "host:port",
// jittered exponential backoff between passes, and an abortable sleep. Pure logic plus one timer;
// the socket itself is opened by tcp.ts (which resolves the name again on every connect).
//
//   pass 0: up[0] ✗ → up[1] ✗ → … up[n-1] ✗ ─ sleep backoff(0) ─► pass 1: up[0] ✗ → … ─ sleep backoff(1) ─► …
//   connected (WELCOME) → reset; lost → sleep backoff(k) → start again at up[0] (the preferred one)

import { LogshipError } from '../core/errors.js';
import { formatHostPort } from './listener.js';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** "host:port", for logs. */
  readonly label: string;
}

export function upstream(host: string, port: number): Upstream {
  return { host, port, label: formatHostPort(host, port) };
}

/** Delay for the `attempt`-th backoff: min·2^attempt capped at max, with "equal jitter" (½..1 of it). */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

export interface RotationOptions {
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly random?: () => number;
}

export class UpstreamRotation {
  readonly upstreams: readonly Upstream[];
  private readonly _min: number;
  private readonly _max: number;
  private readonly _random: () => number;
  private _index: number;
  /** Failed passes (or quick losses) in a row: the backoff exponent. */
  private _attempt: number;
  private _connectedAt: number;

  constructor(upstreams: readonly Upstream[], opts: RotationOptions) {
    if (upstreams.length === 0) throw new LogshipError('LS_INTERNAL', 'UpstreamRotation needs at least one upstream');
    this.upstreams = upstreams;
    this._min = opts.backoffMinMs;
    this._max = opts.backoffMaxMs;
    this._random = opts.random ?? Math.random;
    this._index = 0;
    this._attempt = 0;
    this._connectedAt = 0;
  }

  current(): Upstream {
    return this.upstreams[this._index]!;
  }

  /** The current upstream could not be used (connect error, timeout, refused): the delay before the next try. */
  failed(): number {
    this._index++;
    if (this._index < this.upstreams.length) return 0;
    this._index = 0;
    return backoffDelay(this._attempt++, this._min, this._max, this._random);
  }

  /** The handshake with the current upstream completed. */
  connected(nowMs: number): void {
    this._connectedAt = nowMs;
  }

  /**
   * An established connection was lost: the delay before trying again from the first upstream.
   * A connection that lived at least backoff_max resets the backoff; quick losses keep growing it
   * (an upstream that accepts and drops at once is not hammered).
   */
  lost(nowMs: number): number {
    if (nowMs - this._connectedAt >= this._max) this._attempt = 0;
    this._index = 0;
    return backoffDelay(this._attempt++, this._min, this._max, this._random);
  }
}

/** Resolves after ms, or at once when the signal aborts (never rejects). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
