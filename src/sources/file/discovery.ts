// Discovery of the files to tail: include/exclude globs (picomatch) over chokidar@4 watchers of the
// patterns' static parent directories. Reports paths only; opening, identity and offsets live in
// the source and the tailers. A missing directory is not an error: chokidar@4 does not notice it
// being created, so poll() checks for it and starts its watcher when it appears (or re-appears).

import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';

export interface DiscoveryHandlers {
  /** A matching path was added, changed or removed: the source re-checks it. Never throws. */
  file(path: string, event: 'add' | 'change' | 'unlink'): void;
  error(err: unknown): void;
}

interface Root {
  readonly dir: string;
  /** Directory levels below `dir` that can hold matches; undefined = any (globstar). */
  depth: number | undefined;
}

interface Watched {
  readonly root: Root;
  watcher: FSWatcher | undefined;
}

/** The static parent directory of a pattern and how deep below it a match can be. */
export function patternRoot(absPattern: string): Root {
  const s = picomatch.scan(absPattern);
  if (!s.isGlob) return { dir: dirname(absPattern), depth: 0 };
  const dir = s.base === '' ? sep : s.base;
  const depth = s.glob.includes('**') ? undefined : s.glob.split('/').length - 1;
  return { dir, depth };
}

export class Discovery {
  /** Whether a path is included and not excluded. */
  readonly matches: (path: string) => boolean;
  private readonly _roots: Root[];
  private readonly _handlers: DiscoveryHandlers;
  private readonly _watched: Watched[];
  private _closed: boolean;
  private _polling: Promise<void> | undefined;
  private readonly _closedSignal: Promise<void>;
  private _signalClosed: () => void;

  constructor(include: readonly string[], exclude: readonly string[], cwd: string, handlers: DiscoveryHandlers) {
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
    const inc = picomatch(include.map(abs));
    const exc = exclude.length > 0 ? picomatch(exclude.map(abs)) : () => false;
    this.matches = (path) => inc(path) && !exc(path);
    const byDir = new Map<string, Root>();
    for (const p of include) {
      const r = patternRoot(abs(p));
      const prev = byDir.get(r.dir);
      if (prev === undefined) byDir.set(r.dir, r);
      else if (prev.depth !== undefined) prev.depth = r.depth === undefined ? undefined : Math.max(prev.depth, r.depth);
    }
    this._roots = [...byDir.values()];
    this._handlers = handlers;
    this._watched = this._roots.map((root) => ({ root, watcher: undefined }));
    this._closed = false;
    this._polling = undefined;
    let signal!: () => void;
    this._closedSignal = new Promise<void>((r) => {
      signal = r;
    });
    this._signalClosed = signal;
  }

  /** Start watching; resolves once every existing root has reported its files. */
  async start(): Promise<void> {
    await this.poll();
  }

  /** Start the watchers of roots that exist now, drop those of roots that disappeared. */
  poll(): Promise<void> {
    if (this._polling === undefined) {
      this._polling = this._poll().finally(() => {
        this._polling = undefined;
      });
    }
    return this._polling;
  }

  private async _poll(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (const w of this._watched) {
      const exists = await stat(w.root.dir).then(
        (st) => st.isDirectory(),
        () => false,
      );
      if (this._closed) return;
      if (exists && w.watcher === undefined) {
        const { watcher, ready: r } = this._watch(w.root);
        w.watcher = watcher;
        ready.push(r);
      } else if (!exists && w.watcher !== undefined) {
        const old = w.watcher;
        w.watcher = undefined;
        await old.close();
      }
    }
    await Promise.race([Promise.all(ready), this._closedSignal]);
  }

  async close(): Promise<void> {
    this._closed = true;
    this._signalClosed();
    const ws: FSWatcher[] = [];
    for (const w of this._watched) {
      if (w.watcher !== undefined) ws.push(w.watcher);
      w.watcher = undefined;
    }
    await Promise.all(ws.map((w) => w.close()));
  }

  private _watch(root: Root): { watcher: FSWatcher; ready: Promise<void> } {
    const w = watch(root.dir, {
      persistent: true,
      ignoreInitial: false,
      atomic: false,
      awaitWriteFinish: false,
      followSymlinks: true,
      ...(root.depth === undefined ? {} : { depth: root.depth }),
      ignored: (p: string, stats?: Stats) => this._ignored(p, stats),
    });
    const report = (event: 'add' | 'change' | 'unlink') => (path: string) => {
      if (this.matches(path)) this._handlers.file(path, event);
    };
    w.on('add', report('add'));
    w.on('change', report('change'));
    w.on('unlink', report('unlink'));
    w.on('error', (err: unknown) => this._handlers.error(err));
    return { watcher: w, ready: new Promise<void>((r) => w.once('ready', () => r())) };
  }

  /** Whether a directory can hold a match. */
  private _mayContain(dir: string): boolean {
    for (const root of this._roots) {
      const rel = relative(root.dir, dir);
      if (rel === '') return true;
      if (rel.startsWith('..') || isAbsolute(rel)) continue;
      if (root.depth === undefined || rel.split(sep).length <= root.depth) return true;
    }
    return false;
  }

  private _ignored(path: string, stats: Stats | undefined): boolean {
    if (stats === undefined) return !(this.matches(path) || this._mayContain(path));
    if (stats.isDirectory()) return !this._mayContain(path);
    return !this.matches(path);
  }
}
