// Collects records that arrive one by one (datagrams, deframed stream messages) into batches of
// one stream, and pushes them: when the batch is full (bytes or records), or after a short delay.
// For sources that cannot re-read their input: the stream id is random per run and offsets count
// the bytes this stream has produced. Each record is stored with a "\n" terminator.
//
//   buf:  | rec 0 \n | rec 1 \n | rec 2 \n | ...free... |
//         0          ends[0]    ends[1]    ends[2]=len  cap

import { randomBytes } from 'node:crypto';
import { Batch, type BatchMeta } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';

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
/** Initial size of the batch buffer (grown on demand up to about maxBatchBytes). */
export const INITIAL_BUFFER_BYTES = 4096;
const INITIAL_RECORDS = 64;

export class RecordBatcher {
  readonly stream: string;
  private readonly _ctx: SourceContext;
  private readonly _opts: RecordBatcherOptions;
  private _buf: Buffer;
  private _len: number;
  private _ends: Uint32Array;
  private _count: number;
  private _offset: number;
  private _timer: NodeJS.Timeout | undefined;
  private _pushing: Promise<void>;

  constructor(ctx: SourceContext, opts: RecordBatcherOptions) {
    this._ctx = ctx;
    this._opts = opts;
    this.stream = opts.stream ?? randomBytes(8).toString('hex');
    // Small at first: a UDP sender or a connection may send one message in its life; _reserve()
    // doubles the buffer as records come.
    this._buf = Buffer.allocUnsafe(Math.min(opts.maxBatchBytes, INITIAL_BUFFER_BYTES));
    this._len = 0;
    this._ends = new Uint32Array(INITIAL_RECORDS);
    this._count = 0;
    this._offset = 0;
    this._timer = undefined;
    this._pushing = Promise.resolve();
  }

  /** Bytes waiting in the current batch. */
  get pendingBytes(): number {
    return this._len;
  }

  /**
   * Adds one record (bytes [start, end) of src, without terminator). Resolves when the record is
   * taken; if that filled a batch, only once the router has taken the batch (backpressure).
   */
  add(src: Buffer, start = 0, end = src.length): Promise<void> | undefined {
    const n = end - start;
    this._reserve(n + 1);
    src.copy(this._buf, this._len, start, end);
    this._len += n;
    this._buf[this._len++] = 0x0a;
    if (this._count === this._ends.length) {
      const grown = new Uint32Array(this._ends.length * 2);
      grown.set(this._ends);
      this._ends = grown;
    }
    this._ends[this._count++] = this._len;
    if (this._len >= this._opts.maxBatchBytes || this._count >= MAX_RECORDS) return this.flush();
    if (this._timer === undefined) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        void this.flush();
      }, this._opts.maxDelayMs);
    }
    return undefined;
  }

  /** Pushes what is waiting (if anything); resolves when the router has taken it. */
  flush(): Promise<void> {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
    if (this._count === 0) return this._pushing;
    const data = Buffer.from(this._buf.subarray(0, this._len));
    const ends = this._ends.slice(0, this._count);
    const batch = new Batch(data, ends, { ...this._opts.meta, timeMs: Date.now() }, { origin: this._ctx.node.name, stream: this.stream, offset: this._offset });
    this._offset += data.length;
    this._len = 0;
    this._count = 0;
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

  private _reserve(n: number): void {
    if (this._len + n <= this._buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this._buf.length * 2, this._len + n));
    this._buf.copy(grown, 0, 0, this._len);
    this._buf = grown;
  }
}
