// Batch: the unit that flows from sources through the router to destinations.
//
//   data:  | rec 0 .......\n| rec 1 ....\n| rec 2 (split, no \n) | rec 3 ...\n|
//          0               ends[0]        ends[1]                ends[2]      ends[3]
//
// One Buffer holds the exact bytes of the stream range [pos.offset, pos.offset + data.length);
// ends[i] is the end (exclusive) of record i inside data, terminator included. A record's text is
// its slice without one trailing "\n" (and a "\r" before it). No per-record strings are made.
// Metadata shared by all records travels once per batch. Immutable after creation.
//
// A batch cut by a per-record filter is *compacted*: data holds only the kept records, each with
// its own stream offset in recordOffsets, and endOffset still marks the end of the whole range the
// batch accounts for (so dedupe high-water marks move past dropped records too).
//
// Once a batch has settled, its source may reuse its data buffer (the file source pools its read
// buffers): whatever a destination, the router or a spool keeps past its outcome, it copies first
// (an encoded frame, a spool record, a compacted batch), and a parked batch is not settled.
//
// When meta.format is 'syslog', each record is a syslog message; its per-record fields (host,
// program, PRI, timestamp…) are parsed only when something needs them, into `fields`.

import type { Outcome } from './outcome.js';
import type { RecordFields } from './records.js';
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
  /** 'syslog': every record is a syslog message (RFC 3164/5424) whose header overrides the above per record. */
  readonly format?: 'syslog';
}

export interface BatchExtras {
  /** Stream offset of each record's first byte, when the records are not contiguous in the stream. */
  readonly recordOffsets?: Float64Array;
  /** End of the stream range the batch accounts for; default pos.offset + data.length. */
  readonly endOffset?: number;
  /** Already-parsed per-record fields (syslog sources parse as they receive). */
  readonly fields?: RecordFields;
  /**
   * Earlier batches of this stream went through another path (another relay), which acknowledged
   * them and may still hold them: a receiver that dedupes by high-water mark waits for them before
   * writing past a gap (ship protocol flag 0x10, docs/protocol.md §4).
   */
  readonly rerouted?: boolean;
}

export class Batch {
  readonly data: Buffer;
  readonly ends: Uint32Array;
  readonly meta: BatchMeta;
  readonly pos: StreamPos;
  /** Resolves with the joined outcome of every destination the batch was routed to. */
  readonly settled: Promise<Outcome>;
  readonly recordOffsets: Float64Array | undefined;
  /** Per-record syslog fields: set by the source, or parsed on first need (codec/syslog recordFields()). */
  fields: RecordFields | undefined;
  /** See BatchExtras.rerouted. */
  readonly rerouted: boolean;
  private readonly _endOffset: number;
  private _settle: (o: Outcome) => void;
  private _isSettled: boolean;

  constructor(data: Buffer, ends: Uint32Array, meta: BatchMeta, pos: StreamPos, extras?: BatchExtras) {
    this.data = data;
    this.ends = ends;
    this.meta = meta;
    this.pos = pos;
    this.recordOffsets = extras?.recordOffsets;
    this.fields = extras?.fields;
    this.rerouted = extras?.rerouted === true;
    this._endOffset = extras?.endOffset ?? pos.offset + data.length;
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

  /** Stream offset just past the range the batch accounts for. */
  get endOffset(): number {
    return this._endOffset;
  }

  recordStart(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Stream offset of record i's first byte. */
  recordOffset(i: number): number {
    return this.recordOffsets === undefined ? this.pos.offset + this.recordStart(i) : this.recordOffsets[i]!;
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

/**
 * The kept records of a batch as a new batch: their bytes copied once into one buffer, each with
 * its own stream offset, and the same end offset (so a receiver's high-water mark passes the
 * dropped records too). The batch itself when every record is kept; null when none is.
 */
export function compact(batch: Batch, mask: Uint8Array): Batch | null {
  let kept = 0;
  let bytes = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) {
      kept++;
      bytes += batch.ends[i]! - batch.recordStart(i);
    }
  }
  if (kept === mask.length) return batch;
  if (kept === 0) return null;
  const data = Buffer.allocUnsafe(bytes);
  const ends = new Uint32Array(kept);
  const offsets = new Float64Array(kept);
  let at = 0;
  let k = 0;
  // Kept records that follow each other in data are copied as one run (one copy, not one per record).
  let runStart = -1;
  for (let i = 0; i <= mask.length; i++) {
    if (i < mask.length && mask[i] === 1) {
      if (runStart < 0) runStart = batch.recordStart(i);
      offsets[k] = batch.recordOffset(i);
      ends[k++] = at + batch.ends[i]! - runStart;
    } else if (runStart >= 0) {
      const runEnd = batch.ends[i - 1]!;
      batch.data.copy(data, at, runStart, runEnd);
      at += runEnd - runStart;
      runStart = -1;
    }
  }
  return new Batch(data, ends, batch.meta, batch.pos, { recordOffsets: offsets, endOffset: batch.endOffset, rerouted: batch.rerouted });
}
