// Which upstream a stream goes to under `upstream_policy: round-robin`. Pure bookkeeping: no
// sockets, no timers.
//
//   first sight of a stream  → home = next upstream in turn (0, 1, …, n-1, 0, …)
//   later batches            → the same home (sticky), so one stream is never on two upstreams
//   _homes: Map in least-recently-written order; past `max` entries the oldest is forgotten
//
// Forgetting is safe: the sender asks this only for a stream that has nothing in flight (a stream
// with batches in flight stays where they are), and such a stream may start anywhere without
// breaking its order. A forgotten stream simply gets the next home in turn.

export const DEFAULT_MAX_STREAMS = 65_536;

export class StreamSpread {
  private readonly _n: number;
  private readonly _max: number;
  private readonly _homes: Map<string, number>;
  private _next: number;

  constructor(upstreams: number, maxStreams = DEFAULT_MAX_STREAMS) {
    this._n = upstreams;
    this._max = maxStreams;
    this._homes = new Map();
    this._next = 0;
  }

  /** Streams remembered. */
  get size(): number {
    return this._homes.size;
  }

  /** The stream's home upstream (index), assigning the next one in turn at first sight. */
  home(key: string): number {
    let h = this._homes.get(key);
    if (h !== undefined) {
      // refresh its place in the least-recently-written order
      this._homes.delete(key);
      this._homes.set(key, h);
      return h;
    }
    h = this._next;
    this._next = (this._next + 1) % this._n;
    this._homes.set(key, h);
    if (this._homes.size > this._max) this._homes.delete(this._homes.keys().next().value!);
    return h;
  }
}
