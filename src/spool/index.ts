// A source's disk spool: batches are made durable here before they count as received, then fed to
// the pipeline in order by one reader. Wiring of recovery, writer and reader; see docs/architecture.md
// ("Spool") for the format and the guarantees.
//
//   source ──ctx.push = spool.append──► writer ─► segments on disk ─► reader ──push──► router
//                 ◄── settle(DELIVERED) once synced            cursor ◄── settlements

import type { Batch } from '../core/batch.js';
import type { Telemetry } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import { SEGMENT_HEADER_BYTES } from './format.js';
import type { SpoolOptions } from './options.js';
import { SpoolReader } from './reader.js';
import { recoverSpool } from './recover.js';
import type { SegmentSet } from './segments.js';
import { SpoolWriter } from './writer.js';

export { spoolOptions, type SpoolOptions } from './options.js';

export interface SpoolStats {
  /** Bytes of segment files on disk. */
  readonly diskBytes: number;
  /** Bytes not yet consumed: from the cursor to the committed end. */
  readonly backlogBytes: number;
  readonly segments: number;
  /** Records (lines) and batches appended since this start. */
  readonly appendedRecords: number;
  readonly appendedBatches: number;
  /** Records dropped by drop-oldest since the spool was created (persisted across restarts). */
  readonly droppedRecords: number;
  /** Batches dropped by drop-oldest since this start. */
  readonly droppedBatches: number;
  /** Group commits made durable since this start (O_DSYNC writes with fsync, fdatasync calls with fsync_interval_ms). */
  readonly syncs: number;
  /** Appends waiting for room. */
  readonly waiting: number;
  /** Batches handed to the pipeline and not yet settled, and their data bytes. */
  readonly inFlightBatches: number;
  readonly inFlightBytes: number;
  /** Batches handed to the pipeline since this start. */
  readonly pushed: number;
}

/** Directories of the spools open in this process: two spools on one directory would corrupt it. */
const OPEN_DIRS = new Set<string>();

export class Spool {
  readonly dir: string;
  private readonly _opts: SpoolOptions;
  private readonly _telemetry: Telemetry;
  private readonly _segments: SegmentSet;
  private readonly _writer: SpoolWriter;
  private readonly _reader: SpoolReader;
  private _stopped: Promise<void> | null;

  private constructor(dir: string, opts: SpoolOptions, telemetry: Telemetry, segments: SegmentSet, writer: SpoolWriter, reader: SpoolReader) {
    this.dir = dir;
    this._opts = opts;
    this._telemetry = telemetry;
    this._segments = segments;
    this._writer = writer;
    this._reader = reader;
    this._stopped = null;
  }

  /**
   * Opens (creating, or recovering after a crash) the spool in `dir`. Throws LS_STARTUP when the
   * directory cannot be used or is already open, LS_STATE_CORRUPT when it holds foreign segment files.
   */
  static async open(dir: string, opts: SpoolOptions, telemetry: Telemetry): Promise<Spool> {
    if (OPEN_DIRS.has(dir)) throw new LogshipError('LS_STARTUP', `the spool directory ${dir} is already in use by another source of this process`);
    OPEN_DIRS.add(dir);
    try {
      const r = await recoverSpool(dir, telemetry);
      let writer: SpoolWriter | undefined;
      const reader = new SpoolReader(r.segments, r.start, r.persisted, r.droppedRecords, opts.fsync, telemetry, {
        onFreed: () => writer?.wake(),
        droppedRecords: () => writer?.stats.droppedRecords ?? r.droppedRecords,
      });
      writer = new SpoolWriter(opts, r.segments, r.nextSeq, r.droppedRecords, telemetry, {
        readSeq: () => reader.readSeq,
        cursorSeq: () => reader.cursor.seq,
        onCommit: () => reader.notify(),
        onBlocked: () => void reader.persistSoon(),
        onDropped: () => reader.persistSoon(),
      });
      const spool = new Spool(dir, opts, telemetry, r.segments, writer, reader);
      telemetry.emit('spool_opened', {
        dir,
        segments: r.segments.count,
        backlog_batches: r.backlogBatches,
        backlog_records: r.backlogRecords,
        backlog_bytes: spool._backlogBytes(),
        torn_tails_cut: r.cuts,
      });
      return spool;
    } catch (err) {
      OPEN_DIRS.delete(dir);
      if (err instanceof LogshipError) throw err;
      throw new LogshipError('LS_STARTUP', `cannot open the spool in ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * The source's push: resolves once the batch is durable in the spool (written, and synced when
   * fsync is on), right after `batch.settle(DELIVERED)`; waits while the spool is full under
   * when_full: block. Rejects when the batch is not in the spool (write failure, stopping).
   */
  readonly append = (batch: Batch): Promise<void> => this._writer.append(batch);

  /** Starts feeding the pipeline: `push` is the router's push for this source. */
  start(push: (batch: Batch) => Promise<void>): void {
    this._reader.start(push);
  }

  /**
   * Stops: takes no more batches and writes what is queued; the reader stops handing out batches,
   * waits up to `timeoutMs` for those in flight to settle, and persists its cursor. Call it after
   * the source has stopped.
   */
  stop(timeoutMs: number): Promise<void> {
    this._stopped ??= this._stop(timeoutMs);
    return this._stopped;
  }

  get stats(): SpoolStats {
    const w = this._writer.stats;
    const f = this._reader.inFlight;
    return {
      diskBytes: this._segments.bytes,
      backlogBytes: this._backlogBytes(),
      segments: this._segments.count,
      appendedRecords: w.appendedRecords,
      appendedBatches: w.appendedBatches,
      droppedRecords: w.droppedRecords,
      droppedBatches: w.droppedBatches,
      syncs: w.syncs,
      waiting: w.waiting,
      inFlightBatches: f.batches,
      inFlightBytes: f.bytes,
      pushed: this._reader.pushed,
    };
  }

  private async _stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    try {
      await this._writer.close();
      await this._reader.stop(deadline);
      const w = this._writer.stats;
      this._telemetry.emit('spool_stopped', {
        dir: this.dir,
        total_dropped_records: w.droppedRecords,
        total_appended_records: w.appendedRecords,
        backlog_bytes: this._backlogBytes(),
        segments: this._segments.count,
        when_full: this._opts.when_full,
      });
    } finally {
      OPEN_DIRS.delete(this.dir);
    }
  }

  private _backlogBytes(): number {
    const c = this._reader.cursor;
    let n = 0;
    for (const s of this._segments.all) {
      if (s.seq < c.seq) continue;
      n += s.seq === c.seq ? Math.max(0, s.bytes - Math.max(c.offset, SEGMENT_HEADER_BYTES)) : s.bytes - SEGMENT_HEADER_BYTES;
    }
    return n;
  }
}
