// Batch: the unit that flows from sources through the router to destinations.
//
//   data:  | rec 0 .......\n| rec 1 ....\n| rec 2 (split, no \n) | rec 3 ...\n|
//          0               ends[0]        ends[1]                ends[2]      ends[3]
//
// One Buffer holds the exact bytes of the stream range [pos.offset, pos.offset + data.length);
// ends[i] is the end (exclusive) of record i inside data, terminator included. A record's text is
// its slice without one trailing "\n" (and a "\r" before it). No per-record strings are made.
// Metadata shared by all records travels once per batch. Immutable after creation.

import type { Outcome } from './outcome.js';
import type { StreamPos } from './stream.js';

export interface BatchMeta {
  readonly host: string;
  readonly program: string;
  /** Facility code 0..23. */
  readonly facility: number;
  /** Severity code 0..7. */
  readonly severity: number;
  /** Time the bytes were read, ms since the epoch. */
  readonly timeMs: number;
}

export class Batch {
  readonly data: Buffer;
  readonly ends: Uint32Array;
  readonly meta: BatchMeta;
  readonly pos: StreamPos;
  /** Resolves with the joined outcome of every destination the batch was routed to. */
  readonly settled: Promise<Outcome>;
  private _settle: (o: Outcome) => void;
  private _isSettled: boolean;

  constructor(data: Buffer, ends: Uint32Array, meta: BatchMeta, pos: StreamPos) {
    this.data = data;
    this.ends = ends;
    this.meta = meta;
    this.pos = pos;
    this._isSettled = false;
    let settle!: (o: Outcome) => void;
    this.settled = new Promise<Outcome>((resolve) => {
      settle = resolve;
    });
    this._settle = settle;
  }

  get count(): number {
    return this.ends.length;
  }

  /** Stream offset just past the last byte of the batch. */
  get endOffset(): number {
    return this.pos.offset + this.data.length;
  }

  recordStart(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** End of record i's text inside data: without its "\n" or "\r\n" terminator. */
  textEnd(i: number): number {
    const start = this.recordStart(i);
    let end = this.ends[i]!;
    if (end > start && this.data[end - 1] === 0x0a) {
      end--;
      if (end > start && this.data[end - 1] === 0x0d) end--;
    }
    return end;
  }

  /** Called once by the pipeline; later calls are ignored. */
  settle(outcome: Outcome): void {
    if (this._isSettled) return;
    this._isSettled = true;
    this._settle(outcome);
  }
}

/** Build the ends array of a buffer that holds only "\n"-terminated records. */
export function indexLines(data: Buffer): Uint32Array {
  let n = 0;
  let i = data.indexOf(0x0a);
  while (i !== -1) {
    n++;
    i = data.indexOf(0x0a, i + 1);
  }
  const ends = new Uint32Array(n);
  n = 0;
  i = data.indexOf(0x0a);
  while (i !== -1) {
    ends[n++] = i + 1;
    i = data.indexOf(0x0a, i + 1);
  }
  return ends;
}
