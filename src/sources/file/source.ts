// The file source: owns discovery, the tailers (one per file generation), the checkpoint and the
// path bookkeeping (rotation, deletion, truncation). All path changes go through one serialized
// reconcile loop, so no two checks of a path race. Reading itself happens in the tailers.
//
//   chokidar events ─────────┐                          ┌─► tailer (generation A, stream s1) ─► ctx.push
//   dir watch: rename ───────┼─► pending paths ─► reconcile ─► tailer (generation B, stream s2) ─► ctx.push
//   tailer: truncated ───────┤                          └─► checkpoint (acked offsets, when changed)
//   sweep: moved ────────────┘
//   dir watch: change, sweep: grew ─────────────────────────► kick the tailer of that path
//
// Idle files cost nothing but the sweep: once per poll_interval_ms, one stat of each file whose
// safety check is due (each is due ever less often while it stays unchanged, see tailer.ts), all
// at once, so a thousand idle files wake the process once a second, not a thousand times. The
// same tick looks for include roots that appeared or vanished and retries unreadable paths.

import { randomBytes } from 'node:crypto';
import { stat as statCallback, type BigIntStats } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';
import { ReadBuffers } from '../common/buffers.js';
import { CheckpointWriter, readCheckpoint, type CheckpointEntry } from './checkpoint.js';
import { Discovery } from './discovery.js';
import { DirNotify } from './notify.js';
import { identify, identityMatches, type FileIdentity } from './identity.js';
import { maxPollIntervalMs, type FileSourceOptions } from './options.js';
import { classifyPath, locateGeneration } from './rotation.js';
import { FileTailer, MAX_IN_FLIGHT, type TailerConfig, type TailerHost } from './tailer.js';

/** How long stop() waits for reads to end and batches to settle. */
export const STOP_WAIT_MS = 5_000;
const BIGINT = { bigint: true } as const;
/** Bound on chained relocations when several rotated names shift at once (app.log.1 → .2 …). */
const MAX_RELOCATE_DEPTH = 16;

function defaultProgram(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  return ext === '' ? base : base.slice(0, -ext.length);
}

function newStreamId(): string {
  return randomBytes(8).toString('hex');
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Wait for `p` at most `ms` (the timer does not keep the process alive). */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => {
    timer = setTimeout(r, Math.max(0, ms));
    timer.unref();
  });
  await Promise.race([p.catch(() => undefined), timeout]);
  clearTimeout(timer);
}

/** What tests may change. */
export interface FileSourceInternals {
  /** false: ignore every change notification (directory watches, chokidar's `change`), as on a
   *  file system without them: only new files are reported (chokidar's `add`); the safety sweep
   *  must find growth, truncations and rotations. Default true. */
  readonly notifications?: boolean;
}

export class FileSource implements Source, TailerHost {
  private readonly _opts: FileSourceOptions;
  private readonly _notifications: boolean;
  private _ctx: SourceContext | undefined;
  private _cfg: TailerConfig | undefined;
  private _discovery: Discovery | undefined;
  private readonly _notify: DirNotify;
  private _writer: CheckpointWriter | undefined;
  private readonly _tailers: Set<FileTailer>;
  /** Included path → the generation followed there. */
  private readonly _byPath: Map<string, FileTailer>;
  /** Paths to re-check → whether seen by the initial scan (start_at applies). */
  private readonly _pending: Map<string, boolean>;
  /** Paths that failed to open or stat: logged once, retried by the poll. */
  private readonly _unreadable: Set<string>;
  private _initialScan: boolean;
  private _startAtEnd: boolean;
  private _dirty: boolean;
  private _stopping: boolean;
  private _busy: boolean;
  private _sweeping: boolean;
  private _wakeReconciler: (() => void) | undefined;
  private _idleWaiters: (() => void)[];
  private _reconciler: Promise<void>;
  private _poller: Promise<void>;
  private _pollTimer: NodeJS.Timeout | undefined;
  private _checkpointTimer: NodeJS.Timeout | undefined;

  constructor(opts: FileSourceOptions, internals: FileSourceInternals = {}) {
    this._opts = opts;
    this._notifications = internals.notifications ?? true;
    this._ctx = undefined;
    this._cfg = undefined;
    this._discovery = undefined;
    this._notify = new DirNotify({
      event: (kind, dir, path) => this._notified(kind, dir, path),
      error: (err) => this._ctx?.telemetry.emit('file_read_error', { err }),
    });
    this._writer = undefined;
    this._tailers = new Set();
    this._byPath = new Map();
    this._pending = new Map();
    this._unreadable = new Set();
    this._initialScan = true;
    this._startAtEnd = false;
    this._dirty = false;
    this._stopping = false;
    this._busy = false;
    this._sweeping = false;
    this._wakeReconciler = undefined;
    this._idleWaiters = [];
    this._reconciler = Promise.resolve();
    this._poller = Promise.resolve();
    this._pollTimer = undefined;
    this._checkpointTimer = undefined;
  }

  get ctx(): SourceContext {
    if (this._ctx === undefined) throw new LogshipError('LS_INTERNAL', 'file source used before start()');
    return this._ctx;
  }

  async start(ctx: SourceContext): Promise<void> {
    this._ctx = ctx;
    const o = this._opts;
    this._cfg = {
      maxLineBytes: o.max_line_bytes,
      partialFlushMs: o.partial_flush_ms,
      readChunkBytes: o.read_chunk_bytes,
      buffers: new ReadBuffers(o.read_chunk_bytes, MAX_IN_FLIGHT),
      pollIntervalMs: o.poll_interval_ms,
      maxPollIntervalMs: maxPollIntervalMs(o),
      rotateWaitMs: o.rotate_wait_ms,
      host: ctx.node.name,
      facility: facilityCode(o.facility) ?? 1,
      severity: severityCode(o.severity) ?? 5,
      syslog: o.format === 'syslog',
    };
    const dir = join(ctx.node.stateDir, 'checkpoints');
    const file = join(dir, `${ctx.id}.json`);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new LogshipError('LS_STARTUP', `cannot create the checkpoint directory ${dir}; check node.state_dir and its permissions`, { cause: err });
    }
    const entries = await readCheckpoint(file);
    this._startAtEnd = entries === undefined && o.start_at === 'end';
    this._writer = new CheckpointWriter(
      file,
      () => this._snapshot(),
      (err) => ctx.telemetry.emit('file_checkpoint_error', { file, err }),
    );
    this._discovery = new Discovery(o.include, o.exclude, process.cwd(), {
      file: (path, event) => {
        if (event === 'add' || this._notifications) this._schedule(path, this._initialScan);
      },
      error: (err) => ctx.telemetry.emit('file_read_error', { err }),
    });
    try {
      if (entries !== undefined) await this._restore(entries);
      this._reconciler = this._reconcileLoop();
      await this._discovery.start();
      this._initialScan = false;
      await this._whenIdle();
      // Written now even if empty, so that a restart knows this is not the first start.
      if (!(await this._writer.write())) {
        throw new LogshipError('LS_STARTUP', `cannot write the checkpoint file ${file}; check node.state_dir and its permissions`);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this._pollTimer = setInterval(() => this._poll(), o.poll_interval_ms);
    this._checkpointTimer = setInterval(() => this._checkpointTick(), o.checkpoint_interval_ms);
  }

  async stop(): Promise<void> {
    if (this._stopping) return;
    this._stopping = true;
    const deadline = Date.now() + STOP_WAIT_MS;
    clearInterval(this._pollTimer);
    clearInterval(this._checkpointTimer);
    // Stop reading first: no new batch (nor a resend of a batch that came back retryable) is pushed.
    for (const t of this._tailers) t.stop();
    this._wakeReconciler?.();
    this._notify.close();
    await this._discovery?.close();
    // No tailer is created once the reconcile loop has ended (it checks _stopping after each await).
    await bounded(Promise.all([this._reconciler, this._poller]), deadline - Date.now());
    const tailers = [...this._tailers];
    for (const t of tailers) t.stop();
    await bounded(Promise.all(tailers.map((t) => t.done)), deadline - Date.now());
    await bounded(Promise.all(tailers.map((t) => t.allSettled())), deadline - Date.now());
    if (this._writer !== undefined) {
      await this._writer.idle();
      await this._writer.write();
    }
    await Promise.all(tailers.map((t) => t.close()));
  }

  // ---- TailerHost

  async persist(): Promise<boolean> {
    return this._writer !== undefined && (await this._writer.write());
  }

  changed(): void {
    this._dirty = true;
  }

  truncated(t: FileTailer): void {
    this._tailers.delete(t);
    this._dirty = true;
    this._schedule(t.path, false);
  }

  finished(t: FileTailer): void {
    this._tailers.delete(t);
    if (this._byPath.get(t.path) === t) this._byPath.delete(t.path);
    this._dirty = true;
  }

  // ---- change notifications

  /** Follow generation `t` at `path`, with its directory watched. */
  private _follow(path: string, t: FileTailer): void {
    this._byPath.set(path, t);
    if (this._notifications) this._notify.watch(dirname(path));
  }

  private _notified(kind: 'change' | 'rename', dir: string, path: string | undefined): void {
    if (this._stopping) return;
    if (path === undefined) {
      // The kernel did not say what changed: re-check every path followed there.
      for (const p of this._byPath.keys()) if (dirname(p) === dir) this._schedule(p, false);
      return;
    }
    const t = this._byPath.get(path);
    if (kind === 'change' && t !== undefined && t.mode === 'live') {
      // Written to: the tailer reads (and sees a truncation itself). No stat needed.
      t.kick();
      return;
    }
    if (t !== undefined || (kind === 'rename' && this._discovery?.matches(path) === true)) this._schedule(path, false);
  }

  // ---- checkpoint

  private _snapshot(): CheckpointEntry[] {
    const out: CheckpointEntry[] = [];
    for (const t of this._tailers) {
      if (t.mode === 'truncated') continue;
      out.push({ path: t.path, dev: t.id.dev, ino: t.id.ino, fingerprint: t.id.fingerprint, fpLen: t.id.fpLen, stream: t.stream, offset: t.ackedOffset });
    }
    return out;
  }

  private _checkpointTick(): void {
    if (!this._dirty || this._writer === undefined || this._stopping) return;
    this._dirty = false;
    // The writer chains its writes; stop() awaits the chain.
    void this._writer.write().then((ok) => {
      if (!ok) this._dirty = true;
    });
  }

  /** Resume the generations of the checkpoint where they are now, at their acked offsets. */
  private async _restore(entries: readonly CheckpointEntry[]): Promise<void> {
    const ctx = this.ctx;
    for (const e of entries) {
      const id: FileIdentity = { dev: e.dev, ino: e.ino, fingerprint: e.fingerprint, fpLen: e.fpLen };
      const g = await locateGeneration(e.path, dirname(e.path), id);
      if (g === undefined) {
        ctx.log.debug({ path: e.path, stream: e.stream }, 'Checkpointed file is gone; forgetting it.');
        continue;
      }
      const dup = [...this._tailers].some((t) => t.id.dev === id.dev && t.id.ino === id.ino);
      if (dup || g.size < e.offset) {
        if (!dup) ctx.telemetry.emit('file_truncated', { path: g.path, stream: e.stream, offset: e.offset, size: g.size });
        await g.fh.close().catch(() => undefined);
        continue;
      }
      const t = this._newTailer(g.fh, g.path, id, e.stream, e.offset, true, defaultProgramOf(this._opts, e.path));
      if (this._discovery!.matches(g.path) && !this._byPath.has(g.path)) {
        this._follow(g.path, t);
      } else {
        ctx.telemetry.emit('file_rotated', { path: e.path, to: g.path, stream: e.stream });
        t.drain();
      }
      t.start();
    }
  }

  // ---- path reconciliation

  private _schedule(path: string, initial: boolean): void {
    if (this._stopping) return;
    if (!this._pending.has(path) || initial) this._pending.set(path, initial);
    this._wakeReconciler?.();
  }

  private _poll(): void {
    if (this._stopping) return;
    for (const p of this._unreadable) this._schedule(p, false);
    this._sweep(Date.now());
    // Roots that appeared (or disappeared) since the last poll; chokidar does not report them.
    this._poller = this._poller.then(() => this._discovery?.poll()).catch((err: unknown) => this.ctx.telemetry.emit('file_read_error', { err }));
  }

  /**
   * The safety net for missed notifications: stat, in one batch, each live file whose check is due;
   * a path that holds another file (or none) is re-checked, a file whose size changed is read.
   * Plain callbacks, not a promise chain per file: this is most of what an idle source does (about
   * 25 µs a check through fs/promises, 9 µs so; docs/decisions/0007-idle-cost.md).
   */
  private _sweep(now: number): void {
    if (this._sweeping) return;
    let left = 0;
    for (const t of this._byPath.values()) {
      if (t.mode !== 'live' || now < t.nextCheckAt) continue;
      t.checking(now);
      left++;
      const path = t.path;
      const done = (err: NodeJS.ErrnoException | null, st?: BigIntStats): void => {
        if (--left === 0) this._sweeping = false;
        this._checked(t, path, err === null ? st : undefined);
      };
      try {
        statCallback(path, BIGINT, done);
      } catch (err) {
        // fs.stat throws, not calls back, on a path it cannot take: gone for all we know.
        queueMicrotask(() => done(err as NodeJS.ErrnoException));
      }
    }
    this._sweeping = left > 0;
  }

  private _checked(t: FileTailer, path: string, st: BigIntStats | undefined): void {
    if (this._stopping || t.path !== path || this._byPath.get(path) !== t) return;
    if (classifyPath(t.id, st) !== 'same') this._schedule(path, false);
    else if (Number(st!.size) !== t.sizeSeen) t.kick();
  }

  private _whenIdle(): Promise<void> {
    if (this._pending.size === 0 && !this._busy) return Promise.resolve();
    return new Promise<void>((r) => this._idleWaiters.push(r));
  }

  private async _reconcileLoop(): Promise<void> {
    while (!this._stopping) {
      const next = this._pending.entries().next();
      if (next.done === true) {
        for (const r of this._idleWaiters.splice(0)) r();
        await new Promise<void>((r) => (this._wakeReconciler = r));
        this._wakeReconciler = undefined;
        continue;
      }
      const [path, initial] = next.value;
      this._pending.delete(path);
      this._busy = true;
      try {
        await this._reconcile(path, initial);
      } catch (err) {
        this._readError(path, err);
      } finally {
        this._busy = false;
      }
    }
    for (const r of this._idleWaiters.splice(0)) r();
  }

  private async _reconcile(path: string, initial: boolean): Promise<void> {
    let st: BigIntStats | undefined;
    try {
      st = await stat(path, { bigint: true });
    } catch (err) {
      const code = errno(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this._readError(path, err);
        return;
      }
      this._unreadable.delete(path);
    }
    let previous: FileTailer | undefined;
    const t = this._byPath.get(path);
    if (t !== undefined) {
      if (t.mode === 'truncated') {
        this._byPath.delete(path);
      } else if (classifyPath(t.id, st) === 'same') {
        t.kick();
        return;
      } else {
        this._byPath.delete(path);
        await this._relocate(t, path, 0);
        previous = t;
      }
    }
    if (st === undefined || !st.isFile() || !this._discovery!.matches(path) || this._stopping) return;
    await this._attach(path, initial, previous);
  }

  /** Generation `t` left `oldPath`: follow it to its new included name, or drain it. */
  private async _relocate(t: FileTailer, oldPath: string, depth: number): Promise<void> {
    const ctx = this.ctx;
    const g = await locateGeneration(oldPath, dirname(oldPath), t.id);
    if (g !== undefined) await g.fh.close().catch(() => undefined);
    if (g === undefined) {
      ctx.telemetry.emit('file_deleted', { path: oldPath, stream: t.stream });
      t.drain();
      return;
    }
    ctx.telemetry.emit('file_rotated', { path: oldPath, to: g.path, stream: t.stream });
    if (g.path !== oldPath && this._discovery!.matches(g.path)) {
      // Renamed to another included name: the same stream goes on there.
      const other = this._byPath.get(g.path);
      this._follow(g.path, t);
      t.reattach(g.path);
      if (other !== undefined && other !== t && depth < MAX_RELOCATE_DEPTH) await this._relocate(other, g.path, depth + 1);
      else if (other !== undefined && other !== t) other.drain();
      return;
    }
    if (g.path === oldPath) {
      // It was back at its path by the time we looked (raced with another rename).
      this._follow(oldPath, t);
      t.kick();
      return;
    }
    // Not included under its new name: drain it. Its checkpoint keeps the old path; a restart
    // finds it again by inode in the same directory.
    t.drain();
  }

  /** Follow the file at `path`: the generation already followed, or a new stream. */
  private async _attach(path: string, initial: boolean, previous: FileTailer | undefined): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errno(err) !== 'ENOENT') this._readError(path, err);
      return;
    }
    let keep = false;
    try {
      const { id, size, head } = await identify(fh);
      if (this._stopping) return;
      for (const u of this._tailers) {
        if (!u.reading || !identityMatches(u.id, id.dev, id.ino, head)) continue;
        // Renamed into this path: the generation keeps its stream. (Attached elsewhere: a hard
        // link, followed at its first path only.)
        if (this._byPath.get(u.path) !== u) {
          this._follow(path, u);
          u.reattach(path);
        }
        this._unreadable.delete(path);
        return;
      }
      const offset = initial && this._startAtEnd ? size : 0;
      const t = this._newTailer(fh, path, id, newStreamId(), offset, false, defaultProgramOf(this._opts, path));
      keep = true;
      this._follow(path, t);
      this._unreadable.delete(path);
      // A rotated predecessor is read to its end first (bounded), so lines keep their order.
      t.start(previous === undefined ? undefined : bounded(previous.whenAtEnd(), STOP_WAIT_MS));
    } catch (err) {
      this._readError(path, err);
    } finally {
      if (!keep) await fh.close().catch(() => undefined);
    }
  }

  private _newTailer(
    fh: FileHandle,
    path: string,
    id: FileIdentity,
    stream: string,
    offset: number,
    persisted: boolean,
    program: string,
  ): FileTailer {
    const t = new FileTailer(fh, path, id, stream, offset, persisted, program, this._cfg!, this);
    this._tailers.add(t);
    this._dirty = true;
    this.ctx.telemetry.emit('file_opened', { path, stream, offset });
    return t;
  }

  private _readError(path: string, err: unknown): void {
    if (this._unreadable.has(path)) return;
    this._unreadable.add(path);
    this.ctx.telemetry.emit('file_read_error', { path, err });
  }
}

function defaultProgramOf(opts: FileSourceOptions, path: string): string {
  return opts.program ?? defaultProgram(path);
}
