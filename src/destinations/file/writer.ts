// Write cycles of the file destination: one serialized queue per journal, group commit, dedupe
// by per-stream high water mark (hw), rollback on error, recovery at open. No templates parsed
// and no options read here: a FileRoute (compiled by index.ts) says where and how a batch goes.
//
//   submit() ─► _queue ─► cycle: take what is queued, up to half of max_in_flight (group commit)
//       (a batch queued while a cycle runs has its paths rendered and its new files opened then,
//       see _openAhead: its cycle finds them open, and the COMMIT before can declare them)
//       1. plan: path per batch (per group of records for a syslog batch whose path uses
//          macros: each record's own host, program, date…), dedupe against hw by each
//          record's stream offset, open files                           (nothing written yet)
//       2. BEGIN {files + sizes before}  → journal, fdatasync (skipped when the last COMMIT
//          declared this cycle's files at these sizes: see next in journal.ts)
//       3. append each file's lines (one write per file, O_DSYNC: durable when it returns; the
//          lines of runs of repeated headers are copied by the pool thread that writes the file,
//          see line-runs.ts)
//       4. COMMIT {sizes after, new hw per stream} → journal, fdatasync (with batches queued: also
//          the next cycle's BEGIN, declaring their files too, see _nextFiles)
//       5. resolve every write() of the cycle: delivered
//   error in 2–4 → cut every file back to its size before (rollback) → retryable
//   COMMIT written but its fdatasync failed → a restart may replay it, so the data stays and the
//       new hw is published (replay agrees either way); answered retryable: the resend is deduped
//       once a compaction has made the hw durable (the journal is broken until then)
//
// A batch is one unit whatever the number of files it touches: one cycle, one COMMIT, one new hw
// (batch.endOffset, past records a filter dropped from a compacted batch); if one of its files
// cannot be opened, none of it is written.
//
// Waits keep a stream in order when a range of it is missing for a while, for one of two reasons:
// - failure: a batch of the stream failed (retryable); a later batch written before its retry would
//   leave it below hw, dropped as a duplicate: lost. Later batches of the stream that start past
//   what is written are *parked* (not written, not answered) and keep their router slots: the
//   failed batch retries in its own slot, and a persistent failure (disk full) still holds the
//   sources back. A batch already queued when the failure came is answered retryable instead.
// - reroute: a batch flagged rerouted (its sender moved the stream to another relay, which may
//   still hold acknowledged batches of it) that starts past the stream's hw is parked too, but
//   gives its router slot back: the missing range comes through another connection and needs
//   slots. Parked batches are then bounded by the senders' windows (they are unacknowledged).
// Either way, when the missing range is written the parked batches follow in order. After
// reorder_wait_ms they are written anyway, and the range they skipped becomes a *hole*: kept (in
// the journal) below hw, so that its batches, when they come at last, are still written, once,
// after the newer lines.
//
// The hw map is bounded: streams idle for STREAM_IDLE_MS are dropped at compaction, and past
// max_tracked_streams the least recently written stream is evicted (counted): a resend of it would
// be written again. The map's insertion order is the eviction order (re-inserted on every write).
//
// One WriterCore exists per journal path in the process, shared (refcounted) by the
// destination instances with that id: on reload the new instance starts while the old one
// drains, and both must see one hw map and append to one journal.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ComponentContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { Batch, compact } from '../../core/batch.js';
import { DELIVERED, rejected, retryable, type Outcome } from '../../core/outcome.js';
import { streamKey } from '../../core/stream.js';
import { confinePath, sanitizePathComponent } from '../../util/path-sanitize.js';
import { recordFields } from '../../codec/syslog/parse.js';
import type { RecordFields } from '../../core/records.js';
import { encodedBound, encodeRecords, encodeSyslogRecords, renderLines, syslogBound, writesRuns, type BatchLines, type LineFormat } from './format.js';
import { DirSyncError, FileHandles, type FileModes, type OpenFile } from './handles.js';
import { appendPlanned, lineRuns, type LineRunsBinding, type RunPlan } from './line-runs.js';
import { Journal, type CommitEntry, type FileMark, type SnapEntry, type StreamMark } from './journal.js';
import { addHole, overlapsHoles, inHoles, subtractRange } from './holes.js';
import { groupRecordPaths, renderTemplate, type CompiledTemplate } from './path-template.js';
import { recoverPending, undoAppend } from './recover.js';

/** Where and how one destination instance writes (compiled once at start). */
export interface FileRoute {
  /** Absolute. */
  readonly baseDir: string;
  readonly path: CompiledTemplate;
  readonly line: LineFormat;
  readonly fsync: boolean;
  /** How long a rerouted batch waits for the range before it (reorder_wait_ms); 0: not at all. */
  readonly reorderWaitMs: number;
  readonly modes: FileModes;
}

export interface WriterHooks {
  /** Test seam: runs after a cycle's data is appended (and synced), before its COMMIT. */
  readonly afterData?: () => Promise<void>;
  /**
   * Test seam (fault injection): runs just before the fs step it names; a throw is that step
   * failing. 'journal-write' / 'journal-sync': writing a journal record / making it durable once
   * written (its fdatasync, or the sync part of an O_DSYNC write); `what` is the record type
   * (begin, commit). 'truncate': cutting a file back after a failed cycle (`what` is its path).
   * 'dir-sync': making a new file's directory entry durable (`what` is the directory).
   * 'data-write': appending a cycle's lines to a file (`what` is its path).
   */
  readonly fault?: (step: 'journal-write' | 'journal-sync' | 'truncate' | 'dir-sync' | 'data-write', what: string) => void | Promise<void>;
  /** Test seam: compaction threshold in bytes (default COMPACT_BYTES). */
  readonly compactBytes?: number;
}

/** Compact the journal once it grows this much past its last snapshot. */
export const COMPACT_BYTES = 4 * 1024 * 1024;
/** Streams not written for this long are forgotten at compaction (bounds the hw map). */
export const STREAM_IDLE_MS = 30 * 24 * 3600 * 1000;
/** Default of max_tracked_streams: streams whose hw is kept (the least recently written go first). */
export const MAX_TRACKED_STREAMS = 100_000;
/** Holes remembered per stream; past it the oldest is forgotten (its lines, if they come, are dropped as duplicates). */
export const MAX_HOLES = 64;
/** A cycle's arena (batch copies + file bytes) up to this size is kept for the next cycles. */
const ARENA_KEEP_BYTES = 8 * 1024 * 1024;
/** A cycle takes queued batches up to this many bytes (at least one batch). */
const MAX_CYCLE_BYTES = 64 * 1024 * 1024;

interface Pending {
  readonly route: FileRoute;
  /** The batch; for one that fills holes, only its records in the holes or past hw (see _fillHoles). */
  batch: Batch;
  readonly key: string;
  readonly resolve: (o: Outcome) => void;
  outcome: Outcome | undefined;
  /** The router's slot release (given back when the batch is parked). */
  readonly yieldSlot: (() => void) | undefined;
  /** Released by a wait's timeout: the range it skips becomes a hole. */
  skipsGap: boolean;
  /** With skipsGap, for a stream nothing was written of yet: where the skipped range starts. */
  gapFrom: number | undefined;
  /** Fills holes: its records are written whatever the hw; the stream's holes become these. */
  fills: readonly number[] | undefined;
  /** Its files, rendered once (see _render): for `batch` as it was then. */
  rendered: { readonly batch: Batch; readonly targets: Target[] | LogshipError } | undefined;
}

/** Batches of one stream parked until the range before them arrives, ascending by offset. */
interface Wait {
  readonly since: number;
  readonly deadline: number;
  readonly parked: Pending[];
  /** Where the missing range starts: the stream's hw when the wait began, or the first batch's offset. */
  readonly from: number;
  /** Nothing of the stream was written when the wait began (a first batch failed). */
  readonly fresh: boolean;
  /** Parked batches give their router slots back (a reroute wait; a failure wait keeps them). */
  yields: boolean;
}

/** One batch's share of a file in a cycle. */
interface Slice {
  readonly item: Pending;
  /** Lines rendered once for the batch (its records share the metadata), or undefined ... */
  readonly lines: BatchLines | undefined;
  /** ... for a syslog batch, whose lines are rendered per record from these fields. */
  readonly fields: RecordFields | undefined;
  /** The records of the batch that go to this file (ascending, all >= first); null: first..count-1. */
  readonly records: readonly number[] | null;
  readonly first: number;
  readonly from: number;
}

/** A file a batch (or some of its records, for per-record paths) goes to. */
interface Target {
  readonly abs: string;
  /** Indices of the records for this file (ascending); null: all of them. */
  readonly records: readonly number[] | null;
}

interface FilePlan {
  readonly file: OpenFile;
  readonly before: number;
  sync: boolean;
  bound: number;
  readonly slices: Slice[];
  /** Its bytes, once encoded; the lines of its planned runs (plan[planFrom, planTo)) are still to be copied. */
  buf: Buffer | undefined;
  planFrom: number;
  planTo: number;
  /** The batches its planned runs copy their messages from (RunPlan.src indexes them). */
  srcs: Uint8Array[];
}

/** A cycle's bytes whose runs are planned (see _encode): the arena and the plan. */
interface Planned {
  readonly runs: LineRunsBinding;
  readonly arena: Buffer;
  readonly plan: Uint32Array;
}

interface Declaration {
  readonly seq: number;
  readonly files: ReadonlyMap<string, FileMark>;
  /** The declaring COMMIT was fdatasync'd (a syncing cycle may rely on it only then). */
  readonly synced: boolean;
}

/** What routing a cycle's items leaves (step 1a). */
interface Routed {
  /** Per item: its files; undefined for an item answered already. */
  readonly targets: (Target[] | undefined)[];
  readonly fieldsOf: (RecordFields | undefined)[];
  readonly opened: Map<string, { file: OpenFile; size: number } | LogshipError>;
}

/** What slicing leaves (step 1b): the files to write, and what the COMMIT will say. */
interface Sliced {
  readonly files: FilePlan[];
  /** Provisional hw of this cycle, per stream. */
  readonly hw: Map<string, number>;
  /** Holes changed in this cycle. */
  readonly holes: Map<string, readonly number[]>;
  readonly stats: CycleStats;
}

interface CycleStats {
  lines: number;
  bytes: number;
  dups: number;
}

const errCode = (err: unknown): string => String((err as NodeJS.ErrnoException | undefined)?.code ?? err);

function writeError(what: string, path: string, err: unknown): LogshipError {
  return new LogshipError(
    'LS_FILE_WRITE',
    `file destination: cannot ${what} ${path}: ${errCode(err)}; check free space and the permissions of base_dir`,
    { cause: err },
  );
}

/** Index of the first record of `batch` whose bytes end (in the stream) past offset `hw`. */
function firstAfter(batch: Batch, hw: number): number {
  let lo = 0;
  let hi = batch.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Records are ascending and never overlap, so their stream ends ascend too.
    if (batch.recordOffset(mid) + (batch.ends[mid]! - batch.recordStart(mid)) > hw) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The suffix of an ascending index list from the first index >= `first`. */
function atOrAfter(records: readonly number[], first: number): readonly number[] {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]! >= first) hi = mid;
    else lo = mid + 1;
  }
  return lo === 0 ? records : records.slice(lo);
}

export class WriterCore {
  readonly file: string;
  private _ctx: ComponentContext;
  private _fsync: boolean;
  private _maxStreams: number;
  private readonly _hooks: WriterHooks;
  private readonly _journal: Journal;
  private readonly _streams: Map<string, StreamMark>;
  private readonly _waits = new Map<string, Wait>();
  private _waitTimer: NodeJS.Timeout | undefined = undefined;
  /** The items of the cycle that runs now (a new batch contiguous with one of them need not park). */
  private _cycleItems: readonly Pending[] = [];
  private readonly _handles: FileHandles;
  private _queue: Pending[] = [];
  /**
   * A cycle takes at most this many batches: half of the destination's max_in_flight (set by
   * adopt), so that the sources fill the other half of the router's window while it writes. A
   * cycle that takes every queued batch leaves them no room until it ends, then the next is small.
   */
  private _cycleBatches = Number.POSITIVE_INFINITY;
  private _running: Promise<void> | undefined = undefined;
  private _seq: number;
  /** The cycles' arena (see _arenaOf). */
  private _arena: Buffer | undefined = undefined;
  /** The cycles' run plan (see _planOf). */
  private _plan: Uint32Array | undefined = undefined;
  /** Set when the line writer refused a plan (a bug): the next cycles format every line here. */
  private _planRefused = false;
  /** Files a failed rollback left longer than committed: fixed before any new cycle. */
  private _rollback: FileMark[] = [];
  /**
   * The journal's open declaration: the last record is a COMMIT written with next (see
   * journal.ts), so a restart would cut these files (path → mark) back to these sizes as cycle
   * `seq`. That cycle may go without a BEGIN if it writes only to these files, each still at its
   * size, and, when it syncs, only if the declaring COMMIT was synced too. Any later record or a
   * compaction supersedes it; a cycle that leaves it open retires it (see _retireOpen).
   */
  private _declared: Declaration | undefined = undefined;
  /**
   * The cycle a restart would find pending in the journal (a BEGIN or a COMMIT with next and no
   * COMMIT of that cycle after it), if any.
   */
  private _open: number | undefined = undefined;

  private constructor(
    file: string,
    ctx: ComponentContext,
    fsync: boolean,
    maxOpen: number,
    maxStreams: number,
    hooks: WriterHooks,
    journal: Journal,
    streams: Map<string, StreamMark>,
    seq: number,
  ) {
    this.file = file;
    this._ctx = ctx;
    this._fsync = fsync;
    this._maxStreams = maxStreams;
    this._hooks = hooks;
    this._journal = journal;
    this._streams = streams;
    this._handles = new FileHandles(maxOpen);
    this._seq = seq;
  }

  /** Opens the journal, recovers an uncommitted cycle, compacts. Rejects with LS_STARTUP or LS_STATE_CORRUPT. */
  static async open(
    file: string,
    ctx: ComponentContext,
    fsync: boolean,
    maxOpen: number,
    hooks: WriterHooks = {},
    maxStreams: number = MAX_TRACKED_STREAMS,
  ): Promise<WriterCore> {
    let journal: Journal | undefined;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const fault = hooks.fault;
      const opened = await Journal.open(file, fsync, fault === undefined ? undefined : (step, t) => fault(`journal-${step}`, t));
      journal = opened.journal;
      const r = opened.replay;
      if (r.torn !== undefined) ctx.telemetry.emit('file_dest_journal_torn', { journal: file, offset: r.torn.offset, reason: r.torn.reason });
      if (r.pending !== undefined) await recoverPending(r.pending.files, fsync, ctx.telemetry);
      const core = new WriterCore(file, ctx, fsync, maxOpen, maxStreams, hooks, journal, r.streams, r.seq);
      core._evict(); // max_tracked_streams may have been lowered since the journal was written
      // A fresh snapshot drops the recovered cycle and any torn tail before the first append.
      await core._compact();
      return core;
    } catch (err) {
      await journal?.close().catch(() => undefined);
      if (err instanceof LogshipError && err.code === 'LS_STATE_CORRUPT') throw err;
      throw new LogshipError('LS_STARTUP', `file destination: cannot open or recover its journal ${file}: ${errCode(err)}`, { cause: err });
    }
  }

  /** A (re)started instance takes over telemetry and the bounds (maxInFlight: its router window, see _cycleBatches). */
  adopt(ctx: ComponentContext, fsync: boolean, maxOpen: number, maxStreams: number = MAX_TRACKED_STREAMS, maxInFlight = Number.POSITIVE_INFINITY): void {
    this._ctx = ctx;
    this._fsync = fsync;
    this._maxStreams = maxStreams;
    this._handles.maxOpen = maxOpen;
    this._cycleBatches = Math.max(1, Math.ceil(maxInFlight / 2));
  }

  /** The committed high water mark of a stream (for tests and status). */
  highWater(origin: string, stream: string): number | undefined {
    return this._streams.get(streamKey(origin, stream))?.hw;
  }

  submit(route: FileRoute, batch: Batch, yieldSlot?: () => void): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const key = streamKey(batch.pos.origin, batch.pos.stream);
      const it: Pending = { route, batch, key, resolve, outcome: undefined, yieldSlot, skipsGap: false, gapFrom: undefined, fills: undefined, rendered: undefined };
      if (this._mustWait(it)) {
        this._park(it);
        return;
      }
      this._queue.push(it);
      if (this._running !== undefined) this._openAhead(it);
      this._kick();
    });
  }

  /**
   * For a batch queued while a cycle runs: renders its paths now (the cycle keeps them, see
   * _render) and starts opening the files not open yet, so that its cycle finds them open (a new
   * file costs a thread-pool round trip or more; a COMMIT can declare only open files, see
   * _nextFiles). Skips what its cycle may not write (a resend, a stream with holes). Never throws:
   * the cycle renders and opens again, and reports.
   */
  private _openAhead(it: Pending): void {
    try {
      const m = this._streams.get(it.key);
      if (m?.holes !== undefined || (m !== undefined && it.batch.endOffset <= m.hw)) return;
      // A parse that throws is a bug: its cycle parses again, and reports it.
      const targets = this._render(it, this._fieldsNeeded(it) ? recordFields(it.batch) : undefined);
      if (targets instanceof LogshipError) return;
      for (const tg of targets) this._handles.openAhead(tg.abs, it.route.modes);
    } catch {
      // a bug in rendering a path: its cycle renders it again, and reports it
    }
  }

  /** Answers every parked batch of `route` (all: undefined) retryable (its instance closes; the senders resend). */
  unpark(route: FileRoute | undefined): void {
    const e = new LogshipError('LS_SHUTDOWN', 'file destination is closing; the batch waited for earlier ones and will be resent');
    const answered: Pending[] = [];
    for (const [k, w] of this._waits) {
      const keep: Pending[] = [];
      for (const it of w.parked) (route === undefined || it.route === route ? answered : keep).push(it);
      w.parked.splice(0, w.parked.length, ...keep);
      if (keep.length === 0) this._waits.delete(k);
    }
    this._armWaitTimer();
    for (const it of answered) it.resolve(retryable(e));
  }

  /** Resolves once the queue is empty and no cycle runs. */
  async drain(): Promise<void> {
    while (this._running !== undefined) await this._running;
  }

  /** Finishes queued work, closes files and the journal. */
  async close(): Promise<void> {
    this.unpark(undefined);
    await this.drain();
    await this._handles.closeAll();
    await this._journal.close().catch(() => undefined);
  }

  /** How many queued batches the next cycle takes (at least one when any is queued). */
  private _nextCount(): number {
    let n = 0;
    let bytes = 0;
    while (n < this._queue.length && n < this._cycleBatches && (n === 0 || bytes + this._queue[n]!.batch.data.length <= MAX_CYCLE_BYTES)) {
      bytes += this._queue[n]!.batch.data.length;
      n++;
    }
    return n;
  }

  private _kick(): void {
    if (this._running !== undefined) return;
    this._running = this._loop().finally(() => {
      this._running = undefined;
      // A batch submitted after the loop's last check and before this callback.
      if (this._queue.length > 0) this._kick();
    });
  }

  /** The owner of all cycles; never rejects (a cycle turns every failure into outcomes). */
  private async _loop(): Promise<void> {
    // Let writes submitted in the same tick join the first cycle (group commit).
    await Promise.resolve();
    while (this._queue.length > 0) {
      const items = this._queue.splice(0, this._nextCount());
      this._cycleItems = items;
      const declared = this._declared;
      try {
        await this._cycle(items);
      } catch (err) {
        // A bug in the cycle: fail the batches (they are retried), keep the destination alive.
        const e = err instanceof LogshipError ? err : new LogshipError('LS_INTERNAL', 'file destination: write cycle failed', { cause: err });
        this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'cycle' });
        for (const it of items) it.outcome ??= retryable(e);
      }
      // A cycle left pending in the journal that is not the one just declared (the declared one
      // wrote nothing: only duplicates; or a cycle failed and was rolled back): retire it.
      if (this._open !== undefined && (this._declared === undefined || this._declared === declared) && this._rollback.length === 0) {
        await this._retireOpen();
      }
      this._cycleItems = [];
      for (const it of items) it.resolve(it.outcome ?? retryable(new LogshipError('LS_INTERNAL', 'file destination: batch left without outcome')));
      if (this._waits.size > 0) this._releaseFilled();
      if (this._journal.bytes - this._journal.snapshotBytes > (this._hooks.compactBytes ?? COMPACT_BYTES)) {
        try {
          await this._compact();
        } catch (err) {
          // The old journal stays valid (or is marked broken and recompacted before the next append).
          this._ctx.telemetry.emit('file_dest_error', { err: writeError('compact journal', this.file, err), stage: 'compact' });
        }
      }
      await this._handles.trim();
    }
  }

  /**
   * Rewrites the journal as one snapshot. Files a failed rollback left long are cut back first:
   * the snapshot drops the BEGIN that a restart would need to cut them.
   */
  private async _compact(): Promise<void> {
    this._declared = undefined;
    await this._retryRollback();
    const now = Date.now();
    const streams: SnapEntry[] = [];
    for (const [k, m] of this._streams) {
      if (now - m.lastMs > STREAM_IDLE_MS) this._streams.delete(k);
      else streams.push(m.holes === undefined ? [k, m.hw, m.lastMs] : [k, m.hw, m.lastMs, m.holes]);
    }
    await this._journal.compact(this._seq, streams, this._fsync);
    this._open = undefined;
  }

  /**
   * Closes the cycle left pending in the journal (its files are as it found them: it wrote
   * nothing, or was rolled back) with an empty COMMIT, so that a restart does not cut those files
   * back to its sizes: another writer (a second destination on the same file, an operator) may
   * append to them meanwhile. If the append fails, the journal is rewritten (a compaction drops
   * the pending cycle too); if that fails as well, the next cycle compacts first.
   */
  private async _retireOpen(): Promise<void> {
    const seq = this._open!;
    this._declared = undefined;
    this._seq = Math.max(this._seq, seq);
    const r = this._journal.broken ? undefined : await this._journal.append({ t: 'commit', seq, files: [], streams: [], ms: Date.now() }, this._fsync);
    if (r?.kind === 'synced') {
      this._open = undefined;
      return;
    }
    if (r !== undefined) this._ctx.telemetry.emit('file_dest_error', { err: writeError('append to the journal', this.file, r.error), stage: 'commit' });
    try {
      await this._compact();
    } catch (err) {
      this._ctx.telemetry.emit('file_dest_error', { err: writeError('compact journal', this.file, err), stage: 'compact' });
    }
  }

  /** Publishes a stream's new hw (and holes, when they changed), as most recently written. */
  private _publish(k: string, v: number, now: number, holes: readonly number[] | undefined): void {
    const m = this._streams.get(k);
    this._streams.delete(k);
    const mark: StreamMark = { hw: m === undefined ? v : Math.max(m.hw, v), lastMs: now };
    const h = holes ?? m?.holes;
    if (h !== undefined && h.length > 0) mark.holes = h;
    this._streams.set(k, mark);
  }

  // ---- reordering after a failover (parked batches and holes) -------------------------------

  /**
   * Whether a new batch must wait: it is flagged rerouted, or its stream already waits, and it
   * starts past everything written or about to be written of its stream.
   */
  private _mustWait(it: Pending): boolean {
    const w = this._waits.get(it.key);
    if (w === undefined && (!it.batch.rerouted || it.route.reorderWaitMs === 0)) return false;
    const hw = this._streams.get(it.key)?.hw ?? w?.from;
    if (hw === undefined) return false; // a stream not written yet: nothing to wait for
    let end = hw;
    for (const q of this._cycleItems) if (q.key === it.key && q.batch.endOffset > end) end = q.batch.endOffset;
    for (const q of this._queue) if (q.key === it.key && q.batch.endOffset > end) end = q.batch.endOffset;
    return it.batch.pos.offset > end;
  }

  /** The wait of a stream, opened now if it has none (and announced). */
  private _waitOf(it: Pending, reason: 'rerouted' | 'failure', now: number): Wait {
    let w = this._waits.get(it.key);
    if (w !== undefined) return w;
    const hw = this._streams.get(it.key)?.hw;
    w = {
      since: now,
      deadline: now + it.route.reorderWaitMs,
      parked: [],
      from: hw ?? it.batch.pos.offset,
      fresh: hw === undefined,
      yields: reason === 'rerouted',
    };
    this._waits.set(it.key, w);
    // A failure is logged already (file_dest_error, once per cycle); a wait per stream is detail.
    this._ctx.telemetry.emit(reason === 'rerouted' ? 'file_dest_reorder_wait' : 'file_dest_failure_wait', {
      origin: it.batch.pos.origin,
      stream: it.batch.pos.stream,
      expected_offset: hw ?? it.batch.pos.offset,
      offset: it.batch.pos.offset,
      wait_ms: it.route.reorderWaitMs,
    });
    this._armWaitTimer();
    return w;
  }

  private _park(it: Pending): void {
    const w = this._waitOf(it, 'rerouted', Date.now());
    // A rerouted batch at a failure wait: the missing range may come another way, which needs slots.
    if (it.batch.rerouted) w.yields = true;
    // Ascending by offset; equal offsets keep their arrival order.
    const p = w.parked;
    let i = p.length;
    while (i > 0 && p[i - 1]!.batch.pos.offset > it.batch.pos.offset) i--;
    p.splice(i, 0, it);
    if (w.yields) it.yieldSlot?.();
  }

  /** After a cycle: a stream whose hw reached its first parked batch releases it and those that follow on. */
  private _releaseFilled(): void {
    let released = false;
    for (const [k, w] of this._waits) {
      const hw = this._streams.get(k)?.hw;
      if (hw === undefined) continue;
      if (w.parked.length === 0) {
        // A failure wait nothing parked behind: over once the stream is written past where it began.
        if (hw > w.from) {
          this._waits.delete(k);
          released = true;
        }
        continue;
      }
      if (w.parked[0]!.batch.pos.offset > hw) continue;
      let end = hw;
      let n = 0;
      while (n < w.parked.length && w.parked[n]!.batch.pos.offset <= end) {
        end = Math.max(end, w.parked[n]!.batch.endOffset);
        n++;
      }
      this._queue.push(...w.parked.splice(0, n));
      released = true;
      if (w.parked.length === 0) {
        this._waits.delete(k);
        const b = this._queue[this._queue.length - 1]!.batch;
        this._ctx.telemetry.emit('file_dest_reordered', { origin: b.pos.origin, stream: b.pos.stream, waited_ms: Date.now() - w.since });
      }
    }
    if (released) this._armWaitTimer();
  }

  /** Waits past their deadline: every parked batch is written, and the ranges they skip become holes. */
  private _onWaitTimer(): void {
    this._waitTimer = undefined;
    const now = Date.now();
    let released = false;
    for (const [k, w] of this._waits) {
      if (w.deadline > now) continue;
      this._waits.delete(k);
      if (w.parked.length === 0) continue;
      const first = w.parked[0]!.batch;
      this._ctx.telemetry.emit('file_dest_reorder_timeout', {
        origin: first.pos.origin,
        stream: first.pos.stream,
        expected_offset: this._streams.get(k)?.hw,
        offset: first.pos.offset,
        waited_ms: now - w.since,
      });
      for (const it of w.parked) {
        it.skipsGap = true;
        it.gapFrom = w.fresh ? w.from : undefined;
      }
      this._queue.push(...w.parked);
      released = true;
    }
    this._armWaitTimer();
    if (released) this._kick();
  }

  private _armWaitTimer(): void {
    if (this._waitTimer !== undefined) clearTimeout(this._waitTimer);
    this._waitTimer = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const w of this._waits.values()) next = Math.min(next, w.deadline);
    if (next === Number.POSITIVE_INFINITY) return;
    this._waitTimer = setTimeout(() => this._onWaitTimer(), Math.max(0, next - Date.now()));
  }

  /**
   * Plan step for a stream with holes: a batch reaching below hw into a hole keeps only its records
   * in the holes or past hw (the rest is written already) and is written whatever the hw; the
   * stream's holes lose the range the batch accounts for. `st` is the stream's state as the
   * cycle's earlier batches leave it (updated here).
   */
  private _fillHoles(it: Pending, st: { hw: number; holes: readonly number[] }): boolean {
    const b = it.batch;
    const below = Math.min(b.endOffset, st.hw);
    if (b.pos.offset >= st.hw || !overlapsHoles(st.holes, b.pos.offset, below)) return false;
    const mask = new Uint8Array(b.count);
    for (let i = 0; i < b.count; i++) {
      const off = b.recordOffset(i);
      mask[i] = off >= st.hw || inHoles(st.holes, off) ? 1 : 0;
    }
    const kept = compact(b, mask);
    const dups = b.count - (kept?.count ?? 0);
    if (dups > 0) this._ctx.telemetry.emit('file_dest_duplicates', {}, dups);
    st.holes = subtractRange(st.holes, b.pos.offset, below);
    it.fills = st.holes;
    if (kept !== null) it.batch = kept;
    else it.batch = new Batch(Buffer.alloc(0), new Uint32Array(0), b.meta, b.pos, { endOffset: b.endOffset });
    return true;
  }

  /** Forgets the least recently written streams past max_tracked_streams (a resend of one is written again). */
  private _evict(): void {
    let n = 0;
    for (const k of this._streams.keys()) {
      if (this._streams.size <= this._maxStreams) break;
      this._streams.delete(k);
      n++;
    }
    if (n > 0) this._ctx.telemetry.emit('file_dest_streams_evicted', { journal: this.file, max_tracked_streams: this._maxStreams }, n);
  }

  /** Fails an item retryable; later batches of its stream wait for its retry (see the header). */
  private _fail(it: Pending, err: LogshipError, now: number): void {
    it.outcome = retryable(err);
    this._waitOf(it, 'failure', now);
  }

  /**
   * One write cycle of `items` (see the head of this file); every item leaves with an outcome (or,
   * on a bug, without one: the loop answers it retryable). Each step is a method of its own: a
   * cycle runs each once, and V8 optimizes small methods at a fraction of the cost of one large
   * one (a 300-line _cycle took about 50 ms of TurboFan time on the other core in a fresh S4 run).
   */
  private async _cycle(items: Pending[]): Promise<void> {
    const now = Date.now();
    if (!(await this._repair(items, now))) return;
    // 1. Plan: paths, open files, dedupe. Nothing is written yet.
    const { files, hw, holes, stats } = this._slices(items, await this._route(items), now);
    const live = items.filter((it) => it.outcome === undefined);
    if (hw.size === 0) {
      // Only duplicates (or failures): nothing to write, nothing to commit.
      for (const it of live) it.outcome = DELIVERED;
      if (stats.dups > 0) this._ctx.telemetry.emit('file_dest_duplicates', {}, stats.dups);
      return;
    }
    const planned = this._encode(files, stats);
    const sync = live.some((it) => it.route.fsync);
    const seq = ++this._seq;
    if (!(await this._begin(files, seq, sync, live, now))) return;
    if (!(await this._writeData(files, planned, sync, live, now))) return;
    await this._commit(files, { hw, holes, stats }, live, seq, sync, now);
  }

  /**
   * 0. Repairs what an earlier failure left: files not yet cut back, a broken journal tail (in
   * that order: the compaction drops the BEGIN a restart would need to cut those files). False,
   * with every item failed, when that fails.
   */
  private async _repair(items: Pending[], now: number): Promise<boolean> {
    try {
      await this._retryRollback();
      if (this._journal.broken) await this._compact();
    } catch (err) {
      const e = writeError('repair after an earlier failure', this.file, err);
      this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'repair' });
      for (const it of items) this._fail(it, e, now);
      return false;
    }
    return true;
  }

  /** 1a. Each item's files (paths rendered, records grouped by path), and those files opened. */
  private async _route(items: Pending[]): Promise<Routed> {
    const targets = new Array<Target[] | undefined>(items.length);
    const fieldsOf = new Array<RecordFields | undefined>(items.length);
    const distinct = new Map<string, FileRoute>();
    /** hw and holes of the streams with holes, as this cycle's earlier batches leave them. */
    const filling = new Map<string, { hw: number; holes: readonly number[] }>();
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const m = this._streams.get(it.key);
      if (m?.holes !== undefined || filling.has(it.key)) {
        let st = filling.get(it.key);
        if (st === undefined) {
          st = { hw: m!.hw, holes: m!.holes! };
          filling.set(it.key, st);
        }
        const fills = this._fillHoles(it, st);
        st.hw = Math.max(st.hw, it.batch.endOffset);
        if (fills && it.batch.count === 0) {
          targets[i] = []; // the range is accounted for, no record to write
          continue;
        }
      }
      const hw0 = it.fills === undefined ? m?.hw : undefined;
      if (hw0 !== undefined && it.batch.endOffset <= hw0 && it.batch.data.length > 0) {
        // A resend of what is written already: no file to open, no record to parse.
        targets[i] = [];
        continue;
      }
      const fields = this._fieldsFor(it);
      fieldsOf[i] = fields;
      const rendered = this._render(it, fields);
      if (rendered instanceof LogshipError) {
        // Unreachable with sanitized values and a checked template; never write outside base_dir.
        this._ctx.telemetry.emit('file_dest_error', { err: rendered, stage: 'path' });
        it.outcome = rejected(rendered);
        continue;
      }
      targets[i] = rendered;
      for (const tg of rendered) {
        const m = distinct.get(tg.abs);
        if (m === undefined || (it.route.modes.sync && !m.modes.sync)) distinct.set(tg.abs, it.route);
      }
    }
    const opened = new Map<string, { file: OpenFile; size: number } | LogshipError>();
    await Promise.all(
      [...distinct].map(async ([abs, route]) => {
        try {
          opened.set(abs, await this._handles.get(abs, route.modes, route.baseDir));
        } catch (err) {
          const e = writeError('open', abs, err);
          this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'open', path: abs });
          opened.set(abs, e);
        }
      }),
    );
    return { targets, fieldsOf, opened };
  }

  /** 1b. Each file's slices of the items (deduped against hw), and the hw and holes the cycle leaves. */
  private _slices(items: Pending[], { targets, fieldsOf, opened }: Routed, now: number): Sliced {
    const plans = new Map<string, FilePlan>();
    const hw = new Map<string, number>(); // provisional hw of this cycle
    const holes = new Map<string, readonly number[]>(); // holes changed in this cycle
    const poisoned = new Set<string>();
    const stats: CycleStats = { lines: 0, bytes: 0, dups: 0 };
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const tgts = targets[i];
      if (tgts === undefined) continue;
      const b = it.batch;
      const committed = hw.get(it.key) ?? this._streams.get(it.key)?.hw;
      if (b.data.length === 0) {
        // Nothing to write; a batch that fills holes (its records all written or filtered) still shrinks them.
        if (it.fills !== undefined && !poisoned.has(it.key)) {
          holes.set(it.key, it.fills);
          hw.set(it.key, Math.max(committed ?? 0, b.endOffset));
        }
        continue;
      }
      if (poisoned.has(it.key)) {
        it.outcome = retryable(new LogshipError('LS_FILE_WRITE', 'file destination: an earlier batch of this stream failed in the same cycle'));
        continue;
      }
      const w = this._waits.get(it.key);
      if (w !== undefined && !it.skipsGap && it.fills === undefined && b.pos.offset > (committed ?? w.from)) {
        // Queued before its stream began to wait: writing it now would leave a gap behind it.
        this._ctx.telemetry.emit('file_dest_held', { origin: b.pos.origin, stream: b.pos.stream });
        it.outcome = retryable(new LogshipError('LS_FILE_WRITE', 'file destination: an earlier batch of this stream is missing; waiting for it'));
        continue;
      }
      // A batch is written whole or not at all: one file it goes to cannot be opened → retry it all.
      let openErr: LogshipError | undefined;
      for (const tg of tgts) {
        const o = opened.get(tg.abs)!;
        if (o instanceof LogshipError) openErr ??= o;
      }
      if (openErr !== undefined) {
        this._fail(it, openErr, now);
        poisoned.add(it.key);
        continue;
      }
      let first = 0;
      let from = 0;
      const base = committed ?? (it.skipsGap ? it.gapFrom : undefined);
      if (it.fills !== undefined) {
        // Its records are the ones to write (in holes or past hw): no dedupe against hw.
        holes.set(it.key, it.fills);
        hw.set(it.key, Math.max(committed ?? 0, b.endOffset));
        let late = 0;
        while (late < b.count && b.recordOffset(late) < (committed ?? 0)) late++;
        if (late > 0) this._ctx.telemetry.emit('file_dest_late_lines', { origin: b.pos.origin, stream: b.pos.stream }, late);
      } else if (base !== undefined) {
        // base: what is written of the stream; for a stream nothing was written of, where the range
        // a timed-out wait skipped begins (its first batch failed).
        if (b.endOffset <= base) {
          stats.dups += b.count;
          continue;
        }
        if (b.pos.offset > base) {
          this._ctx.telemetry.emit('file_dest_gap', { origin: b.pos.origin, stream: b.pos.stream, expected_offset: base, offset: b.pos.offset });
          if (it.skipsGap) {
            // Waited for in vain: the skipped range is still on its way; remember it, to write it when it comes.
            const h = addHole(holes.get(it.key) ?? this._streams.get(it.key)?.holes ?? [], base, b.pos.offset, MAX_HOLES);
            if (h.dropped > 0) this._ctx.telemetry.emit('file_dest_holes_dropped', { origin: b.pos.origin, stream: b.pos.stream }, h.dropped);
            holes.set(it.key, h.holes);
          }
        } else {
          // Records ending at or before hw were written; one straddling hw is written from hw on.
          // Offsets are per record (batch.recordOffset): a compacted batch's records are not contiguous.
          first = firstAfter(b, base);
          if (first < b.count) {
            from = b.recordStart(first) + Math.max(0, base - b.recordOffset(first));
            // hw inside a record's terminator: its text is already written.
            if (from > b.recordStart(first) && from >= b.textEnd(first)) {
              first++;
              from = first < b.count ? b.recordStart(first) : 0;
            }
          }
          stats.dups += first;
        }
      }
      if (it.fills === undefined) hw.set(it.key, b.endOffset);
      if (first >= b.count) continue;
      const fields = fieldsOf[i];
      const lines = fields === undefined ? renderLines(it.route.line, b.meta) : undefined;
      for (const tg of tgts) {
        const records = tg.records === null || first === 0 ? tg.records : atOrAfter(tg.records, first);
        if (records !== null && records.length === 0) continue;
        const o = opened.get(tg.abs) as { file: OpenFile; size: number };
        // By file, not path: two paths may name one file (a symlinked directory, a hard link, a
        // case-insensitive directory). One plan, one write: its sizes before and after are exact.
        let plan = plans.get(o.file.id);
        if (plan === undefined) {
          plan = { file: o.file, before: o.size, sync: false, bound: 0, slices: [], buf: undefined, planFrom: 0, planTo: 0, srcs: [] };
          plans.set(o.file.id, plan);
        }
        plan.sync ||= it.route.fsync;
        plan.bound += fields === undefined ? encodedBound(lines!, b, first, from) : syslogBound(it.route.line, b, fields, records, first);
        plan.slices.push({ item: it, lines, fields, records, first, from });
      }
      stats.lines += b.count - first;
    }
    return { files: [...plans.values()], hw, holes, stats };
  }

  /**
   * Builds each file's bytes (plan.buf), but for the lines of runs of repeated headers, when the
   * native line writer is built: those are planned (plan.planFrom/planTo) and copied in the pool
   * thread that writes the file. Returns what _writeData needs for them, or undefined (all written).
   */
  private _encode(files: FilePlan[], stats: CycleStats): Planned | undefined {
    // Build each file's bytes, one write per file, in one arena: a copy of every batch formatted
    // in JavaScript first, then the files' bytes. Messages are copied from those copies within the
    // arena (copyWithin: no garbage per line, see util/copy-bytes.ts). A syslog slice whose runs
    // go to the pool is read where its batch lies: no copy (see planRuns).
    const runs = this._planRefused ? null : lineRuns();
    const sources = new Map<Batch, number>();
    let size = 0;
    for (const plan of files) {
      for (const sl of plan.slices) {
        const b = sl.item.batch;
        if ((runs === null || !planRuns(sl)) && !sources.has(b)) {
          sources.set(b, size);
          size += b.data.length;
        }
      }
    }
    let at = size;
    for (const plan of files) size += plan.bound;
    const arena = this._arenaOf(size);
    for (const [b, off] of sources) arena.set(b.data, off);
    // A run takes 5 entries and 2 per line, and has 4 lines at least: 4 per line bound them all.
    const runPlan: RunPlan | undefined = runs === null ? undefined : { plan: this._planOf(4 * stats.lines + 5), at: 0, src: 0 };
    for (const plan of files) {
      const start = at;
      plan.planFrom = runPlan?.at ?? 0;
      for (const sl of plan.slices) {
        const b = sl.item.batch;
        const off = sources.get(b);
        if (off === undefined) {
          // (runPlan is set: only a planning cycle leaves a batch uncopied)
          let src = plan.srcs.indexOf(b.data);
          if (src < 0) src = plan.srcs.push(b.data) - 1;
          runPlan!.src = src;
          at = encodeSyslogRecords(arena, at, sl.item.route.line, b, sl.fields!, null, sl.first, sl.from, b.data, runPlan);
          continue;
        }
        const data = arena.subarray(off, off + b.data.length);
        at =
          sl.fields === undefined
            ? encodeRecords(arena, at, sl.lines!, b, sl.first, sl.from, data)
            : encodeSyslogRecords(arena, at, sl.item.route.line, b, sl.fields, sl.records, sl.first, sl.from, data);
      }
      plan.planTo = runPlan?.at ?? 0;
      plan.buf = arena.subarray(start, at);
      stats.bytes += at - start;
    }
    return runs === null ? undefined : { runs, arena, plan: runPlan!.plan };
  }

  /** 2. The BEGIN, when the cycle needs one. False, with the cycle failed, when it cannot be written. */
  private async _begin(files: FilePlan[], seq: number, sync: boolean, live: Pending[], now: number): Promise<boolean> {
    const declared = this._declared;
    // 2. BEGIN (written but not synced: harmless, it names the sizes the files still have), unless
    //    the last COMMIT declared these files at these sizes (and is durable if this cycle syncs:
    //    after a reload turned fsync on, the declaring COMMIT may not be).
    const covered =
      declared !== undefined &&
      declared.seq === seq &&
      (declared.synced || !sync) &&
      files.every((f) => {
        const m = declared.files.get(f.file.path);
        return m !== undefined && m.id === f.file.id && m.size === f.before;
      });
    if (files.length > 0 && !covered) {
      const r = await this._journal.append({ t: 'begin', seq, files: files.map((f) => ({ p: f.file.path, id: f.file.id, size: f.before })) }, sync);
      if (r.kind !== 'failed') {
        this._declared = undefined;
        this._open = seq;
      }
      if (r.kind !== 'synced') {
        this._failCycle(live, writeError('append to the journal', this.file, r.error), now);
        return false;
      }
    }
    return true;
  }

  /** 3. The data. False, with the files cut back and the cycle failed, when a write or sync fails. */
  private async _writeData(files: FilePlan[], planned: Planned | undefined, sync: boolean, live: Pending[], now: number): Promise<boolean> {
    // 3. data: one write per file, all in parallel (the thread pool overlaps them), each durable
    //    when it returns (O_DSYNC handles); a handle opened without it (by a route without fsync)
    //    is synced after, in parallel too. Alongside, when syncing: the directories of the files
    //    created for this cycle (their entries must be durable before the COMMIT, see handles.ts).
    let doing = 'write';
    let writing = this.file;
    try {
      const fault = this._hooks.fault;
      const jobs = files.map((plan) => (fault === undefined ? writeFile(plan, planned) : faultThenWrite(fault, plan, planned)));
      if (sync) jobs.push(this._handles.syncNewDirs(this._hooks.fault && ((dir) => this._hooks.fault!('dir-sync', dir))));
      const written = await Promise.allSettled(jobs);
      for (let k = 0; k < written.length; k++) {
        const r = written[k]!;
        if (r.status !== 'rejected') continue;
        if (r.reason instanceof DirSyncError) {
          doing = 'fsync the directory';
          writing = r.reason.dir;
          throw r.reason.cause;
        }
        writing = files[k]?.file.path ?? writing;
        if (planned !== undefined && r.reason instanceof RangeError) {
          // The line writer refused the plan (a bug in it or here): the same plan would be
          // refused on every retry, so the retry, and the cycles after it, format every line in
          // JavaScript.
          this._planRefused = true;
          doing = 'write (the native line writer refused its plan; formatting in JavaScript from now on)';
        }
        throw r.reason;
      }
      writing = 'the files of this cycle';
      await Promise.all(files.filter((f) => f.sync && !f.file.dsync).map((f) => f.file.fh.datasync()));
      if (this._hooks.afterData !== undefined) await this._hooks.afterData();
    } catch (err) {
      await this._rollbackFiles(files);
      this._failCycle(live, writeError(doing, writing, err), now);
      return false;
    }
    return true;
  }

  /** 4. The COMMIT; 5. the new hw published and the outcomes set. */
  private async _commit(
    files: FilePlan[],
    { hw, holes, stats }: Pick<Sliced, 'hw' | 'holes' | 'stats'>,
    live: Pending[],
    seq: number,
    sync: boolean,
    now: number,
  ): Promise<void> {
    // 4. COMMIT
    const streams: CommitEntry[] = [...hw].map(([k, v]): CommitEntry => {
      const h = holes.get(k);
      return h === undefined ? [k, v] : [k, v, h];
    });
    const after = files.map((f): FileMark => ({ p: f.file.path, id: f.file.id, size: f.before + f.buf!.length }));
    // More is queued: this COMMIT is the next cycle's BEGIN too (when it writes to these files only).
    const next = this._queue.length > 0 && after.length > 0;
    const declares = next ? this._nextFiles(after) : after;
    const committed = await this._journal.append(
      next ? { t: 'commit', seq, files: declares, streams, ms: now, next: 1 } : { t: 'commit', seq, files: after, streams, ms: now },
      sync,
    );
    if (committed.kind !== 'failed') {
      this._declared = undefined;
      this._open = next ? seq + 1 : undefined;
    }
    if (committed.kind === 'failed') {
      // Not (wholly) in the journal: a restart cuts the files back too; do it now.
      await this._rollbackFiles(files);
      this._failCycle(live, writeError('append to the journal', this.file, committed.error), now);
      return;
    }

    // 5. publish the new hw: in the journal, and maybe durable (replay and memory agree either way).
    for (const [k, v] of hw) this._publish(k, v, now, holes.get(k));
    this._evict();
    if (committed.kind === 'written') {
      // The COMMIT's fdatasync failed. Cutting the data back would leave a COMMIT that a restart
      // may replay: hw past lines the file no longer has, the resend dropped as a duplicate.
      // So the data stays and the batches are retried; the next cycle first compacts (the
      // journal is broken), which makes the hw durable, and then finds the resend a duplicate.
      const e = writeError('sync the journal', this.file, committed.error);
      this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'commit' });
      for (const it of live) it.outcome = retryable(e);
    } else {
      if (next) this._declared = { seq: seq + 1, files: new Map(declares.map((m) => [m.p, m])), synced: sync };
      for (const it of live) it.outcome = DELIVERED;
    }
    if (stats.lines > 0) this._ctx.telemetry.emit('file_dest_written', {}, stats.lines);
    if (stats.bytes > 0) this._ctx.telemetry.emit('file_dest_bytes', {}, stats.bytes);
    if (stats.dups > 0) this._ctx.telemetry.emit('file_dest_duplicates', {}, stats.dups);
  }

  /**
   * The parsed fields of a syslog batch when its paths or lines read them; undefined for other
   * batches, and for a syslog batch written "raw" to one path (the fast path: bytes as received).
   */
  private _fieldsFor(it: Pending): RecordFields | undefined {
    if (!this._fieldsNeeded(it)) return undefined;
    try {
      return recordFields(it.batch);
    } catch (err) {
      // The parser keeps what it cannot parse; a throw is a bug. Write the batch with its shared
      // metadata rather than lose it.
      const e = new LogshipError('LS_INTERNAL', 'file destination: syslog fields of a batch could not be parsed', { cause: err });
      this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'parse' });
      return undefined;
    }
  }

  /** Whether _fieldsFor parses the batch. */
  private _fieldsNeeded(it: Pending): boolean {
    const b = it.batch;
    return b.meta.format === 'syslog' && b.count > 0 && (it.route.path.hasMacros || !it.route.line.raw);
  }

  /**
   * Where a batch goes: one path for the whole batch (its shared metadata), or, for a syslog
   * batch with a path that uses macros, one path per distinct tuple of record fields, each with
   * its records. Every value is sanitized before it joins a path; an error if one would leave
   * base_dir. Rendered once per batch: the COMMIT before its cycle may have needed its files
   * already (_nextFiles); a batch replaced since (_fillHoles) is rendered again.
   */
  private _render(it: Pending, fields: RecordFields | undefined): Target[] | LogshipError {
    if (it.rendered !== undefined && it.rendered.batch === it.batch) return it.rendered.targets;
    const route = it.route;
    let rels: string[];
    let groups: (readonly number[] | null)[];
    if (fields !== undefined && route.path.hasMacros) {
      const rp = groupRecordPaths(route.path, it.batch, fields, sanitizePathComponent);
      rels = rp.paths;
      groups = rp.groups;
    } else {
      rels = [renderTemplate(route.path, it.batch.meta, sanitizePathComponent)];
      groups = [null];
    }
    let targets: Target[] | LogshipError = [];
    for (let k = 0; k < rels.length; k++) {
      const abs = confinePath(route.baseDir, rels[k]!);
      if (abs === undefined) {
        targets = new LogshipError('LS_INTERNAL', `file destination: path "${rels[k]!}" is not inside base_dir ${route.baseDir}`);
        break;
      }
      targets.push({ abs, records: groups[k]! });
    }
    it.rendered = { batch: it.batch, targets };
    return targets;
  }

  /**
   * The files the COMMIT being written declares as the next cycle's (next in journal.ts): this
   * cycle's files at their sizes after, and the files of the batches the next cycle will take at
   * their sizes now (one stat each: exact, as a BEGIN written now would say). With 50 senders to
   * 50 files, consecutive cycles rarely write the same files; without them the next cycle would
   * need a BEGIN of its own (one more journal sync per cycle). Only this cycle's files when one
   * of the others is not open here (a new file: its cycle creates it), no longer names the file
   * held or cannot be statted: that cycle writes its own BEGIN anyway. Never throws: it runs
   * between a cycle's data and its COMMIT, where a throw would leave written lines uncommitted
   * and not cut back (written again when resent).
   */
  private _nextFiles(after: FileMark[]): FileMark[] {
    try {
      const marks = new Map(after.map((m) => [m.p, m]));
      const n = this._nextCount();
      for (let i = 0; i < n; i++) {
        const it = this._queue[i]!;
        const targets = this._render(it, this._fieldsFor(it));
        if (targets instanceof LogshipError) return after;
        for (const tg of targets) {
          if (marks.has(tg.abs)) continue;
          const m = this._handles.markOf(tg.abs);
          if (m === undefined) return after;
          marks.set(tg.abs, m);
        }
      }
      return marks.size === after.length ? after : [...marks.values()];
    } catch {
      return after; // a bug in rendering a path: the next cycle renders it again, and reports it
    }
  }

  /**
   * A buffer of at least `size` bytes for one cycle's arena (its own ArrayBuffer). Up to
   * ARENA_KEEP_BYTES it is kept for the next cycles (cycles run one at a time, and nothing of a
   * cycle's buffers outlives it); a larger one is used once.
   */
  private _arenaOf(size: number): Buffer {
    if (this._arena !== undefined && this._arena.length >= size) return this._arena;
    const buf = Buffer.allocUnsafeSlow(Math.max(size, 1));
    if (size <= ARENA_KEEP_BYTES) this._arena = buf;
    return buf;
  }

  /** A run plan of at least `size` entries, kept for the next cycles as the arena is (up to a quarter of its bytes). */
  private _planOf(size: number): Uint32Array {
    if (this._plan !== undefined && this._plan.length >= size) return this._plan;
    const plan = new Uint32Array(Math.max(size, 64));
    if (size <= ARENA_KEEP_BYTES / 16) this._plan = plan;
    return plan;
  }

  private _failCycle(live: Pending[], e: LogshipError, now: number): void {
    this._ctx.telemetry.emit('file_dest_error', { err: e, stage: 'write' });
    for (const it of live) this._fail(it, e, now);
  }

  /** Cuts every file of a failed cycle back to its size before; what fails is retried later. */
  private async _rollbackFiles(files: FilePlan[]): Promise<void> {
    for (const plan of files) {
      try {
        await this._hooks.fault?.('truncate', plan.file.path);
        await plan.file.fh.truncate(plan.before);
        if (plan.sync) await plan.file.fh.datasync();
      } catch {
        this._rollback.push({ p: plan.file.path, id: plan.file.id, size: plan.before });
        await this._handles.drop(plan.file.path);
      }
    }
  }

  private async _retryRollback(): Promise<void> {
    while (this._rollback.length > 0) {
      const mark = this._rollback[0]!;
      await this._hooks.fault?.('truncate', mark.p);
      await undoAppend(mark, this._fsync);
      this._rollback.shift();
    }
  }
}

/** Appends a file's bytes of the cycle: with the lines of its planned runs copied in the pool thread, or as they are. */
function writeFile(plan: FilePlan, planned: Planned | undefined): Promise<void> {
  const buf = plan.buf!;
  if (planned === undefined) return writeAll(plan.file, buf);
  const start = buf.byteOffset - planned.arena.byteOffset;
  return appendPlanned(planned.runs, plan.file.fh.fd, planned.arena, start, start + buf.length, plan.srcs, planned.plan, plan.planFrom, plan.planTo);
}

/** writeFile after the test seam's 'data-write' step (a throw there, sync or async, is that write failing). */
async function faultThenWrite(fault: NonNullable<WriterHooks['fault']>, plan: FilePlan, planned: Planned | undefined): Promise<void> {
  await fault('data-write', plan.file.path);
  return writeFile(plan, planned);
}

/**
 * True when a slice's runs are planned for the pool and its batch is read where it lies: all the
 * records of a syslog batch, to a template whose runs the native writer takes (format.ts writesRuns).
 */
function planRuns(sl: Slice): boolean {
  return sl.fields !== undefined && sl.records === null && writesRuns(sl.item.route.line);
}

async function writeAll(file: OpenFile, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await file.fh.write(buf, off, buf.length - off, null);
    if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    off += bytesWritten;
  }
}

interface RegistryEntry {
  refs: number;
  readonly ready: Promise<WriterCore>;
}

const ENTRIES = new Map<string, RegistryEntry>();
const CLOSING = new Map<string, Promise<void>>();

/** The shared core for a journal path: opened (with recovery) by the first user. */
export async function acquireWriter(
  file: string,
  ctx: ComponentContext,
  fsync: boolean,
  maxOpen: number,
  hooks: WriterHooks = {},
  maxStreams: number = MAX_TRACKED_STREAMS,
  maxInFlight = Number.POSITIVE_INFINITY,
): Promise<WriterCore> {
  for (;;) {
    const closing = CLOSING.get(file);
    if (closing !== undefined) {
      await closing;
      continue;
    }
    let e = ENTRIES.get(file);
    if (e === undefined) {
      const entry: RegistryEntry = { refs: 0, ready: WriterCore.open(file, ctx, fsync, maxOpen, hooks, maxStreams) };
      ENTRIES.set(file, entry);
      entry.ready.catch(() => {
        if (ENTRIES.get(file) === entry) ENTRIES.delete(file);
      });
      e = entry;
    }
    e.refs++;
    try {
      const core = await e.ready;
      core.adopt(ctx, fsync, maxOpen, maxStreams, maxInFlight);
      return core;
    } catch (err) {
      e.refs--;
      throw err;
    }
  }
}

/** Drops one reference; the last one closes the core. */
export async function releaseWriter(file: string): Promise<void> {
  const e = ENTRIES.get(file);
  if (e === undefined) return;
  if (--e.refs > 0) return;
  ENTRIES.delete(file);
  const closing = e.ready.then((core) => core.close());
  CLOSING.set(file, closing);
  try {
    await closing;
  } finally {
    if (CLOSING.get(file) === closing) CLOSING.delete(file);
  }
}
