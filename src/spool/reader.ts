// The spool's reader: reads records in order from the cursor, decodes each back into a batch,
// pushes it into the pipeline (awaiting backpressure), and keeps a bounded window of batches in
// flight. The cursor advances over the contiguous prefix of settled batches; it is persisted at most
// CURSOR_INTERVAL_MS after it moved (or a segment was committed or sealed) and at stop, and sealed
// segments wholly behind the persisted cursor are deleted. While nothing moves, no timer runs: an
// idle spool costs no wake-ups.
//
//   segments:  [ 5 ......|........ ] [ 6 ............ ] [ 7 (written) ...... ]
//                        ^cursor          ^read position            ^committed end
//   in flight:  | done | pending | done | pending |   (read order)
//               cursor moves past "done" entries at the head only
//
// A retryable outcome (the pipeline is stopping) is a hole: the cursor stops before it and nothing
// more is handed out; the batch is sent again after restart, and the receiver drops what it has.

import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ShipBatchDecoder } from '../codec/ship/index.js';
import { Batch } from '../core/batch.js';
import type { Telemetry } from '../core/component.js';
import type { Outcome } from '../core/outcome.js';
import { CURSOR_FILE, writeCursor, type SpoolPos } from './cursor.js';
import { MAX_RECORD_BYTES, SEGMENT_HEADER_BYTES, SegmentReader } from './format.js';
import type { Segment, SegmentSet } from './segments.js';

/** Batches handed out and not yet settled, at most. */
export const MAX_IN_FLIGHT_BATCHES = 64;
/** Bytes of batch data handed out and not yet settled, at most (a single bigger batch still goes). */
export const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
export const CURSOR_INTERVAL_MS = 200;
const READ_CHUNK_BYTES = 1024 * 1024;

const PENDING = 0;
const DONE = 1;
const HOLE = 2;

interface Entry {
  readonly seq: number;
  /** Segment offset just past the record. */
  readonly end: number;
  readonly bytes: number;
  state: number;
}

export interface ReaderHooks {
  /** Whole segments were deleted: there may be room for waiting appends. */
  onFreed(): void;
  /** Cumulative records dropped by drop-oldest, persisted with the cursor. */
  droppedRecords(): number;
}

export class SpoolReader {
  private readonly _segments: SegmentSet;
  private readonly _telemetry: Telemetry;
  private readonly _hooks: ReaderHooks;
  private readonly _sync: boolean;
  private readonly _file: string;
  private readonly _decoder: ShipBatchDecoder;
  private _cursor: SpoolPos;
  private _persisted: { pos: SpoolPos; dropped: number } | null;
  /** The segment being read, or the first one to look for. */
  private _readSeq: number;
  private _readOffset: number;
  private _seg: Segment | null;
  private _fh: FileHandle | null;
  private _reader: SegmentReader | null;
  private readonly _inflight: Entry[];
  private _inflightBytes: number;
  private _hole: boolean;
  private _running: boolean;
  private _closed: boolean;
  private _loop: Promise<void> | null;
  private _wake: (() => void) | null;
  /** A notify() that found no sleeper: the next sleep returns at once (no lost wake-up). */
  private _notified: boolean;
  private _stopSignal: Promise<void>;
  private _signalStop: () => void;
  private _timer: NodeJS.Timeout | undefined;
  private _persisting: Promise<void>;
  private _pushed: number;

  constructor(segments: SegmentSet, start: SpoolPos, persisted: SpoolPos | null, droppedAtOpen: number, sync: boolean, telemetry: Telemetry, hooks: ReaderHooks) {
    this._segments = segments;
    this._telemetry = telemetry;
    this._hooks = hooks;
    this._sync = sync;
    this._file = join(segments.dir, CURSOR_FILE);
    this._decoder = new ShipBatchDecoder(MAX_RECORD_BYTES);
    this._cursor = start;
    this._persisted = persisted === null ? null : { pos: persisted, dropped: droppedAtOpen };
    this._readSeq = start.seq;
    this._readOffset = start.offset;
    this._seg = null;
    this._fh = null;
    this._reader = null;
    this._inflight = [];
    this._inflightBytes = 0;
    this._hole = false;
    this._running = false;
    this._closed = false;
    this._loop = null;
    this._wake = null;
    this._notified = false;
    let signal!: () => void;
    this._stopSignal = new Promise<void>((resolve) => {
      signal = resolve;
    });
    this._signalStop = signal;
    this._timer = undefined;
    this._persisting = Promise.resolve();
    this._pushed = 0;
  }

  /** The segment the reader is on or goes to next: drop-oldest leaves it and everything before it alone. */
  get readSeq(): number {
    return this._readSeq;
  }

  get cursor(): SpoolPos {
    return this._cursor;
  }

  get inFlight(): { readonly batches: number; readonly bytes: number } {
    return { batches: this._inflight.length, bytes: this._inflightBytes };
  }

  /** Batches handed to the pipeline since start. */
  get pushed(): number {
    return this._pushed;
  }

  /** Starts reading and pushing; the loop runs until stop(). */
  start(push: (batch: Batch) => Promise<void>): void {
    if (this._running || this._closed) return;
    this._running = true;
    this._loop = this._run(push);
    this._persistLater();
  }

  /** The writer committed bytes or sealed a segment. */
  notify(): void {
    this._persistLater();
    const w = this._wake;
    this._wake = null;
    if (w !== null) w();
    else this._notified = true;
  }

  /** Persist the cursor and delete what it passed, after any persist already under way. */
  persistSoon(): Promise<void> {
    if (this._closed) return this._persisting;
    this._persisting = this._persisting.then(() => this._persist());
    return this._persisting;
  }

  /**
   * Stops handing out batches, waits until `deadline` (ms since the epoch) for those in flight to
   * settle, persists the cursor and closes. Later settlements change nothing on disk.
   */
  async stop(deadline: number): Promise<void> {
    this._running = false;
    this._signalStop();
    this.notify();
    await this._loop;
    while (this._inflight.length > 0 && this._inflight[0]!.state === PENDING && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this._sleep(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    clearTimeout(this._timer);
    this._timer = undefined;
    await this.persistSoon();
    this._closed = true;
    await this._persisting;
    await this._closeSegment();
  }

  private async _run(push: (batch: Batch) => Promise<void>): Promise<void> {
    while (this._running) {
      if (this._hole || this._inflight.length >= MAX_IN_FLIGHT_BATCHES || (this._inflightBytes >= MAX_IN_FLIGHT_BYTES && this._inflight.length > 0)) {
        await this._sleep();
        continue;
      }
      const rec = await this._next();
      if (rec === null) break;
      let batch: Batch;
      try {
        const d = this._decoder.decode(rec.payload);
        // Uncompressed payloads are views of the read chunk: copy, so a chunk is not held by one small batch.
        const data = d.data.buffer === rec.payload.buffer ? Buffer.from(d.data) : d.data;
        batch = new Batch(data, d.ends, d.meta, d.pos, d.extras);
      } catch (err) {
        // The checksum held, so this is not a torn write: another version's record, or a bug.
        this._telemetry.emit('spool_corrupt', { segment: rec.seq, offset: rec.start, reason: 'record does not decode', err });
        this._track({ seq: rec.seq, end: rec.end, bytes: 0, state: DONE });
        continue;
      }
      const entry: Entry = { seq: rec.seq, end: rec.end, bytes: batch.data.length, state: PENDING };
      this._track(entry);
      void batch.settled.then((o) => this._settled(entry, o));
      this._pushed++;
      try {
        await Promise.race([push(batch), this._stopSignal]);
      } catch {
        // The pipeline refused the batch (it is stopping): a hole, sent again after restart.
        this._settled(entry, { kind: 'retryable', error: new Error('push refused') });
        break;
      }
    }
  }

  private _track(entry: Entry): void {
    this._inflight.push(entry);
    this._inflightBytes += entry.bytes;
    if (entry.state === DONE) this._advance();
  }

  private _settled(entry: Entry, o: Outcome): void {
    if (entry.state !== PENDING) return;
    if (o.kind === 'retryable') {
      entry.state = HOLE;
      this._hole = true;
    } else {
      entry.state = DONE;
    }
    this._advance();
    this.notify();
  }

  /** Persists within CURSOR_INTERVAL_MS, unless a persist is already due by then. */
  private _persistLater(): void {
    if (this._timer !== undefined || !this._running) return;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this.persistSoon();
    }, CURSOR_INTERVAL_MS);
    this._timer.unref();
  }

  private _advance(): void {
    const before = this._cursor;
    while (this._inflight.length > 0 && this._inflight[0]!.state === DONE) {
      const e = this._inflight.shift()!;
      this._inflightBytes -= e.bytes;
      this._cursor = { seq: e.seq, offset: e.end };
    }
    if (this._cursor !== before) this._persistLater();
  }

  /** The next record in order; waits for the writer when caught up; null once stopping. */
  private async _next(): Promise<{ seq: number; payload: Buffer; start: number; end: number } | null> {
    for (;;) {
      if (!this._running) return null;
      if (this._reader === null) {
        const seg = this._segments.atOrAfter(this._readSeq);
        if (seg === undefined) {
          await this._sleep();
          continue;
        }
        // Claimed synchronously, so drop-oldest cannot take it from here on.
        if (seg.seq !== this._readSeq) this._readOffset = SEGMENT_HEADER_BYTES;
        this._readSeq = seg.seq;
        this._seg = seg;
        try {
          this._fh = await open(seg.path, 'r');
        } catch (err) {
          this._telemetry.emit('spool_corrupt', { segment: seg.seq, reason: 'segment cannot be opened', err });
          this._skipSegment(seg);
          continue;
        }
        this._reader = new SegmentReader(this._fh, Math.max(this._readOffset, SEGMENT_HEADER_BYTES), seg.bytes, READ_CHUNK_BYTES);
      }
      const seg = this._seg!;
      this._reader.setLimit(seg.bytes);
      const r = await this._reader.next();
      if (r.kind === 'record') return { seq: seg.seq, payload: r.payload, start: r.start, end: r.end };
      if (r.kind === 'corrupt') {
        // Committed bytes that no longer read back (disk trouble, or a file changed under us).
        this._telemetry.emit('spool_corrupt', { segment: seg.seq, offset: r.at, reason: r.reason, lost_bytes: seg.bytes - r.at });
        this._skipSegment(seg);
        continue;
      }
      // More was committed while reading: read on.
      if (seg.bytes > this._reader.limit) continue;
      if (seg.sealed && this._reader.position >= seg.bytes) {
        await this._closeSegment();
        this._readSeq = seg.seq + 1;
        this._readOffset = SEGMENT_HEADER_BYTES;
        continue;
      }
      await this._sleep();
    }
  }

  /** Gives up the rest of a segment: the cursor may pass its end. */
  private _skipSegment(seg: Segment): void {
    void this._closeSegment();
    this._track({ seq: seg.seq, end: Math.max(seg.bytes, SEGMENT_HEADER_BYTES), bytes: 0, state: DONE });
    this._readSeq = seg.seq + 1;
    this._readOffset = SEGMENT_HEADER_BYTES;
  }

  private async _closeSegment(): Promise<void> {
    const fh = this._fh;
    this._fh = null;
    this._reader = null;
    this._seg = null;
    if (fh !== null) await fh.close().catch(() => undefined);
  }

  private _sleep(): Promise<void> {
    if (this._notified) {
      this._notified = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this._wake = resolve;
    });
  }

  /** Writes the cursor if it moved (or drops were counted), then deletes the segments it passed. Never rejects. */
  private async _persist(): Promise<void> {
    if (this._closed) return;
    const pos = this._cursor;
    const dropped = this._hooks.droppedRecords();
    const p = this._persisted;
    if (p === null || p.pos.seq !== pos.seq || p.pos.offset !== pos.offset || p.dropped !== dropped) {
      try {
        await writeCursor(this._file, pos, dropped, this._sync);
        this._persisted = { pos, dropped };
      } catch (err) {
        this._telemetry.emit('spool_write_error', { err, file: this._file });
        return;
      }
    }
    await this._deleteConsumed(this._persisted!.pos);
  }

  /** Deletes sealed segments wholly behind the persisted cursor, oldest first. */
  private async _deleteConsumed(pos: SpoolPos): Promise<void> {
    let freed = false;
    for (;;) {
      const s = this._segments.all[0];
      if (s === undefined || !s.sealed) break;
      const consumed = s.seq < pos.seq || (s.seq === pos.seq && pos.offset >= s.bytes);
      if (!consumed) break;
      this._segments.remove(s);
      freed = true;
      await unlink(s.path).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this._telemetry.emit('spool_write_error', { err, segment: s.seq });
      });
    }
    if (freed) this._hooks.onFreed();
  }
}
