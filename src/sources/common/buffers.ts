// Buffers for batch data, reused: the read buffers of a file source, the batches of the record
// batcher (syslog and local sockets). A fresh buffer per batch becomes garbage once its batch has
// settled; V8 collects such external memory late (a fast file tail held tens of MB of dead buffers,
// issue 5: client peak RSS in S3), and its growth triggers full collections (mark-compacts).
//
// A buffer goes back to the free list only when the batch made of it has settled: by then every
// destination has finished with its bytes (whatever a destination keeps, it copies: ship frames,
// spool records, compacted batches, formatted lines; core/batch.ts).

/** A read at least this share of a chunk uses a pooled chunk; smaller ones get a buffer of their size. */
const POOLED_SHARE = 0.5;

export class ReadBuffers {
  /** Size of the pooled buffers (read_chunk_bytes). */
  readonly size: number;
  private readonly _maxFree: number;
  private readonly _free: Buffer[];
  private _allocated: number;

  constructor(size: number, maxFree: number) {
    this.size = size;
    this._maxFree = maxFree;
    this._free = [];
    this._allocated = 0;
  }

  /** Buffers kept for reuse now. */
  get free(): number {
    return this._free.length;
  }

  /** Pooled buffers allocated so far (a reused buffer does not count). */
  get allocated(): number {
    return this._allocated;
  }

  /** A buffer of at least `want` (≤ size) bytes. Its content is not zeroed. */
  take(want: number): Buffer {
    if (want < this.size * POOLED_SHARE) return Buffer.allocUnsafe(want);
    const b = this._free.pop();
    if (b !== undefined) return b;
    this._allocated++;
    // allocUnsafeSlow: its own memory, never a slice of Node's shared pool.
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** Give back a buffer from take() once nothing refers to its bytes any more. */
  give(b: Buffer): void {
    if (b.length === this.size && this._free.length < this._maxFree) this._free.push(b);
  }
}

/** Pooled buffers kept free per size by sharedBuffers(). */
const SHARED_MAX_FREE = 16;
const SHARED = new Map<number, ReadBuffers>();

/** The process-wide pool of `size`-byte buffers (record batchers of one batch size share one). */
export function sharedBuffers(size: number): ReadBuffers {
  let p = SHARED.get(size);
  if (p === undefined) {
    p = new ReadBuffers(size, SHARED_MAX_FREE);
    SHARED.set(size, p);
  }
  return p;
}
