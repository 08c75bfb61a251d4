// Open output files of the file destination: an LRU of append-mode handles, at most
// `maxOpen` kept between write cycles. Each use checks that the path still names the file we
// hold (logrotate may have moved it); if not, the old handle is closed and the path reopened.
// Only fs here: no journal, no batches.
//
//   _open (Map, insertion order = recency):  oldest ─► … ─► newest
//   get(path): hit → delete + set (now newest);  trim(): close from the oldest end

import { constants, statSync } from 'node:fs';
import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { syncDir, type FileMark } from './journal.js';

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

export class FileHandles {
  private readonly _open = new Map<string, OpenFile>();
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

  /** The handle for `path` and the file's current size, opening or creating it as needed. */
  async get(path: string, modes: FileModes): Promise<{ file: OpenFile; size: number }> {
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
    const fh = await openAppend(path, modes);
    try {
      const s = await fh.stat({ bigint: true });
      const file: OpenFile = { path, fh, id: idOf(s), dsync: modes.sync };
      this._open.set(path, file);
      return { file, size: Number(s.size) };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
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

/** Opens `path` for appending; creates it (and its directories, inside baseDir) with exact modes. */
async function openAppend(path: string, modes: FileModes): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_APPEND | (modes.sync ? constants.O_DSYNC : 0);
  try {
    return await open(path, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const dir = dirname(path);
  const created = await mkdir(dir, { recursive: true, mode: modes.dirMode });
  if (created !== undefined) await fixNewDirs(created, dir, modes);
  let fh: FileHandle;
  let isNew = true;
  try {
    fh = await open(path, flags | constants.O_CREAT | constants.O_EXCL, modes.fileMode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fh = await open(path, flags);
    isNew = false;
  }
  if (isNew) {
    try {
      await fh.chmod(modes.fileMode); // exact mode, whatever the umask
      if (modes.sync) await syncDir(dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }
  return fh;
}

/** chmods the directories mkdir created (first..dir) and fsyncs each parent entry. */
async function fixNewDirs(first: string, dir: string, modes: FileModes): Promise<void> {
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
    if (modes.sync) await syncDir(dirname(d));
  }
}
