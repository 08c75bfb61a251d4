// Collects records that arrive one by one (datagrams, deframed stream messages) into batches of
// one stream, and pushes them: when the batch is full (bytes or records), or after a short delay.
// For sources that cannot re-read their input: the stream id is random per run and offsets count
// the bytes this stream has produced. Each record is stored with a "\n" terminator.
//
//   batch data:  | rec 0 \n | rec 1 \n | rec 2 \n | ...
//                0          ends[0]    ends[1]    ends[2]
//
// Bytes are copied once per batch, when it is cut: until then the batch is a list of pieces, each a
// range of some Buffer. A record that the caller marks `stable` (its buffer is never written again,
// e.g. a received socket chunk) and that is followed there by its "\n" is not copied at all: it
// becomes a view of that buffer, and consecutive records of one chunk make one piece. Any other
// record is copied (with a "\n" added) into a scratch buffer that is reused from batch to batch,
// or, when the batch is nothing but that buffer and mostly fills it, becomes the batch's data.
//
//   pieces:  [chunk A 0..65536) [scratch 0..210) [chunk B 120..65536) ...   → one Buffer at cut
//
// Batch-sized buffers (a batch's data, a full-size scratch buffer) come from a pool shared by the
// batchers of one batch size and go back when their batch has settled (sources/common/buffers.ts).

import { randomBytes } from 'node:crypto';
import { Batch, type BatchMeta } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';
import { copyBytes, SMALL_COPY } from '../../util/copy-bytes.js';
import { sharedBuffers, type ReadBuffers } from './buffers.js';

export interface RecordBatcherOptions {
  /** Meta shared by the records (timeMs is set when the batch is cut). */
  readonly meta: Omit<BatchMeta, 'timeMs'>;
  /** Cut a batch at this many bytes. */
  readonly maxBatchBytes: number;
  /** Cut a batch after this long with records waiting. */
  readonly maxDelayMs: number;
  /** Stream id; default a random one. */
  readonly stream?: string;
}

const MAX_RECORDS = 65_536;
/** Initial size of the scratch buffer (grown on demand up to about maxBatchBytes). */
export const INITIAL_BUFFER_BYTES = 4096;
const INITIAL_RECORDS = 64;
const LF = 0x0a;
/** A record this close to the end of a buffer that starts with it is copied with the buffer's tail. */
const WHOLE_SLACK = 16;
/** Room past maxBatchBytes in the scratch buffer, for the record that fills a batch. */
const SCRATCH_SLACK = 16 * 1024;

/** Size of the pooled buffers of batchers of `maxBatchBytes` (a batch's bytes and some room). */
export function batchBufferBytes(maxBatchBytes: number): number {
  return maxBatchBytes + SCRATCH_SLACK;
}

export class RecordBatcher {
  readonly stream: string;
  private readonly _ctx: SourceContext;
  private readonly _opts: RecordBatcherOptions;
  /** Copies of the records that are not views; reused for every batch. */
  private _scratch: Buffer;
  private _scratchLen: number;
  /** The current batch as pieces: bytes [_pieceStart[k], _pieceEnd[k]) of _pieceSrc[k]. */
  private readonly _pieceSrc: Buffer[];
  private readonly _pieceStart: number[];
  private readonly _pieceEnd: number[];
  /** Bytes of the current batch. */
  private _len: number;
  private _ends: Uint32Array;
  private _count: number;
  private _offset: number;
  private _timer: NodeJS.Timeout | undefined;
  private _pushing: Promise<void>;
  /** Batch-sized buffers, shared by the batchers of one batch size (see sources/common/buffers.ts). */
  private readonly _pool: ReadBuffers;

  constructor(ctx: SourceContext, opts: RecordBatcherOptions) {
    this._ctx = ctx;
    this._opts = opts;
    this.stream = opts.stream ?? randomBytes(8).toString('hex');
    // Small at first: a UDP sender or a connection may send one message in its life; _reserve()
    // doubles the buffer as records come.
    this._scratch = Buffer.allocUnsafe(Math.min(opts.maxBatchBytes, INITIAL_BUFFER_BYTES));
    this._scratchLen = 0;
    this._pieceSrc = [];
    this._pieceStart = [];
    this._pieceEnd = [];
    this._len = 0;
    this._ends = new Uint32Array(INITIAL_RECORDS);
    this._count = 0;
    this._offset = 0;
    this._timer = undefined;
    this._pushing = Promise.resolve();
    this._pool = sharedBuffers(batchBufferBytes(opts.maxBatchBytes));
  }

  /** Bytes waiting in the current batch. */
  get pendingBytes(): number {
    return this._len;
  }

  /**
   * Adds one record (bytes [start, end) of src, without terminator). Resolves when the record is
   * taken; if that filled a batch, only once the router has taken the batch (backpressure).
   * `stable`: src is never written again (a received chunk), so the record may be kept as a view
   * of it until the batch is cut, instead of being copied now.
   */
  add(src: Buffer, start = 0, end = src.length, stable = false): Promise<void> | undefined {
    const n = end - start;
    if (stable && end < src.length && src[end] === LF) {
      // A view, with the "\n" that follows it: it extends the last piece when it follows it in src.
      const k = this._pieceSrc.length - 1;
      if (k >= 0 && this._pieceSrc[k] === src && this._pieceEnd[k] === start) this._pieceEnd[k] = end + 1;
      else this._piece(src, start, end + 1);
    } else {
      // A record at the start of its own buffer (a datagram) is copied with what follows it (a
      // trailing LF or so, overwritten next): TypedArray.set of a whole buffer needs no view object.
      const whole = start === 0 && n > SMALL_COPY && src.length - end <= WHOLE_SLACK;
      this._reserve((whole ? src.length : n) + 1);
      const buf = this._scratch;
      const at = this._scratchLen;
      let stop: number;
      if (whole) {
        buf.set(src, at);
        stop = at + n;
      } else stop = copyBytes(buf, at, src, start, end);
      buf[stop] = LF;
      this._scratchLen = stop + 1;
      const k = this._pieceSrc.length - 1;
      if (k >= 0 && this._pieceSrc[k] === buf && this._pieceEnd[k] === at) this._pieceEnd[k] = stop + 1;
      else this._piece(buf, at, stop + 1);
    }
    this._len += n + 1;
    if (this._count === this._ends.length) {
      const grown = new Uint32Array(this._ends.length * 2);
      grown.set(this._ends);
      this._ends = grown;
    }
    this._ends[this._count++] = this._len;
    if (this._len >= this._opts.maxBatchBytes || this._count >= MAX_RECORDS) return this.flush();
    if (this._timer === undefined) this._armTimer();
    return undefined;
  }

  // Not inline in add(): a closure there (capturing `this`) makes every call of add() allocate a
  // context object, about 40 MB per million records.
  private _armTimer(): void {
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this.flush();
    }, this._opts.maxDelayMs);
  }

  /** Pushes what is waiting (if anything); resolves when the router has taken it. */
  flush(): Promise<void> {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    if (this._count === 0) return this._pushing;
    const srcs = this._pieceSrc;
    let data: Buffer;
    /** The buffer behind data: back to the pool once the batch has settled (core/batch.ts). */
    let whole: Buffer;
    if (srcs.length === 1 && srcs[0] === this._scratch && this._pieceStart[0] === 0 && this._len * 4 >= this._scratch.length * 3) {
      // Every record was copied into the scratch buffer, which it mostly fills: the batch takes
      // it as it is, and the next batch gets a new one of the same size.
      whole = this._scratch;
      data = whole.subarray(0, this._len);
      this._scratch = this._alloc(whole.length);
    } else {
      // The one copy of the batch's bytes.
      whole = this._alloc(this._len);
      data = whole.length === this._len ? whole : whole.subarray(0, this._len);
      let at = 0;
      for (let k = 0; k < srcs.length; k++) at = copyBytes(data, at, srcs[k]!, this._pieceStart[k]!, this._pieceEnd[k]!);
    }
    const ends = this._ends.slice(0, this._count);
    this._len = 0;
    this._count = 0;
    this._scratchLen = 0;
    srcs.length = 0;
    this._pieceStart.length = 0;
    this._pieceEnd.length = 0;
    return this._push(data, whole, ends);
  }

  /**
   * Pushes a batch made elsewhere (the native TCP reader): `data` (a view of `whole`) holds records
   * each ended by LF, `ends` their end offsets. After what is waiting here, in order.
   */
  pushBatch(data: Buffer, whole: Buffer, ends: Uint32Array): Promise<void> {
    if (this._count > 0) void this.flush();
    return this._push(data, whole, ends);
  }

  /** The pool batch buffers come from (for a reader that fills them itself). */
  get buffers(): ReadBuffers {
    return this._pool;
  }

  private _push(data: Buffer, whole: Buffer, ends: Uint32Array): Promise<void> {
    const batch = new Batch(data, ends, { ...this._opts.meta, timeMs: Date.now() }, { origin: this._ctx.node.name, stream: this.stream, offset: this._offset });
    if (whole.length === this._pool.size) {
      const pool = this._pool;
      void batch.settled.then(() => pool.give(whole));
    }
    this._offset += data.length;
    this._ctx.telemetry.emit('source_batches', {}, 1);
    this._ctx.telemetry.emit('source_lines', {}, ends.length);
    this._ctx.telemetry.emit('source_bytes', {}, data.length);
    // Batches of one stream are pushed in order.
    this._pushing = this._pushing.then(() => this._ctx.push(batch));
    return this._pushing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }

  private _piece(src: Buffer, start: number, end: number): void {
    this._pieceSrc.push(src);
    this._pieceStart.push(start);
    this._pieceEnd.push(end);
  }

  /**
   * Room for n more bytes in the scratch buffer. A grown buffer starts empty: the pieces already
   * cut keep the old one (alive until the batch is cut), so nothing is copied here.
   */
  private _reserve(n: number): void {
    if (this._scratchLen + n <= this._scratch.length) return;
    // Doubling, but not far past a batch: a full batch then mostly fills it (see flush()).
    const size = Math.max(Math.min(this._scratch.length * 2, this._opts.maxBatchBytes + SCRATCH_SLACK), n);
    this._scratch = this._alloc(size);
    this._scratchLen = 0;
  }

  /** A buffer for `n` bytes: a pooled one (maxBatchBytes + SCRATCH_SLACK) for a batch's worth, else its own. */
  private _alloc(n: number): Buffer {
    return n * 2 >= this._pool.size && n <= this._pool.size ? this._pool.take(n) : Buffer.allocUnsafe(n);
  }
}
