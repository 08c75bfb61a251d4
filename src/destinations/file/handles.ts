// Open output files of the file destination: an LRU of append-mode handles, at most
// `maxOpen` kept between write cycles. Each use checks that the path still names the file we
// hold (logrotate may have moved it); if not, the old handle is closed and the path reopened.
// Only fs here: no journal, no batches.
//
//   _open (Map, insertion order = recency):  oldest ─► … ─► newest
//   get(path): hit → delete + set (now newest);  trim(): close from the oldest end
//
// Opening costs one thread-pool round trip, for a new file too (a stat on this thread picks
// open or create first; the new handle is fstat'd here); openAhead() starts it before the cycle
// that needs the file, and get() waits for an open in flight rather than opening twice.
// Directory entries are made durable by syncNewDirs(), which the writer runs alongside a syncing
// cycle's data writes, before its COMMIT: a file's entry must be durable before lines in it are
// acknowledged, not before they are written (a crash before the COMMIT undoes the cycle, and a
// file whose entry was lost is one the undo skips). Queued for it: the directory of each file
// created here and the parent of each directory created here; and, the first time a syncing route
// uses a file in a directory this process has not synced yet, that directory and its ancestors up
// to base_dir's parent (a file created before a restart, by another destination, or while fsync
// was off).

import { constants, fstatSync, statSync } from 'node:fs';
import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { syncDir } from '../../util/sync-dir.js';
import type { FileMark } from './journal.js';

export interface OpenFile {
  readonly path: string;
  readonly fh: FileHandle;
  /** "dev:ino" of the file this handle writes. */
  readonly id: string;
  /**
   * Opened O_DSYNC (the modes asked for sync): each write returns once its bytes are durable, as
   * write + fdatasync would, in one thread-pool round trip instead of two. A handle without it
   * that a syncing route writes to is fdatasync'd by the caller.
   */
  readonly dsync: boolean;
}

export interface FileModes {
  readonly dirMode: number;
  readonly fileMode: number;
  /** Writes are durable when they return (O_DSYNC), and created files' directories are fsync'd. */
  readonly sync: boolean;
}

const idOf = (s: { dev: bigint; ino: bigint }): string => `${s.dev}:${s.ino}`;

/** Directories remembered as synced; past it the set starts over (each is synced once more). */
const DURABLE_DIRS_KEPT = 10_000;

/** syncNewDirs() could not make `dir`'s new entries durable; `cause` is the fs error. */
export class DirSyncError extends Error {
  readonly dir: string;
  constructor(dir: string, cause: unknown) {
    super(`fsync of the directory ${dir} failed`, { cause });
    this.dir = dir;
  }
}

export class FileHandles {
  private readonly _open = new Map<string, OpenFile>();
  /** Opens in flight (see _openFile). */
  private readonly _opening = new Map<string, Promise<unknown>>();
  /** Directories to fsync before the next syncing COMMIT (see the head of this file). */
  private readonly _unsynced = new Set<string>();
  /** Directories this process fsync'd: their entries of that time are durable. Bounded (DURABLE_DIRS_KEPT). */
  private readonly _durable = new Set<string>();
  private _maxOpen: number;

  constructor(maxOpen: number) {
    this._maxOpen = maxOpen;
  }

  set maxOpen(n: number) {
    this._maxOpen = n;
  }

  get size(): number {
    return this._open.size;
  }

  /**
   * The handle for `path` (inside `root`, the route's base_dir) and the file's current size,
   * opening or creating it as needed. For a syncing route, the directories its entry depends on
   * that are not known durable are left to syncNewDirs().
   */
  async get(path: string, modes: FileModes, root: string): Promise<{ file: OpenFile; size: number }> {
    if (modes.sync) this._queueUnsynced(dirname(path), dirname(root));
    const ahead = this._opening.get(path);
    if (ahead !== undefined) await ahead.catch(() => undefined); // opened ahead: its handle is in _open (or it failed)
    const cached = this._open.get(path);
    if (cached !== undefined) {
      const size = heldSize(path, cached);
      this._open.delete(path);
      if (size !== undefined) {
        this._open.set(path, cached);
        return { file: cached, size };
      }
      // Moved or deleted under us (rotation), or not statable now: what we hold may no longer be this path.
      await cached.fh.close().catch(() => undefined);
    }
    return this._openFile(path, modes);
  }

  /**
   * Starts opening (or creating) `path` now, when it is not open here, so that the write cycle
   * that needs it finds it open: the writer calls it for the batches queued while a cycle runs.
   * Failures are left to get(), which opens again and reports. Creating a file early is harmless:
   * a crash leaves it empty, and its directory entry is synced before lines in it are acknowledged.
   */
  openAhead(path: string, modes: FileModes): void {
    if (this._open.has(path) || this._opening.has(path)) return;
    this._openFile(path, modes).catch(() => undefined);
  }

  /**
   * Opens `path` into _open, and its size then; one open at a time per path (get and openAhead
   * share it).
   */
  private _openFile(path: string, modes: FileModes): Promise<{ file: OpenFile; size: number }> {
    const p = (async (): Promise<{ file: OpenFile; size: number }> => {
      const { fh, created } = await this._openAppend(path, modes);
      try {
        // On this thread, as heldSize: microseconds for an inode just opened, against a round trip.
        const s = fstatSync(fh.fd, { bigint: true });
        if (created && (Number(s.mode) & 0o7777) !== modes.fileMode) await fh.chmod(modes.fileMode); // the umask took bits
        const file: OpenFile = { path, fh, id: idOf(s), dsync: modes.sync };
        this._open.set(path, file);
        return { file, size: Number(s.size) };
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
    })();
    this._opening.set(path, p);
    void p.then(
      () => this._opening.delete(path),
      () => this._opening.delete(path),
    );
    return p;
  }

  /**
   * Makes the queued directories' entries durable: one fsync per directory, all at once. `before`
   * runs before each (a test seam; a throw is that sync failing). A directory that is gone
   * (ENOENT, ENOTDIR) has no entry left to make durable: it is dropped. One that fails otherwise
   * stays queued for the next call; the first failure is thrown (a DirSyncError) once all are tried.
   */
  async syncNewDirs(before?: (dir: string) => void | Promise<void>): Promise<void> {
    if (this._unsynced.size === 0) return;
    const dirs = [...this._unsynced];
    this._unsynced.clear();
    const done = await Promise.allSettled(
      dirs.map(async (d) => {
        await before?.(d);
        await syncDir(d);
      }),
    );
    let first: DirSyncError | undefined;
    for (let i = 0; i < dirs.length; i++) {
      const r = done[i]!;
      const d = dirs[i]!;
      if (r.status === 'fulfilled') {
        if (this._durable.size >= DURABLE_DIRS_KEPT) this._durable.clear(); // synced once more when used again
        this._durable.add(d);
        continue;
      }
      const code = (r.reason as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      this._unsynced.add(d);
      first ??= new DirSyncError(d, r.reason);
    }
    if (first !== undefined) throw first;
  }

  /** Queues `dir` and its ancestors up to `stop` that this process has not synced. */
  private _queueUnsynced(dir: string, stop: string): void {
    for (let d = dir; ; d = dirname(d)) {
      if (!this._durable.has(d)) this._unsynced.add(d);
      if (d === stop || d === dirname(d)) return;
    }
  }

  /**
   * Opens `path` for appending, creating it (and its directories) with exact modes when missing.
   * A path that exists is opened first; one that does not is created first (O_EXCL: a file that
   * appears meanwhile is opened instead, not re-created).
   */
  private async _openAppend(path: string, modes: FileModes): Promise<{ fh: FileHandle; created: boolean }> {
    const flags = constants.O_WRONLY | constants.O_APPEND | (modes.sync ? constants.O_DSYNC : 0);
    if (exists(path)) {
      try {
        return { fh: await open(path, flags), created: false };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const dir = dirname(path);
    let fh = await createOrOpen(path, flags, modes.fileMode, false);
    if (fh === undefined) {
      const made = await mkdir(dir, { recursive: true, mode: modes.dirMode });
      if (made !== undefined) await this._fixNewDirs(made, dir, modes);
      fh = (await createOrOpen(path, flags, modes.fileMode, true))!;
    }
    if (fh.created && modes.sync) this._unsynced.add(dir);
    return fh;
  }

  /** chmods the directories mkdir created (first..dir); their parents' entries go to syncNewDirs(). */
  private async _fixNewDirs(first: string, dir: string, modes: FileModes): Promise<void> {
    const rel = relative(first, dir);
    const chain = [first];
    if (rel !== '') {
      let cur = first;
      for (const part of rel.split(sep)) {
        cur = `${cur}${sep}${part}`;
        chain.push(cur);
      }
    }
    for (const d of chain) {
      await chmod(d, modes.dirMode);
      if (modes.sync) this._unsynced.add(dirname(d));
    }
  }

  /**
   * The mark of a path held open here, now (one stat; the recency order is left as it is), or
   * undefined when it is not open here, no longer names the file held, or cannot be statted (a
   * directory on the way replaced by a file: ENOTDIR; EACCES, ELOOP…). Never throws.
   */
  markOf(path: string): FileMark | undefined {
    const cached = this._open.get(path);
    if (cached === undefined) return undefined;
    const size = heldSize(path, cached);
    return size === undefined ? undefined : { p: path, id: cached.id, size };
  }

  /** Forgets and closes one path (after an error left its handle in doubt). */
  async drop(path: string): Promise<void> {
    const f = this._open.get(path);
    if (f === undefined) return;
    this._open.delete(path);
    await f.fh.close().catch(() => undefined);
  }

  /** Closes the least recently used handles beyond maxOpen. */
  async trim(): Promise<void> {
    while (this._open.size > this._maxOpen) {
      const [path, f] = this._open.entries().next().value as [string, OpenFile];
      this._open.delete(path);
      await f.fh.close().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this._opening.values()]);
    const all = [...this._open.values()];
    this._open.clear();
    await Promise.all(all.map((f) => f.fh.close().catch(() => undefined)));
  }
}

/**
 * The size of the file `f` holds when `path` still names it, else undefined (moved, deleted, or
 * not statable: ENOTDIR, EACCES, ELOOP…). Never throws. Synchronous on purpose: a stat of a local
 * path takes microseconds, while the promise API costs a thread-pool round trip per file per write
 * cycle (50 files: 50 of them).
 */
function heldSize(path: string, f: OpenFile): number | undefined {
  try {
    const now = statSync(path, { bigint: true, throwIfNoEntry: false });
    return now !== undefined && idOf(now) === f.id ? Number(now.size) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `path` names something now (a stat on this thread; an error counts as missing). */
function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Creates `path` (O_EXCL) or, when it exists by now, opens it. Its directory missing (ENOENT):
 * undefined, or the error when `mustExist`.
 */
async function createOrOpen(path: string, flags: number, mode: number, mustExist: boolean): Promise<{ fh: FileHandle; created: boolean } | undefined> {
  try {
    return { fh: await open(path, flags | constants.O_CREAT | constants.O_EXCL, mode), created: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !mustExist) return undefined;
    if (code !== 'EEXIST') throw err;
  }
  return { fh: await open(path, flags), created: false };
}
