// Upstreams named "host:port": resolving the name on every connect (never cached here), dialling
// its addresses in order, per-upstream health with its own backoff, and the ordered rotation the
// syslog destinations use. Pure logic plus timers; sockets are opened by tcp.ts, frames are not
// known here.
//
//   ordered rotation (UpstreamRotation, one connection, syslog destinations):
//   pass 0: up[0] ✗ → up[1] ✗ → … up[n-1] ✗ ─ sleep backoff(0) ─► pass 1: up[0] ✗ → … ─ sleep backoff(1) ─► …
//   connected → reset; lost → sleep backoff(k) → start again at up[0] (the preferred one)
//
//   per-upstream health (UpstreamHealth, ship destination):
//     unknown ──connect ok──► up ──lost / failed──► down(retryAt = now + own backoff) ──retryAt passed──► usable again
//   the backoff exponent grows with every failure and quick loss, and resets after a connection
//   that lived backoff_max; failover picks the first usable upstream in list order.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import { LogshipError } from '../core/errors.js';
import { formatHostPort } from './listener.js';
import { connectTcp } from './tcp.js';

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

// ---- per-upstream health -----------------------------------------------------------------------

export type HealthState = 'unknown' | 'up' | 'down';

export class UpstreamHealth {
  readonly upstream: Upstream;
  private readonly _min: number;
  private readonly _max: number;
  private readonly _random: () => number;
  private _state: HealthState;
  /** Failures and quick losses in a row: the backoff exponent. */
  private _failures: number;
  private _retryAt: number;
  private _connectedAt: number;

  constructor(up: Upstream, opts: RotationOptions) {
    this.upstream = up;
    this._min = opts.backoffMinMs;
    this._max = opts.backoffMaxMs;
    this._random = opts.random ?? Math.random;
    this._state = 'unknown';
    this._failures = 0;
    this._retryAt = 0;
    this._connectedAt = 0;
  }

  get state(): HealthState {
    return this._state;
  }

  /** When a down upstream may be tried again (ms since the epoch, 0 when never failed). */
  get retryAt(): number {
    return this._retryAt;
  }

  /** May be tried now: not down, or its backoff has passed. */
  usable(nowMs: number): boolean {
    return this._state !== 'down' || nowMs >= this._retryAt;
  }

  /** A connect, handshake or probe failed. True when this marked the upstream down (it was not). */
  failed(nowMs: number): boolean {
    return this._down(nowMs);
  }

  /** The handshake completed. True when the upstream had been marked down (it is back up). */
  connected(nowMs: number): boolean {
    const wasDown = this._state === 'down';
    this._state = 'up';
    this._connectedAt = nowMs;
    return wasDown;
  }

  /**
   * An established connection was lost: down for its backoff. A connection that lived at least
   * backoff_max resets the backoff; quick losses keep growing it (an upstream that accepts and
   * drops at once is not hammered). True when this marked the upstream down.
   */
  lost(nowMs: number): boolean {
    if (this._state === 'up' && nowMs - this._connectedAt >= this._max) this._failures = 0;
    return this._down(nowMs);
  }

  private _down(nowMs: number): boolean {
    const was = this._state;
    this._state = 'down';
    this._retryAt = nowMs + backoffDelay(this._failures++, this._min, this._max, this._random);
    return was !== 'down';
  }
}

/** Index of the first usable upstream among the first `below` (list order = preference), or -1. */
export function firstUsable(healths: readonly UpstreamHealth[], nowMs: number, below = healths.length): number {
  for (let i = 0; i < below && i < healths.length; i++) if (healths[i]!.usable(nowMs)) return i;
  return -1;
}

/** Milliseconds until the first down upstream may be tried again (0 when one is usable now). */
export function untilNextUsable(healths: readonly UpstreamHealth[], nowMs: number): number {
  let at = Number.POSITIVE_INFINITY;
  for (const h of healths) at = Math.min(at, h.usable(nowMs) ? nowMs : h.retryAt);
  return at === Number.POSITIVE_INFINITY ? 0 : Math.max(0, at - nowMs);
}

// ---- resolving and dialling --------------------------------------------------------------------

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a name to its addresses, in the order to try them. */
export type Lookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The OS resolver (getaddrinfo: /etc/hosts, DNS…), asked anew on every call. */
export const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true });

/** Addresses tried per connect at most (a name with hundreds of records is not walked whole). */
export const MAX_ADDRESSES = 8;

export interface DialOptions {
  /** Bound of the name resolution, and of each address's TCP connect. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Name resolution; default systemLookup. IP literals are never looked up. */
  readonly lookup?: Lookup;
}

export interface Dialled {
  readonly socket: Socket;
  /** The address that answered. */
  readonly address: string;
}

/**
 * Resolve the upstream's name now (it is never cached here: addresses change) and connect to its
 * addresses in order until one answers. Rejects with LS_SHIP_RESOLVE when the name does not
 * resolve, LS_SHIP_DISCONNECTED when no address accepts, LS_SHUTDOWN when aborted.
 */
export async function dialUpstream(up: Upstream, opts: DialOptions): Promise<Dialled> {
  const addresses = await resolveUpstream(up, opts);
  const errors: string[] = [];
  let last: unknown;
  for (const a of addresses.slice(0, MAX_ADDRESSES)) {
    try {
      return { socket: await connectTcp(a.address, up.port, { timeoutMs: opts.timeoutMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }) }), address: a.address };
    } catch (err) {
      if (err instanceof LogshipError && err.code === 'LS_SHUTDOWN') throw err;
      last = err;
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  const which = isIP(up.host) === 0 ? ` (${up.host} resolved to ${addresses.map((a) => a.address).join(', ')})` : '';
  throw new LogshipError('LS_SHIP_DISCONNECTED', `cannot connect to upstream ${up.label}${which}: ${errors.join('; ')}`, { cause: last });
}

/** The upstream's addresses: the IP itself, or the lookup's answer (bounded by timeoutMs and the signal). */
export async function resolveUpstream(up: Upstream, opts: DialOptions): Promise<readonly ResolvedAddress[]> {
  const family = isIP(up.host);
  if (family !== 0) return [{ address: up.host, family }];
  const lookup = opts.lookup ?? systemLookup;
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await bounded(lookup(up.host), opts.timeoutMs, opts.signal);
  } catch (err) {
    if (err instanceof LogshipError && err.code === 'LS_SHUTDOWN') throw err;
    const code = (err as { code?: unknown } | null)?.code;
    const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    throw new LogshipError(
      'LS_SHIP_RESOLVE',
      `cannot resolve upstream ${up.label}: ${why}; check the name (DNS, /etc/hosts) or list another upstream`,
      { cause: err },
    );
  }
  if (addresses.length === 0) {
    throw new LogshipError('LS_SHIP_RESOLVE', `upstream ${up.label}: the name resolved to no address; check its DNS records`);
  }
  return addresses;
}

/** `p`, or an error after ms, or LS_SHUTDOWN on abort; the timer never outlives the race. */
function bounded<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new LogshipError('LS_SHUTDOWN', 'name resolution aborted: shutting down'));
      return;
    }
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(new LogshipError('LS_SHUTDOWN', 'name resolution aborted: shutting down'));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no answer from the resolver within ${ms} ms (connect_timeout_ms)`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        finish();
        resolve(v);
      },
      (err: unknown) => {
        finish();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
