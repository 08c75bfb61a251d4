// Opening a spool directory after a clean stop or a crash: list the segments, read the cursor,
// delete the segments it has passed, and scan the rest record by record. A torn or corrupt record
// ends its segment: the file is cut there (nothing before it is lost). Only startup I/O here.
//
//   before:  000…05.seg (cursor passed it)  000…06.seg  000…07.seg | torn tail |
//   after:                                  000…06.seg  000…07.seg
//            reader starts at the cursor in 06; the writer opens 000…08.seg on its first append

import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Telemetry } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import { CURSOR_FILE, readCursor, type SpoolPos } from './cursor.js';
import { batchRecordCount, parseSegmentName, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, SegmentReader } from './format.js';
import { SegmentSet } from './segments.js';

const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

export interface Recovered {
  readonly segments: SegmentSet;
  /** Where the reader starts. */
  readonly start: SpoolPos;
  /** The cursor as found on disk (null: none, or unusable). */
  readonly persisted: SpoolPos | null;
  /** Sequence number of the next segment the writer creates. */
  readonly nextSeq: number;
  /** Cumulative records dropped by drop-oldest (from the cursor file). */
  readonly droppedRecords: number;
  /** Batches and records from the start position on. */
  readonly backlogBatches: number;
  readonly backlogRecords: number;
  /** Torn tails cut. */
  readonly cuts: number;
}

export async function recoverSpool(dir: string, telemetry: Telemetry): Promise<Recovered> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new LogshipError('LS_STARTUP', `cannot create the spool directory ${dir}; check node.state_dir and its permissions`, { cause: err });
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new LogshipError('LS_STARTUP', `cannot list the spool directory ${dir}; check its permissions`, { cause: err });
  }
  const seqs = names
    .map(parseSegmentName)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => a - b);
  await unlink(join(dir, `${CURSOR_FILE}.tmp`)).catch(() => undefined);

  const cur = await readCursor(join(dir, CURSOR_FILE));
  let cursor: SpoolPos | null = cur.kind === 'ok' ? cur.pos : null;
  const droppedRecords = cur.kind === 'ok' ? cur.droppedRecords : 0;
  if (cur.kind === 'bad') telemetry.emit('spool_cursor_reset', { dir, reason: cur.reason });

  const segments = new SegmentSet(dir);
  let cuts = 0;
  let cursorValid = cursor !== null;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const path = segments.pathOf(seq);
    const last = i === seqs.length - 1;
    if (cursor !== null && seq < cursor.seq) {
      // Wholly consumed before the stop; deleting it was still to come.
      await unlink(path).catch(() => undefined);
      continue;
    }
    const scan = await scanSegment(path, cursor !== null && seq === cursor.seq);
    if (scan.kind === 'foreign') {
      throw new LogshipError(
        'LS_STATE_CORRUPT',
        `${path} is not a logship spool segment (or one of another version); move it out of the spool directory ${dir} and start again`,
      );
    }
    if (scan.kind === 'headless') {
      // Created by a crash before its header was written: it holds nothing.
      await unlink(path).catch(() => undefined);
      if (!last) telemetry.emit('spool_corrupt', { segment: seq, reason: 'segment without header', lost_bytes: scan.size });
      else if (scan.size > 0) telemetry.emit('spool_recovered', { segment: seq, cut_bytes: scan.size, reason: 'segment without header' });
      cuts++;
      continue;
    }
    if (scan.cut !== null) {
      cuts++;
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.end);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      // The last segment's tail was being written when the process died: those batches were never
      // acknowledged. A cut anywhere else lost acknowledged batches (disk trouble, or fsync: false
      // and a host crash).
      const fields = { segment: seq, offset: scan.end, cut_bytes: scan.size - scan.end, reason: scan.cut };
      if (last) telemetry.emit('spool_recovered', fields);
      else telemetry.emit('spool_corrupt', { ...fields, lost_bytes: scan.size - scan.end });
    }
    if (cursor !== null && seq === cursor.seq && cursor.offset !== scan.end && !scan.starts.has(cursor.offset)) {
      telemetry.emit('spool_cursor_reset', { dir, reason: `cursor offset ${cursor.offset} is not a record boundary of segment ${seq}`, segment: seq });
      cursor = { seq, offset: SEGMENT_HEADER_BYTES };
      cursorValid = false;
    }
    segments.add(seq, scan.end, scan.records, scan.batches, true);
  }

  const first = segments.all[0];
  let start: SpoolPos;
  if (cursor !== null && first !== undefined && first.seq === cursor.seq) start = cursor;
  else if (first !== undefined) start = { seq: first.seq, offset: SEGMENT_HEADER_BYTES };
  else start = cursor ?? { seq: 1, offset: SEGMENT_HEADER_BYTES };
  const lastSeq = Math.max(segments.last?.seq ?? 0, cursor?.seq ?? 0);

  let backlogBatches = 0;
  let backlogRecords = 0;
  for (const s of segments.all) {
    backlogBatches += s.batches;
    backlogRecords += s.records;
  }
  if (first !== undefined && start.seq === first.seq && start.offset > SEGMENT_HEADER_BYTES) {
    // Records of the start segment before the cursor are consumed.
    const before = await countBefore(first.path, start.offset);
    backlogBatches -= before.batches;
    backlogRecords -= before.records;
  }
  return {
    segments,
    start,
    persisted: cursorValid ? cursor : null,
    nextSeq: lastSeq + 1,
    droppedRecords,
    backlogBatches,
    backlogRecords,
    cuts,
  };
}

type Scan =
  | { readonly kind: 'foreign' }
  | { readonly kind: 'headless'; readonly size: number }
  | {
      readonly kind: 'ok';
      readonly size: number;
      /** End of the last valid record (the file is cut here when `cut` is set). */
      readonly end: number;
      readonly cut: string | null;
      readonly batches: number;
      readonly records: number;
      /** Start offsets of the records when asked for (a cursor must point at one, or at the end). */
      readonly starts: Set<number>;
    };

async function scanSegment(path: string, keepStarts: boolean): Promise<Scan> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < SEGMENT_HEADER_BYTES) return { kind: 'headless', size };
    const head = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await fh.read(head, 0, SEGMENT_HEADER_BYTES, 0);
    if (!head.equals(SEGMENT_MAGIC)) return head.every((b) => b === 0) ? { kind: 'headless', size } : { kind: 'foreign' };
    const reader = new SegmentReader(fh, SEGMENT_HEADER_BYTES, size, SCAN_CHUNK_BYTES);
    const starts = new Set<number>();
    let batches = 0;
    let records = 0;
    for (;;) {
      const r = await reader.next();
      if (r.kind === 'end') return { kind: 'ok', size, end: size, cut: null, batches, records, starts };
      if (r.kind === 'corrupt') return { kind: 'ok', size, end: r.at, cut: r.reason, batches, records, starts };
      if (keepStarts) starts.add(r.start);
      batches++;
      records += Math.max(0, batchRecordCount(r.payload));
    }
  } finally {
    await fh.close();
  }
}

async function countBefore(path: string, offset: number): Promise<{ batches: number; records: number }> {
  const fh = await open(path, 'r');
  try {
    const reader = new SegmentReader(fh, SEGMENT_HEADER_BYTES, offset, SCAN_CHUNK_BYTES);
    let batches = 0;
    let records = 0;
    for (;;) {
      const r = await reader.next();
      if (r.kind !== 'record') return { batches, records };
      batches++;
      records += Math.max(0, batchRecordCount(r.payload));
    }
  } finally {
    await fh.close();
  }
}
