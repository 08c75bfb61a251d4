// Finding a file generation again after it left its path: rotated by rename (app.log → app.log.1),
// also while logship was down. Looks in the directory the generation was last seen in, by
// dev + inode, and confirms with the fingerprint. Opens files read-only; decides nothing.

import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { readHead, fingerprintMatches, type FileIdentity } from './identity.js';

export interface OpenedGeneration {
  readonly path: string;
  readonly fh: FileHandle;
  readonly size: number;
}

/** What a path holds now, compared with the generation the source follows there. */
export type PathState = 'same' | 'replaced' | 'gone';

export function classifyPath(id: Pick<FileIdentity, 'dev' | 'ino'>, st: Pick<BigIntStats, 'dev' | 'ino'> | undefined): PathState {
  if (st === undefined) return 'gone';
  return st.dev.toString() === id.dev && st.ino.toString() === id.ino ? 'same' : 'replaced';
}

/** Open `path` if it holds generation `id` (same inode, fingerprinted bytes unchanged). The caller closes it. */
export async function openGeneration(path: string, id: FileIdentity): Promise<OpenedGeneration | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat({ bigint: true });
    if (st.isFile() && classifyPath(id, st) === 'same' && fingerprintMatches(id, await readHead(fh))) {
      return { path, fh, size: Number(st.size) };
    }
  } catch {
    // unreadable: not found
  }
  await fh.close().catch(() => undefined);
  return undefined;
}

/**
 * Locate generation `id`: at `path` first, else anywhere in `path`'s directory (symlinks skipped).
 * Undefined when it is gone (deleted, or moved to another directory).
 */
export async function locateGeneration(path: string, dir: string, id: FileIdentity): Promise<OpenedGeneration | undefined> {
  const st = await stat(path, { bigint: true }).catch(() => undefined);
  if (st !== undefined && classifyPath(id, st) === 'same') {
    const g = await openGeneration(path, id);
    if (g !== undefined) return g;
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (p === path) continue;
    const s = await lstat(p, { bigint: true }).catch(() => undefined);
    if (s === undefined || !s.isFile() || classifyPath(id, s) !== 'same') continue;
    const g = await openGeneration(p, id);
    if (g !== undefined) return g;
  }
  return undefined;
}
