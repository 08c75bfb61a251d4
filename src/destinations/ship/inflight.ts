// The unacknowledged batches of a ship destination, in write order, with per-stream ack lookup.
// Pure bookkeeping: no sockets, no timers.
//
//   _order:    [ e0(A) | e1(B) | e2(A) | e3(B) | e4(A) ]   write order = send/resend order
//                 ^_head (entries before it are done; done ones in the middle are skipped)
//   _streams:  A → [ e0, e2, e4 ]    B → [ e1, e3 ]      each in write order
//
// An ACK (origin, stream, X) settles the stream's entries from its front while endOffset <= X
// (acks are cumulative per stream). Size is bounded by the router's maxInFlight (the window).
// One queue per upstream: when an upstream is given up, `takeAll` hands its entries (in write
// order, still unsettled) to another upstream's queue through `adopt`.

import type { Outcome } from '../../core/outcome.js';

export interface Pending {
  readonly key: string;
  readonly endOffset: number;
  /** The encoded BATCH frame, kept for resending; released (empty) once the entry is settled. */
  frame: Buffer;
  /** Times this entry was written to a connection. */
  sends: number;
  done: boolean;
  readonly resolve: (o: Outcome) => void;
}

const COMPACT_AT = 1024;
const RELEASED = Buffer.alloc(0);

/** Settle an entry and let go of its frame at once: settled entries may wait in `_order` for a while. */
function finish(e: Pending, outcome: Outcome): void {
  e.done = true;
  e.frame = RELEASED;
  e.resolve(outcome);
}

export class InflightQueue {
  private _order: Pending[];
  private _head: number;
  private readonly _streams: Map<string, Pending[]>;
  private _size: number;

  constructor() {
    this._order = [];
    this._head = 0;
    this._streams = new Map();
    this._size = 0;
  }

  /** Entries not yet settled. */
  get size(): number {
    return this._size;
  }

  /** True while the stream has unsettled entries here. */
  has(key: string): boolean {
    return this._streams.has(key);
  }

  add(key: string, endOffset: number, frame: Buffer): { entry: Pending; settled: Promise<Outcome> } {
    let resolve!: (o: Outcome) => void;
    const settled = new Promise<Outcome>((r) => {
      resolve = r;
    });
    const entry: Pending = { key, endOffset, frame, sends: 0, done: false, resolve };
    this.adopt(entry);
    return { entry, settled };
  }

  /** Append an unsettled entry taken from another queue (it keeps its promise and send count). */
  adopt(entry: Pending): void {
    this._order.push(entry);
    let list = this._streams.get(entry.key);
    if (list === undefined) {
      list = [];
      this._streams.set(entry.key, list);
    }
    list.push(entry);
    this._size++;
  }

  /** Remove and return every unsettled entry, in write order, without settling them. */
  takeAll(): Pending[] {
    const out = [...this.unsettled()];
    this._order = [];
    this._head = 0;
    this._streams.clear();
    this._size = 0;
    return out;
  }

  /** Settle (with `outcome`) the entries of the stream covered by a cumulative ack; returns how many. */
  ack(key: string, offset: number, outcome: Outcome): number {
    const list = this._streams.get(key);
    if (list === undefined) return 0;
    let n = 0;
    while (n < list.length && list[n]!.endOffset <= offset) {
      finish(list[n]!, outcome);
      n++;
    }
    if (n === 0) return 0;
    if (n === list.length) this._streams.delete(key);
    else list.splice(0, n);
    this._size -= n;
    this._compact();
    return n;
  }

  /**
   * Settle one entry out of order (it can never be sent). Safe while iterating `unsettled()`:
   * the write-order array is only compacted by `ack`.
   */
  settleOne(entry: Pending, outcome: Outcome): void {
    if (entry.done) return;
    const list = this._streams.get(entry.key);
    if (list !== undefined) {
      const i = list.indexOf(entry);
      if (i !== -1) list.splice(i, 1);
      if (list.length === 0) this._streams.delete(entry.key);
    }
    this._size--;
    finish(entry, outcome);
  }

  /** Unsettled entries in write order (for resending on a new connection). */
  *unsettled(): IterableIterator<Pending> {
    for (let i = this._head; i < this._order.length; i++) {
      const e = this._order[i]!;
      if (!e.done) yield e;
    }
  }

  /** Settle every entry with `outcome` (shutdown). */
  settleAll(outcome: Outcome): void {
    for (const e of this.unsettled()) finish(e, outcome);
    this._order = [];
    this._head = 0;
    this._streams.clear();
    this._size = 0;
  }

  private _compact(): void {
    while (this._head < this._order.length && this._order[this._head]!.done) this._head++;
    if (this._head === this._order.length) {
      this._order = [];
      this._head = 0;
    } else if (this._order.length - this._head > 2 * this._size + COMPACT_AT) {
      // Settled entries stuck behind a slow stream: drop them so their frames can be freed.
      this._order = this._order.filter((e, i) => i >= this._head && !e.done);
      this._head = 0;
    } else if (this._head >= COMPACT_AT && this._head * 2 >= this._order.length) {
      this._order = this._order.slice(this._head);
      this._head = 0;
    }
  }
}
