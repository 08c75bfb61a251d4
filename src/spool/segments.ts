// The spool's segments as the writer and the reader share them: which exist, how many committed
// bytes and records each holds, which one is being written. Bookkeeping only: no I/O.
//
//   list (ascending seq):  [ 5 sealed | 6 sealed | 7 sealed | 8 open (written) ]
//                            ^ cursor (settled before)  ^ read position     ^ write end (committed)
//
// A segment's `bytes` is its committed size: the reader never reads past it, and recovery cut the
// file to it. `records` counts the log records (lines) of its batches, for the drop counters of drop-oldest.

import { join } from 'node:path';
import { LogshipError } from '../core/errors.js';
import { segmentName } from './format.js';

export interface Segment {
  readonly seq: number;
  readonly path: string;
  /** Committed size in bytes, header included. */
  bytes: number;
  /** Committed records (log lines), for the drop counters of drop-oldest. */
  records: number;
  /** Committed batches (spool records). */
  batches: number;
  /** True once the writer has moved on: the segment never grows again. */
  sealed: boolean;
}

export class SegmentSet {
  readonly dir: string;
  private readonly _list: Segment[];
  private _bytes: number;

  constructor(dir: string) {
    this.dir = dir;
    this._list = [];
    this._bytes = 0;
  }

  /** Sum of the committed sizes of every segment on disk. */
  get bytes(): number {
    return this._bytes;
  }

  get count(): number {
    return this._list.length;
  }

  get all(): readonly Segment[] {
    return this._list;
  }

  /** Adds a new segment after every existing one. */
  add(seq: number, bytes: number, records: number, batches: number, sealed: boolean): Segment {
    const last = this._list[this._list.length - 1];
    if (last !== undefined && last.seq >= seq) throw new LogshipError('LS_INTERNAL', `spool segment ${seq} added after ${last.seq}`);
    const seg: Segment = { seq, path: this.pathOf(seq), bytes, records, batches, sealed };
    this._list.push(seg);
    this._bytes += bytes;
    return seg;
  }

  pathOf(seq: number): string {
    return join(this.dir, segmentName(seq));
  }

  /** The writer committed `bytes` more (`batches` batches of `records` records) to `seg`. */
  grow(seg: Segment, bytes: number, records: number, batches: number): void {
    seg.bytes += bytes;
    seg.records += records;
    seg.batches += batches;
    this._bytes += bytes;
  }

  remove(seg: Segment): void {
    const i = this._list.indexOf(seg);
    if (i === -1) return;
    this._list.splice(i, 1);
    this._bytes -= seg.bytes;
  }

  get(seq: number): Segment | undefined {
    return this._list.find((s) => s.seq === seq);
  }

  /** The first segment with a sequence number >= seq. */
  atOrAfter(seq: number): Segment | undefined {
    return this._list.find((s) => s.seq >= seq);
  }

  get last(): Segment | undefined {
    return this._list[this._list.length - 1];
  }
}
