// The spool's read cursor on disk: the position (segment, byte offset) before which every batch
// has settled. Written to a temp name and renamed over the old one, so a crash leaves the old or
// the new cursor. A cursor that lags only makes the spool send some batches again, which the
// server drops by offset; a missing or unreadable one means "from the oldest segment".
//
//   <dir>/cursor.json   {"v":1,"segment":7,"offset":81234,"dropped_records":0}
//
// dropped_records is the spool's cumulative count of records dropped by drop-oldest: it lives here
// so that the count survives restarts (it is written right after each drop).

import { open, readFile, rename } from 'node:fs/promises';

export interface SpoolPos {
  /** Segment sequence number. */
  readonly seq: number;
  /** Byte offset in that segment of the first batch not yet settled. */
  readonly offset: number;
}

export const CURSOR_FILE = 'cursor.json';

export type CursorRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly pos: SpoolPos; readonly droppedRecords: number }
  | { readonly kind: 'bad'; readonly reason: string };

export async function readCursor(file: string): Promise<CursorRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'bad', reason: (err as Error).message };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'bad', reason: 'not JSON' };
  }
  const o = v as { v?: unknown; segment?: unknown; offset?: unknown; dropped_records?: unknown } | null;
  if (o === null || typeof o !== 'object' || o.v !== 1 || !Number.isSafeInteger(o.segment) || !Number.isSafeInteger(o.offset)) {
    return { kind: 'bad', reason: 'not a version 1 cursor' };
  }
  const seq = o.segment as number;
  const offset = o.offset as number;
  if (seq < 0 || offset < 0) return { kind: 'bad', reason: 'negative position' };
  const dropped = Number.isSafeInteger(o.dropped_records) && (o.dropped_records as number) >= 0 ? (o.dropped_records as number) : 0;
  return { kind: 'ok', pos: { seq, offset }, droppedRecords: dropped };
}

/** Writes the cursor atomically (temp file, optional fdatasync, rename). */
export async function writeCursor(file: string, pos: SpoolPos, droppedRecords: number, sync: boolean): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify({ v: 1, segment: pos.seq, offset: pos.offset, dropped_records: droppedRecords })}\n`);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
