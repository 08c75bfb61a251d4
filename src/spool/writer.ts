// The spool's writer: encodes each batch as one checksummed record, appends it to the open segment
// with group commit (one synced write covers every batch waiting when it starts), rolls
// segments at segment_bytes, and applies the cap (block, or drop the oldest unread segments).
// No reading, no cursor: the reader owns those and tells the writer where it is through hooks.
//
//   append(b) ─► encode ─► admission (cap) ─► queue ─► loop: writev (O_DSYNC with fsync) ─► commit
//                            │ full                                                 │
//                            ├ block: wait for the reader to free whole segments     ├ b.settle(DELIVERED)
//                            └ drop-oldest: delete sealed segments after the reader  └ append() resolves

import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { ShipBatchEncoder } from '../codec/ship/index.js';
import type { Batch } from '../core/batch.js';
import type { Telemetry } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import { DELIVERED, rejected, retryable } from '../core/outcome.js';
import { MAX_RECORD_BYTES, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, recordHeader } from './format.js';
import type { SpoolOptions } from './options.js';
import type { Segment, SegmentSet } from './segments.js';
import { syncDir } from '../util/sync-dir.js';

/** zstd level of spooled payloads: fast, and it halves typical log text on disk. */
const COMPRESSION_LEVEL = 1;
/** Bound of one group write. */
const MAX_GROUP_BYTES = 16 * 1024 * 1024;

export interface WriterHooks {
  /** The segment the reader is reading or will read next: drop-oldest drops only segments after it. */
  readSeq(): number;
  /** The segment of the read cursor (everything before it has settled). */
  cursorSeq(): number;
  /** Committed bytes grew, or a segment was sealed. */
  onCommit(): void;
  /** An append is waiting for room: the reader should free consumed segments soon. */
  onBlocked(): void;
  /** Segments were dropped: the new drop total must be persisted. Resolves once it is. */
  onDropped(totalDroppedRecords: number): Promise<void>;
}

interface Pending {
  readonly header: Buffer;
  readonly body: Buffer;
  readonly size: number;
  readonly batch: Batch;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface OpenSegment {
  readonly seg: Segment;
  readonly fh: FileHandle;
}

export interface WriterStats {
  appendedRecords: number;
  appendedBatches: number;
  droppedRecords: number;
  droppedBatches: number;
  /** Group commits made durable (O_DSYNC writes with fsync; fdatasync calls with fsync_interval_ms). */
  syncs: number;
  /** Appends waiting for room. */
  readonly waiting: number;
}

export class SpoolWriter {
  private readonly _opts: SpoolOptions;
  private readonly _segments: SegmentSet;
  private readonly _telemetry: Telemetry;
  private readonly _hooks: WriterHooks;
  private readonly _encoder: ShipBatchEncoder;
  private _nextSeq: number;
  private _current: OpenSegment | null;
  private _queue: Pending[];
  private _queuedBytes: number;
  private _waiters: Pending[];
  private _loop: Promise<void> | null;
  private _pumpTask: Promise<void> | null;
  private _pumpAgain: boolean;
  private _rollRequested: boolean;
  /** fsync_interval_ms: the open segment has unsynced records; the timer asks the loop to sync it. */
  private _dirty: boolean;
  private _syncRequested: boolean;
  private _syncTimer: NodeJS.Timeout | undefined;
  private _closed: boolean;
  private _blocking: boolean;
  private readonly _stats: { appendedRecords: number; appendedBatches: number; droppedRecords: number; droppedBatches: number; syncs: number };

  constructor(opts: SpoolOptions, segments: SegmentSet, nextSeq: number, droppedRecords: number, telemetry: Telemetry, hooks: WriterHooks) {
    this._opts = opts;
    this._segments = segments;
    this._telemetry = telemetry;
    this._hooks = hooks;
    this._encoder = new ShipBatchEncoder({ compressionLevel: COMPRESSION_LEVEL, maxFrameBytes: MAX_RECORD_BYTES });
    this._nextSeq = nextSeq;
    this._current = null;
    this._queue = [];
    this._queuedBytes = 0;
    this._waiters = [];
    this._loop = null;
    this._pumpTask = null;
    this._pumpAgain = false;
    this._rollRequested = false;
    this._dirty = false;
    this._syncRequested = false;
    this._syncTimer = undefined;
    this._closed = false;
    this._blocking = false;
    this._stats = { appendedRecords: 0, appendedBatches: 0, droppedRecords, droppedBatches: 0, syncs: 0 };
  }

  /** The segment being written, if one is open. */
  get currentSeq(): number | undefined {
    return this._current?.seg.seq;
  }

  get stats(): WriterStats {
    return { ...this._stats, waiting: this._waiters.length };
  }

  /**
   * Makes the batch durable in the spool: resolves once its record is written and (fsync: true)
   * synced, right after `batch.settle(DELIVERED)`. Waits while the spool is full (when_full: block).
   * A batch that cannot be encoded settles `rejected` (its lines are lost, counted) and resolves.
   * When the batch is not in the spool it is settled retryable and the promise rejects
   * (LS_SPOOL_WRITE: the write failed; LS_SHUTDOWN: the spool is stopping): nothing may acknowledge it.
   */
  append(batch: Batch): Promise<void> {
    if (this._closed) {
      const e = shutdownError();
      batch.settle(retryable(e));
      return Promise.reject(e);
    }
    let body: Buffer;
    try {
      // The frame minus its 5-byte header (length, type) is the BATCH body the decoder reads.
      body = this._encoder.encode(batch).subarray(5);
    } catch (err) {
      const e = err instanceof Error ? err : new LogshipError('LS_INTERNAL', String(err));
      this._telemetry.emit('spool_rejected', { err: e, lines: batch.count, stream: batch.pos.stream, offset: batch.pos.offset });
      batch.settle(rejected(e));
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const item: Pending = { header: recordHeader(body), body, size: RECORD_HEADER_BYTES + body.length, batch, resolve, reject };
      if (this._waiters.length === 0 && this._fits(item.size)) this._enqueue(item);
      else {
        this._waiters.push(item);
        this._pump();
      }
    });
  }

  /** Stops taking batches (waiting appends reject with LS_SHUTDOWN), writes what is queued, closes the segment. */
  async close(): Promise<void> {
    this._closed = true;
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) {
      const e = shutdownError();
      w.batch.settle(retryable(e));
      w.reject(e);
    }
    while (this._pumpTask !== null || this._loop !== null) {
      await this._pumpTask;
      await this._loop;
    }
    clearTimeout(this._syncTimer);
    this._syncTimer = undefined;
    await this._seal();
  }

  /** Room for the waiting appends may have appeared (segments deleted). */
  wake(): void {
    if (this._waiters.length > 0) this._pump();
  }

  private _fits(size: number): boolean {
    const used = this._segments.bytes + this._queuedBytes;
    // What the open segment has no room for goes into new segments, each with its header on disk.
    const room = this._current === null ? 0 : Math.max(0, this._opts.segment_bytes - this._current.seg.bytes);
    const spill = this._queuedBytes + size - room;
    const headers = spill <= 0 ? 0 : Math.ceil(spill / (this._opts.segment_bytes - SEGMENT_HEADER_BYTES)) * SEGMENT_HEADER_BYTES;
    if (used + size + headers <= this._opts.max_bytes) return true;
    // A record bigger than the whole cap still goes in when the spool holds nothing else.
    return this._queuedBytes === 0 && this._segments.bytes <= this._segments.count * SEGMENT_HEADER_BYTES;
  }

  private _enqueue(item: Pending): void {
    this._queue.push(item);
    this._queuedBytes += item.size;
    this._kick();
  }

  private _kick(): void {
    if (this._loop !== null) return;
    this._loop = this._run().then(() => {
      this._loop = null;
      if (this._queue.length > 0 || this._rollRequested || this._syncRequested) this._kick();
    });
  }

  /** The write loop: one group per turn. Never rejects: failures settle the group's batches. */
  private async _run(): Promise<void> {
    while (this._queue.length > 0 || this._rollRequested || this._syncRequested) {
      if (this._syncRequested) {
        this._syncRequested = false;
        await this._syncDirty();
        continue;
      }
      if (this._rollRequested) {
        this._rollRequested = false;
        await this._seal();
        this._hooks.onCommit();
        this._pump();
        continue;
      }
      let cur = this._current;
      if (cur === null) {
        try {
          cur = await this._openNext();
        } catch (err) {
          this._fail(this._queue.splice(0), err);
          continue;
        }
      }
      const room = this._opts.segment_bytes - cur.seg.bytes;
      let n = 0;
      let bytes = 0;
      for (const it of this._queue) {
        // The first record of a segment always goes in, however big.
        if ((n > 0 || cur.seg.batches > 0) && bytes + it.size > room) break;
        n++;
        bytes += it.size;
        if (bytes >= MAX_GROUP_BYTES) break;
      }
      if (n === 0) {
        await this._seal();
        continue;
      }
      const group = this._queue.splice(0, n);
      try {
        // With fsync the segment is O_DSYNC: the write returns once the group is durable.
        await writeAll(cur.fh, group, cur.seg.bytes);
        if (this._opts.fsync) {
          this._stats.syncs++;
        } else if (this._opts.fsync_interval_ms > 0) {
          this._dirty = true;
          this._syncTimer ??= setTimeout(() => {
            this._syncTimer = undefined;
            this._syncRequested = true;
            this._kick();
          }, this._opts.fsync_interval_ms);
        }
      } catch (err) {
        // Cut first: when an append learns of its failure, the spool no longer holds its bytes.
        await this._abandon(cur);
        this._fail(group, err);
        continue;
      }
      this._queuedBytes -= bytes;
      let records = 0;
      for (const it of group) records += it.batch.count;
      this._segments.grow(cur.seg, bytes, records, group.length);
      this._stats.appendedRecords += records;
      this._stats.appendedBatches += group.length;
      this._telemetry.emit('spool_appended', {}, records);
      this._hooks.onCommit();
      for (const it of group) {
        it.batch.settle(DELIVERED);
        it.resolve();
      }
      this._pump();
    }
  }

  /** A group could not be written: its batches are not in the spool. */
  private _fail(group: Pending[], err: unknown): void {
    let bytes = 0;
    let lines = 0;
    for (const it of group) {
      bytes += it.size;
      lines += it.batch.count;
    }
    this._queuedBytes -= bytes;
    const e = new LogshipError('LS_SPOOL_WRITE', `cannot write to the spool in ${this._segments.dir}: ${(err as Error).message}; check free space and permissions`, {
      cause: err,
    });
    this._telemetry.emit('spool_write_error', { err: e, batches: group.length, lines });
    for (const it of group) {
      it.batch.settle(retryable(e));
      it.reject(e);
    }
  }

  /**
   * After a failed write the segment's tail is unknown: cut it back to the committed size and move
   * on to a new segment (the reader never reads past the committed size either way). Where the
   * spool syncs, the cut is synced too: else a crash could bring back whole records of the refused
   * group behind later segments, and recovery would replay batches their source sends again.
   */
  private async _abandon(cur: OpenSegment): Promise<void> {
    await cur.fh.truncate(cur.seg.bytes).catch(() => undefined);
    if (this._opts.fsync || this._opts.fsync_interval_ms > 0) await cur.fh.datasync().catch(() => undefined);
    await this._seal();
    this._hooks.onCommit();
  }

  private async _openNext(): Promise<OpenSegment> {
    const seq = this._nextSeq++;
    const path = this._segments.pathOf(seq);
    let fh: FileHandle | undefined;
    try {
      // fsync: O_DSYNC, each write is durable when it returns (one thread-pool round trip, not two).
      fh = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | (this._opts.fsync ? constants.O_DSYNC : 0));
      await writeFully(fh, SEGMENT_MAGIC, 0);
      if (this._opts.fsync || this._opts.fsync_interval_ms > 0) {
        if (!this._opts.fsync) await fh.datasync();
        await syncDir(this._segments.dir);
      }
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    // Into the set only once the file and its header exist: the reader may pick it right away.
    const seg = this._segments.add(seq, SEGMENT_HEADER_BYTES, 0, 0, false);
    this._current = { seg, fh };
    return this._current;
  }

  /** fsync_interval_ms: sync the open segment if records were written to it since its last sync. */
  private async _syncDirty(): Promise<void> {
    const cur = this._current;
    if (cur === null || !this._dirty) return;
    this._dirty = false;
    try {
      await cur.fh.datasync();
      this._stats.syncs++;
    } catch (err) {
      // The batches were acknowledged already; a host crash may now lose them. Say so.
      const e = new LogshipError('LS_SPOOL_WRITE', `cannot sync the spool segment in ${this._segments.dir}: ${(err as Error).message}`, { cause: err });
      this._telemetry.emit('spool_write_error', { err: e, batches: 0, lines: 0 });
    }
  }

  /** Closes the open segment: it never grows again. */
  private async _seal(): Promise<void> {
    const cur = this._current;
    if (cur === null) return;
    await this._syncDirty();
    this._current = null;
    cur.seg.sealed = true;
    await cur.fh.close().catch(() => undefined);
  }

  private _pump(): void {
    if (this._pumpTask !== null) {
      this._pumpAgain = true;
      return;
    }
    this._pumpTask = this._admit().then(() => {
      this._pumpTask = null;
      if (this._pumpAgain) {
        this._pumpAgain = false;
        this._pump();
      }
    });
  }

  /** Admits waiting appends in order while they fit; at the cap, applies when_full. Never rejects. */
  private async _admit(): Promise<void> {
    this._pumpAgain = false;
    while (this._waiters.length > 0 && !this._closed) {
      const w = this._waiters[0]!;
      if (this._fits(w.size)) {
        this._waiters.shift();
        this._blocking = false;
        this._enqueue(w);
        continue;
      }
      if (this._opts.when_full === 'drop-oldest') {
        const victim = this._dropCandidate();
        if (victim !== undefined) {
          await this._drop(victim);
          continue;
        }
        // Nothing sealed after the reader: seal the segment being written so it can go.
        const cur = this._current;
        if (cur !== null && cur.seg.batches > 0 && cur.seg.seq > this._hooks.readSeq()) {
          this._requestRoll();
          return;
        }
      } else {
        // Everything before the write segment is consumed: seal it, so that once the reader has
        // passed it the whole segment can be deleted.
        const cur = this._current;
        if (cur !== null && cur.seg.batches > 0 && this._hooks.cursorSeq() >= cur.seg.seq) this._requestRoll();
      }
      if (!this._blocking) {
        this._blocking = true;
        this._telemetry.emit('spool_full_blocking', {
          when_full: this._opts.when_full,
          max_bytes: this._opts.max_bytes,
          disk_bytes: this._segments.bytes,
          waiting: this._waiters.length,
        });
      }
      this._hooks.onBlocked();
      return;
    }
  }

  private _requestRoll(): void {
    this._rollRequested = true;
    this._kick();
  }

  /** The oldest sealed segment after the one the reader is on (never read, nothing of it in flight). */
  private _dropCandidate(): Segment | undefined {
    const readSeq = this._hooks.readSeq();
    for (const s of this._segments.all) if (s.sealed && s.seq > readSeq) return s;
    return undefined;
  }

  private async _drop(seg: Segment): Promise<void> {
    // Out of the set first (synchronously), so the reader can no longer pick it.
    this._segments.remove(seg);
    this._stats.droppedRecords += seg.records;
    this._stats.droppedBatches += seg.batches;
    await unlink(seg.path).catch((err: unknown) => this._telemetry.emit('spool_write_error', { err, segment: seg.seq }));
    await this._hooks.onDropped(this._stats.droppedRecords).catch(() => undefined);
    this._telemetry.emit(
      'spool_dropped',
      {
        segment: seg.seq,
        dropped_records: seg.records,
        dropped_batches: seg.batches,
        total_dropped_records: this._stats.droppedRecords,
        max_bytes: this._opts.max_bytes,
      },
      seg.records,
    );
  }
}

function shutdownError(): LogshipError {
  return new LogshipError('LS_SHUTDOWN', 'the spool is stopping; the batch was not taken (its sender sends it again)');
}

async function writeAll(fh: FileHandle, group: readonly Pending[], position: number): Promise<void> {
  const bufs: Buffer[] = [];
  for (const it of group) bufs.push(it.header, it.body);
  let pos = position;
  let i = 0;
  while (i < bufs.length) {
    const { bytesWritten } = await fh.writev(i === 0 ? bufs : bufs.slice(i), pos);
    pos += bytesWritten;
    let n = bytesWritten;
    // Skip the buffers written whole; keep the rest of a partly written one.
    while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
    if (n > 0) bufs[i] = bufs[i]!.subarray(n);
    if (bytesWritten === 0 && i < bufs.length) throw new LogshipError('LS_SPOOL_WRITE', 'write returned 0 bytes');
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten === 0) throw new LogshipError('LS_SPOOL_WRITE', 'write returned 0 bytes');
    off += bytesWritten;
  }
}
