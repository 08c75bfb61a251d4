// Bounded hand-off from a local source to the router: a RecordBatcher whose backlog (bytes taken
// from the socket or pipe but not yet taken by the router) is counted, so the source can pause its
// readers (stream, pipe) or drop and count (datagrams: the binding cannot pause) above a bound.
// Shared by unix-dgram, unix-stream and pipe. No sockets here.
//
//   add() ──► RecordBatcher ──► batch ──► push chain ──► ctx.push (router) resolves
//   backlog += n + 1                                       backlog -= batch bytes ─► wake waiters
//
// The backlog is counted at push resolution, not at batch cut, because the batcher's timer also
// cuts batches (every maxDelayMs) that nobody awaits: counting only awaited pushes would let a
// slow router accumulate an unbounded chain of small timer batches.

import type { SourceContext } from '../../core/component.js';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';
import { countedContext } from '../common/counted-context.js';
import { RecordBatcher, type RecordBatcherOptions } from '../common/record-batcher.js';

/** A batch is cut at this size (or after maxDelayMs). */
export const LOCAL_BATCH_BYTES = 1024 * 1024;
/** Readers pause (stream, pipe) or datagrams are dropped above this backlog. */
export const LOCAL_BACKLOG_BYTES = 4 * LOCAL_BATCH_BYTES;
/** Records wait at most this long before their batch is cut. */
export const LOCAL_BATCH_DELAY_MS = 10;

export class LocalFlow {
  private readonly _batcher: RecordBatcher;
  private readonly _highWater: number;
  private _backlog: number;
  private _waiters: (() => void)[];

  constructor(ctx: SourceContext, opts: RecordBatcherOptions & { readonly highWaterBytes?: number }) {
    this._highWater = opts.highWaterBytes ?? LOCAL_BACKLOG_BYTES;
    this._backlog = 0;
    this._waiters = [];
    // The batcher pushes through this context (common/counted-context.ts: its push never rejects).
    const counted = countedContext(ctx, {
      failed: (err, b) => ctx.telemetry.emit('local_push_failed', { err, records: b.count }),
      after: (b) => this._release(b.data.length),
    });
    this._batcher = new RecordBatcher(counted, opts);
  }

  get stream(): string {
    return this._batcher.stream;
  }

  /** Bytes received and not yet taken by the router. */
  get backlogBytes(): number {
    return this._backlog;
  }

  /** True when readers should pause (or datagrams be dropped). */
  get full(): boolean {
    return this._backlog >= this._highWater;
  }

  /** Adds one record (bytes [start, end) of src, no terminator). Never waits: check `full`. */
  add(src: Buffer, start: number, end: number): void {
    this._backlog += end - start + 1;
    // The returned promise (set when the record filled a batch) never rejects: see `counted`.
    void this._batcher.add(src, start, end);
  }

  /** Resolves once the backlog is below the bound again. */
  whenRoom(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  /**
   * Pushes what waits and resolves when the router has taken everything added so far, or after
   * `boundMs` (a stalled router must not hold a stop forever; what it has not taken is lost).
   */
  async close(boundMs: number): Promise<void> {
    this._wake();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, boundMs);
      timer.unref();
    });
    await Promise.race([this._batcher.close().catch(() => undefined), timeout]);
    clearTimeout(timer);
  }

  private _release(n: number): void {
    this._backlog -= n;
    if (!this.full) this._wake();
  }

  private _wake(): void {
    if (this._waiters.length === 0) return;
    const w = this._waiters;
    this._waiters = [];
    for (const fn of w) fn();
  }
}

/** What a unix socket source's options say about messages that carry no header (localKeys). */
export interface LocalDefaults {
  readonly program?: string | undefined;
  readonly facility: string | number;
  readonly severity: string | number;
}

/**
 * The one flow of a unix socket source (unix-dgram, unix-stream): syslog records from this node,
 * with the options' program (default: the source's name), facility and severity.
 */
export function socketFlow(ctx: SourceContext, o: LocalDefaults): LocalFlow {
  return new LocalFlow(ctx, {
    meta: {
      host: ctx.node.name,
      program: o.program ?? ctx.id,
      facility: facilityCode(o.facility) ?? 1,
      severity: severityCode(o.severity) ?? 5,
      format: 'syslog',
    },
    maxBatchBytes: LOCAL_BATCH_BYTES,
    maxDelayMs: LOCAL_BATCH_DELAY_MS,
  });
}
