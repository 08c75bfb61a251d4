// Change notifications for the directories that hold followed files: one fs.watch (inotify) per
// directory, reporting every event at once. chokidar (discovery.ts) reports changes too, but drops
// those that follow another within 5 ms (its throttle), so the last write of a burst could wait
// for the idle safety poll; these are never throttled. Reports paths only; decides nothing.
//
//   'change'  bytes of the entry changed (IN_MODIFY): read it
//   'rename'  the entry was created, deleted or moved in or out (rotation): re-check the path
//   undefined filename: something changed in the directory (overflow): re-check all of it

import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface DirNotifyHandlers {
  /** `path` is undefined when the kernel did not say which entry changed. Never throws. */
  event(kind: 'change' | 'rename', dir: string, path: string | undefined): void;
  error(err: unknown): void;
}

export class DirNotify {
  private readonly _handlers: DirNotifyHandlers;
  private readonly _watchers: Map<string, FSWatcher>;
  /** Inode of each watched directory when its watch started. */
  private readonly _inodes: Map<string, number>;
  private _closed: boolean;

  constructor(handlers: DirNotifyHandlers) {
    this._handlers = handlers;
    this._watchers = new Map();
    this._inodes = new Map();
    this._closed = false;
  }

  /** Directories watched now. */
  get size(): number {
    return this._watchers.size;
  }

  /** Watch `dir` unless it already is; false when it cannot be watched (the safety poll covers it). */
  watch(dir: string): boolean {
    if (this._closed) return false;
    if (this._watchers.has(dir)) return true;
    let w: FSWatcher;
    try {
      this._inodes.set(dir, statSync(dir).ino);
      w = watch(dir, { persistent: false }, (kind, name) => this._event(dir, w, kind, name));
    } catch (err) {
      this._inodes.delete(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this._handlers.error(err);
      return false;
    }
    w.on('error', (err: unknown) => {
      this._forget(dir, w);
      this._handlers.error(err);
    });
    this._watchers.set(dir, w);
    return true;
  }

  close(): void {
    this._closed = true;
    for (const w of this._watchers.values()) w.close();
    this._watchers.clear();
    this._inodes.clear();
  }

  private _event(dir: string, w: FSWatcher, kind: string, name: string | Buffer | null): void {
    if (this._closed || this._watchers.get(dir) !== w) return;
    const k = kind === 'change' ? 'change' : 'rename';
    if (name === null) {
      this._handlers.event(k, dir, undefined);
      return;
    }
    const entry = typeof name === 'string' ? name : name.toString();
    // Maybe the directory itself was deleted or moved (or else an entry of the same name): then its
    // watch is dead. Forget it, so that the next file followed there watches the directory anew.
    if (k === 'rename' && entry === basename(dir)) {
      void stat(dir).then(
        (st) => {
          if (st.ino !== this._inodes.get(dir)) this._forget(dir, w);
        },
        () => this._forget(dir, w),
      );
    }
    this._handlers.event(k, dir, join(dir, entry));
  }

  private _forget(dir: string, w: FSWatcher): void {
    if (this._watchers.get(dir) !== w) return;
    this._watchers.delete(dir);
    this._inodes.delete(dir);
    w.close();
  }
}
