// One file generation being tailed: reads whole records from an open fd into batches, pushes them
// (awaiting the router: backpressure) and tracks the acknowledged offset. Knows nothing of globs,
// rotation policy or the checkpoint file: the host (source.ts) decides those.
//
//   stream offsets:  0 ........ ackedOffset ......... readOffset ...... size
//                    | delivered | in flight (≤ MAX_IN_FLIGHT batches) | not read yet |
//
// ackedOffset advances over the contiguous prefix of settled batches: `delivered` and `rejected`
// (which can never be delivered) advance it, `retryable` does not: once every batch in flight has
// settled, reading resumes from ackedOffset (at-least-once; the server drops repeats by offset).
//
// Idle costs nothing: a live tailer at the end of its file has no timer; it sleeps until the host
// kicks it (a change notification, or the host's safety sweep, which checks each idle file after
// nextCheckAt: pollIntervalMs after its last growth, then twice that, … up to maxPollIntervalMs,
// jittered). Any growth starts the delays over.

import type { FileHandle } from 'node:fs/promises';
import { Batch } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';
import { retryable, type Outcome } from '../../core/outcome.js';
import { fingerprintMatches, hashHead, readHead, type FileIdentity } from './identity.js';
import type { ReadBuffers } from '../common/buffers.js';
import { splitRecords } from './lines.js';

/**
 * Batches of one file pushed and not settled yet, at most. Bounds memory per file: this many read
 * buffers (read_chunk_bytes each) are pinned until acknowledged. 4 × 1 MiB keeps a fast file at
 * full speed (issue 5, S3: 16 held 12 MB more at the client's peak for no more msg/s).
 */
export const MAX_IN_FLIGHT = 4;

/**
 * live      attached to an included path: follows appends, checks for truncation
 * draining  gone from its path (rotated, deleted): read to the end, flush the partial line
 * drained   everything read; waits for its batches to settle, then closes
 * truncated its bytes were cut or rewritten: reads no more (the host starts a new generation)
 */
export type TailerMode = 'live' | 'draining' | 'drained' | 'truncated';

export interface TailerHost {
  readonly ctx: SourceContext;
  /** Write the checkpoint so that it holds this tailer's stream id; false when it cannot. */
  persist(): Promise<boolean>;
  /** Acked offset or identity changed: the checkpoint is stale. */
  changed(): void;
  /** The tailer found its bytes truncated or rewritten and stopped reading. */
  truncated(t: FileTailer): void;
  /** The tailer was drained, closed, and every batch of it has settled. */
  finished(t: FileTailer): void;
}

export interface TailerConfig {
  readonly maxLineBytes: number;
  readonly partialFlushMs: number;
  readonly readChunkBytes: number;
  /** The source's reusable read buffers (of readChunkBytes). */
  readonly buffers: ReadBuffers;
  /** First idle safety-check delay; also the re-check period of draining files and the retry delay. */
  readonly pollIntervalMs: number;
  /** Longest idle safety-check delay of an unchanged file. */
  readonly maxPollIntervalMs: number;
  /** How long a file that left its path (rotated, deleted) must stay unchanged before it is closed. */
  readonly rotateWaitMs: number;
  readonly host: string;
  readonly facility: number;
  readonly severity: number;
  /** Lines are syslog messages (meta.format 'syslog'). */
  readonly syslog: boolean;
}

interface InFlight {
  /** Stream offset just past the batch. */
  readonly end: number;
  /** The read buffer the batch's bytes live in: back to the pool once settled. */
  readonly buf: Buffer;
  state: 'pending' | 'done' | 'retry';
  readonly settled: Promise<unknown>;
}

type Step = { readonly kind: 'progress' } | { readonly kind: 'wait'; readonly ms: number | undefined } | { readonly kind: 'end' };

const PROGRESS: Step = { kind: 'progress' };
const WAIT_KICK: Step = { kind: 'wait', ms: undefined };

export class FileTailer {
  path: string;
  id: FileIdentity;
  readonly stream: string;
  readonly program: string;
  mode: TailerMode;
  /** Offset of the next byte to read (end of the last batch pushed). */
  readOffset: number;
  /** Every byte before it is settled as delivered or rejected. */
  ackedOffset: number;
  /** The checkpoint file holds the stream id (it must before the first push). */
  persisted: boolean;
  /** Resolves when the read loop has exited. */
  done: Promise<void>;
  /** When the host's safety sweep should next check this file, if it is live and unchanged (epoch ms). */
  nextCheckAt: number;
  private _fh: FileHandle | undefined;
  private readonly _cfg: TailerConfig;
  private readonly _host: TailerHost;
  private readonly _inflight: InFlight[];
  private _retry: boolean;
  private _stopping: boolean;
  private _kicked: boolean;
  private _wake: (() => void) | undefined;
  private _lastSize: number;
  private _lastSizeAt: number;
  /** Next safety-check delay (before jitter). */
  private _idleMs: number;
  private _atEndWaiters: (() => void)[];
  private readonly _stopSignal: Promise<void>;
  private _signalStop: () => void;
  private _finished: boolean;
  private _loopEnded: boolean;

  constructor(
    fh: FileHandle,
    path: string,
    id: FileIdentity,
    stream: string,
    offset: number,
    persisted: boolean,
    program: string,
    cfg: TailerConfig,
    host: TailerHost,
  ) {
    this.path = path;
    this.id = id;
    this.stream = stream;
    this.program = program;
    this.mode = 'live';
    this.readOffset = offset;
    this.ackedOffset = offset;
    this.persisted = persisted;
    this.done = Promise.resolve();
    this._fh = fh;
    this._cfg = cfg;
    this._host = host;
    this._inflight = [];
    this._retry = false;
    this._stopping = false;
    this._kicked = false;
    this._wake = undefined;
    this._lastSize = -1;
    this._lastSizeAt = Date.now();
    this._idleMs = cfg.pollIntervalMs;
    this.nextCheckAt = this._lastSizeAt + cfg.pollIntervalMs;
    this._atEndWaiters = [];
    let signal!: () => void;
    this._stopSignal = new Promise<void>((r) => {
      signal = r;
    });
    this._signalStop = signal;
    this._finished = false;
    this._loopEnded = false;
  }

  /** Start the read loop once `after` resolves (the previous generation at this path read to its end). */
  start(after?: Promise<void>): void {
    this.done = this._run(after);
  }

  /** New data or a change may be there: re-check now. */
  kick(): void {
    const w = this._wake;
    if (w !== undefined) w();
    else this._kicked = true;
  }

  /** Resolves the next time the reader is at the end of the file, or when it stops reading. */
  whenAtEnd(): Promise<void> {
    if (this._loopEnded) return Promise.resolve();
    return new Promise<void>((r) => this._atEndWaiters.push(r));
  }

  /** The file left its path: read what is left, flush the partial line, close. */
  drain(): void {
    if (this.mode === 'live') {
      this.mode = 'draining';
      // rotate_wait_ms counts from now: a file quiet for long before its rotation still gets the
      // lines its writer adds before reopening its log.
      this._lastSizeAt = Date.now();
    }
    this.kick();
  }

  /** The generation showed up at an included path again: follow it there. */
  reattach(path: string): void {
    this.path = path;
    if (this.mode === 'draining' || this.mode === 'drained') this.mode = 'live';
    this.kick();
  }

  /** Whether the tailer still reads (or may read again after a retry). */
  get reading(): boolean {
    return this.mode !== 'truncated' && !this._finished && this._fh !== undefined;
  }

  stop(): void {
    this._stopping = true;
    this._signalStop();
    this.kick();
  }

  /** Resolves when no batch of this tailer is pending (callers bound the wait). */
  async allSettled(): Promise<void> {
    await Promise.all(this._inflight.map((e) => e.settled));
  }

  /** Close the fd (idempotent); a read loop still running then ends on its next step. */
  async close(): Promise<void> {
    const fh = this._fh;
    this._fh = undefined;
    if (fh !== undefined) await fh.close().catch(() => undefined);
  }

  private async _run(after: Promise<void> | undefined): Promise<void> {
    if (after !== undefined) await Promise.race([after, this._stopSignal]);
    while (!this._stopping) {
      if (this.mode === 'truncated') break;
      if (this.mode === 'drained' && this._inflight.length === 0) break;
      let step: Step;
      try {
        step = await this._step();
      } catch (err) {
        if (this._stopping || this._fh === undefined) break;
        this._host.ctx.telemetry.emit('file_read_error', { path: this.path, stream: this.stream, err });
        step = { kind: 'wait', ms: this._cfg.pollIntervalMs };
      }
      if (step.kind === 'end') break;
      if (step.kind === 'wait') await this._sleep(step.ms);
    }
    this._loopEnded = true;
    this._notifyAtEnd();
    if (this._stopping) return;
    await this.close();
    if (this.mode === 'drained') {
      this._host.ctx.telemetry.emit('file_closed', { path: this.path, stream: this.stream, offset: this.readOffset });
      this._maybeFinished();
    }
  }

  private async _step(): Promise<Step> {
    if (this._retry) {
      if (this._inflight.some((e) => e.state === 'pending')) return WAIT_KICK;
      // Every batch in flight settled, one or more not delivered: resend from the acked offset.
      this._host.ctx.telemetry.emit('file_resend', { path: this.path, stream: this.stream, offset: this.ackedOffset, readOffset: this.readOffset });
      this._inflight.length = 0;
      this._retry = false;
      this.readOffset = this.ackedOffset;
      if (this.mode === 'drained') this.mode = 'draining';
      return { kind: 'wait', ms: this._cfg.pollIntervalMs };
    }
    if (this.mode === 'drained') return WAIT_KICK;
    if (this._inflight.length >= MAX_IN_FLIGHT) return WAIT_KICK;
    const fh = this._fh;
    if (fh === undefined) return { kind: 'end' };
    const size = (await fh.stat()).size;
    const now = Date.now();
    const resized = size !== this._lastSize;
    if (resized) {
      this._lastSize = size;
      this._lastSizeAt = now;
      this._idleMs = this._cfg.pollIntervalMs;
      this.nextCheckAt = now + this._idleMs;
    }
    // Truncated: shorter than what was read, or the first bytes changed (rewritten in place; checked
    // before every read, and whenever the size changed, not on idle polls).
    const check = size > this.readOffset || resized;
    if (this.mode === 'live' && (size < this.readOffset || (check && !(await this._checkHead(fh))))) {
      this._host.ctx.telemetry.emit('file_truncated', { path: this.path, stream: this.stream, offset: this.readOffset, size });
      this.mode = 'truncated';
      this._host.truncated(this);
      return { kind: 'end' };
    }
    if (size <= this.readOffset) return this._atEnd(now, false);
    const want = Math.min(size - this.readOffset, this._cfg.readChunkBytes);
    const buf = this._cfg.buffers.take(want);
    const { bytesRead } = await fh.read(buf, 0, want, this.readOffset);
    if (bytesRead === 0) {
      this._cfg.buffers.give(buf);
      return this._atEnd(now, false);
    }
    const data = bytesRead < buf.length ? buf.subarray(0, bytesRead) : buf;
    const atEnd = this.readOffset + bytesRead >= size;
    const quiet = now - this._lastSizeAt;
    const flush =
      atEnd &&
      ((this._cfg.partialFlushMs > 0 && quiet >= this._cfg.partialFlushMs) || (this.mode === 'draining' && quiet >= this._cfg.rotateWaitMs));
    const r = splitRecords(data, this._cfg.maxLineBytes, flush);
    if (r.consumed === 0) {
      this._cfg.buffers.give(buf);
      return this._atEnd(now, true);
    }
    if (flush && data[r.consumed - 1] !== 0x0a) this._host.ctx.telemetry.emit('file_partial_flushed', { path: this.path, stream: this.stream });
    if (r.splits > 0) this._host.ctx.telemetry.emit('file_line_split', { path: this.path, stream: this.stream }, r.splits);
    if (!(await this._push(r.consumed === data.length ? data : data.subarray(0, r.consumed), r.ends, buf))) {
      this._cfg.buffers.give(buf);
      return { kind: 'wait', ms: this._cfg.pollIntervalMs };
    }
    return PROGRESS;
  }

  /** Nothing to push: only a held partial line, or nothing at all past readOffset. */
  private _atEnd(now: number, partial: boolean): Step {
    this._notifyAtEnd();
    const quiet = now - this._lastSizeAt;
    if (this.mode === 'draining') {
      // Applications keep writing to a rotated file until they reopen their log: keep it open
      // (and in the checkpoint) until it has been quiet for rotate_wait_ms.
      const left = this._cfg.rotateWaitMs - quiet;
      if (left > 0 || partial) return { kind: 'wait', ms: Math.max(1, Math.min(left, this._cfg.pollIntervalMs)) };
      this.mode = 'drained';
      return this._inflight.length === 0 ? { kind: 'end' } : WAIT_KICK;
    }
    if (partial && this._cfg.partialFlushMs > 0) {
      return { kind: 'wait', ms: Math.max(1, Math.min(this._cfg.partialFlushMs - quiet, this._cfg.pollIntervalMs)) };
    }
    // Live: no timer. A notification or the host's safety sweep (nextCheckAt) kicks it.
    return WAIT_KICK;
  }

  /** Size of the file when last looked at by the read loop (-1: not yet). */
  get sizeSeen(): number {
    return this._lastSize;
  }

  /** The host's safety sweep checks this file now: the next check is due twice as late (up to the max). */
  checking(now: number): void {
    this.nextCheckAt = now + idleDelay(this._idleMs, Math.random());
    this._idleMs = Math.min(this._idleMs * 2, this._cfg.maxPollIntervalMs);
  }

  /** The fingerprinted first bytes are unchanged; extends the fingerprint while the file is short. */
  private async _checkHead(fh: FileHandle): Promise<boolean> {
    const head = await readHead(fh);
    if (!fingerprintMatches(this.id, head)) return false;
    if (head.length > this.id.fpLen) {
      this.id = { dev: this.id.dev, ino: this.id.ino, fingerprint: hashHead(head), fpLen: head.length };
      this._host.changed();
    }
    return true;
  }

  /** Push `data` (a view of `buf`); false when the stream id could not be persisted (nothing pushed). */
  private async _push(data: Buffer, ends: Uint32Array, buf: Buffer): Promise<boolean> {
    if (!this.persisted) {
      // The stream id must be durable before any of its bytes leave: a restart must not invent
      // another id for the same bytes (they would then be written twice).
      if (!(await this._host.persist())) return false;
      this.persisted = true;
    }
    const { ctx } = this._host;
    const cfg = this._cfg;
    const offset = this.readOffset;
    const batch = new Batch(
      data,
      ends,
      cfg.syslog
        ? { host: cfg.host, program: this.program, facility: cfg.facility, severity: cfg.severity, timeMs: Date.now(), format: 'syslog' }
        : { host: cfg.host, program: this.program, facility: cfg.facility, severity: cfg.severity, timeMs: Date.now() },
      { origin: cfg.host, stream: this.stream, offset },
    );
    const settled = batch.settled.then((o) => this._settled(entry, o, offset, ends.length));
    const entry: InFlight = { end: offset + data.length, buf, state: 'pending', settled };
    this._inflight.push(entry);
    this.readOffset = entry.end;
    ctx.telemetry.emit('source_batches', {}, 1);
    ctx.telemetry.emit('source_lines', {}, ends.length);
    ctx.telemetry.emit('source_bytes', {}, data.length);
    try {
      await ctx.push(batch);
    } catch (err) {
      batch.settle(retryable(err instanceof Error ? err : new Error(String(err))));
    }
    return true;
  }

  private _settled(entry: InFlight, o: Outcome, offset: number, records: number): void {
    // Settled: no destination holds the batch's bytes any more.
    this._cfg.buffers.give(entry.buf);
    if (o.kind === 'retryable') {
      entry.state = 'retry';
      this._retry = true;
    } else {
      if (o.kind === 'rejected') {
        this._host.ctx.telemetry.emit('batch_rejected', { path: this.path, stream: this.stream, offset, records, err: o.error });
      }
      entry.state = 'done';
    }
    let advanced = false;
    while (this._inflight.length > 0 && this._inflight[0]!.state === 'done') {
      this.ackedOffset = this._inflight.shift()!.end;
      advanced = true;
    }
    if (advanced) this._host.changed();
    this.kick();
    this._maybeFinished();
  }

  private _notifyAtEnd(): void {
    if (this._atEndWaiters.length > 0) for (const r of this._atEndWaiters.splice(0)) r();
  }

  private _maybeFinished(): void {
    if (this._finished || this.mode !== 'drained' || this._inflight.length > 0 || this._fh !== undefined) return;
    this._finished = true;
    this._host.finished(this);
  }

  private _sleep(ms: number | undefined): Promise<void> {
    if (this._kicked || this._stopping) {
      this._kicked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        this._wake = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this._wake = done;
    });
  }
}

/** A safety-check delay spread over ±25 % (`r` uniform in [0, 1)), so files checked together drift apart. */
export function idleDelay(base: number, r: number): number {
  return Math.max(1, Math.round(base * (0.75 + 0.5 * r)));
}
