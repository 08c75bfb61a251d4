// Crash recovery of the file destination: cut back the files of a cycle that began and never
// committed, so the batches the client resends are written exactly once. Only files the journal
// knows to be ours at that size are touched: a file that was replaced (other inode), deleted or
// shortened (logrotate, copytruncate) since is left as it is and treated as a new file.

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Telemetry } from '../../core/component.js';
import type { FileMark } from './journal.js';

export type Undo =
  | { readonly kind: 'cut'; readonly from: number }
  | { readonly kind: 'clean' }
  | { readonly kind: 'skipped'; readonly reason: 'missing' | 'replaced' | 'shorter' };

/**
 * Truncates `mark.p` back to `mark.size` when it is still the same file and longer.
 * Throws on an fs error (the caller decides: refuse to start, or retry later).
 */
export async function undoAppend(mark: FileMark, sync: boolean): Promise<Undo> {
  let s: { dev: bigint; ino: bigint; size: bigint };
  try {
    s = await stat(mark.p, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'skipped', reason: 'missing' };
    throw err;
  }
  if (`${s.dev}:${s.ino}` !== mark.id) return { kind: 'skipped', reason: 'replaced' };
  const size = Number(s.size);
  if (size < mark.size) return { kind: 'skipped', reason: 'shorter' };
  if (size === mark.size) return { kind: 'clean' };
  const fh = await open(mark.p, constants.O_WRONLY);
  try {
    await fh.truncate(mark.size);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  return { kind: 'cut', from: size };
}

/** Undoes every file of an uncommitted cycle found at start; reports each through telemetry. */
export async function recoverPending(files: readonly FileMark[], sync: boolean, telemetry: Telemetry): Promise<void> {
  for (const mark of files) {
    const r = await undoAppend(mark, sync);
    if (r.kind === 'cut') telemetry.emit('file_dest_recovered', { path: mark.p, size: r.from, committed_size: mark.size });
    else if (r.kind === 'skipped') telemetry.emit('file_dest_recovery_skipped', { path: mark.p, reason: r.reason, committed_size: mark.size });
  }
}
