// The file destination's journal: an append-only log of write cycles, so a crash between
// "data appended" and "cycle committed" can be undone on restart, and the per-stream high
// water marks (hw) survive restarts. Knows nothing of batches or templates.
//
//   record:  | len u32 LE | crc32(payload) u32 LE | payload: JSON, len bytes |
//
//   SNAP   {t:'snap', v:1, seq, parts, streams:[[key, hw, lastMs, holes?]…]}   first record; written by compact()
//   MARKS  {t:'marks', seq, streams:[[key, hw, lastMs, holes?]…]}   parts 2..n of the snapshot, right after it
//   BEGIN  {t:'begin', seq, files:[{p, id, size}…]}    before data: every file and its size before
//   COMMIT {t:'commit', seq, files:[{p, id, size}…], streams:[[key, hw, holes?]…], ms, next?:1}   after data + fsync
//          (files and streams empty: a cycle that wrote nothing, or was rolled back, is retired)
//
//   holes: [start0, end0, start1, end1, …] ascending, all below hw: ranges of the stream that were
//   skipped (written past after waiting for them) and will still be written when they arrive. In a
//   COMMIT, an entry with holes replaces the stream's holes ([] clears them); one without keeps them.
//
//   journal: | SNAP | MARKS … | BEGIN | COMMIT | BEGIN | COMMIT | … | (torn tail) |
//            └─ one snapshot, ─┘
//               ≤ SNAP_PART_BYTES a record
//
//   next: the COMMIT is also the BEGIN of cycle seq+1 (written when batches were already queued for
//   it): its files are that cycle's files and sizes before: the files cycle seq wrote, at their sizes
//   after, and the files of the batches queued for seq+1, at their sizes when the COMMIT is written
//   (without next, files are cycle seq's at their sizes after). Under load a cycle then costs two
//   syncs (data, COMMIT) instead of three. A cycle that writes to any other file (two
//   paths naming one file count as one), or to a file whose size or identity changed, or follows a
//   failed one, or syncs when the declaring COMMIT was not synced, writes its own BEGIN. A declared
//   cycle that writes nothing (only duplicates) or fails is retired by an empty COMMIT, as is a
//   failed cycle once rolled back: no cycle stays pending while the writer waits for work, so a
//   restart never cuts what another writer appended to those files since. What another writer
//   appends to a declared file while cycle seq+1 runs (one it writes, or one it ends up not
//   writing: its batch was a duplicate or failed) is cut by a restart in that window, as it would
//   be after a BEGIN.
//
// Replay: SNAP resets the state, its MARKS add to it, BEGIN (or a COMMIT with next) makes a cycle
// pending, COMMIT applies the hw and clears the pending cycle. A later BEGIN supersedes a pending
// one: a cycle that failed at run time was rolled back before the next BEGIN is ever written.
// Only the LAST record may be bad (a crash mid-append: it runs past the end of the file, fails its
// checksum, or the file ends in zeros); it is a torn tail, ignored, and compaction rewrites the
// file. A bad record anywhere else, an over-size record or a snapshot missing parts is
// LS_STATE_CORRUPT: forgetting the marks silently would write every resent line twice.

import { constants } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LogshipError } from '../../core/errors.js';
import { crc32 } from '../../util/crc32.js';
import { syncDir } from '../../util/sync-dir.js';

/** A data file as the journal knows it: path, identity ("dev:ino") and size. */
export interface FileMark {
  readonly p: string;
  readonly id: string;
  readonly size: number;
}

export interface StreamMark {
  hw: number;
  lastMs: number;
  /** Skipped ranges below hw, as flat ascending [start, end) pairs; absent when none. */
  holes?: readonly number[];
}

export type SnapEntry = readonly [key: string, hw: number, lastMs: number] | readonly [key: string, hw: number, lastMs: number, holes: readonly number[]];
export type CommitEntry = readonly [key: string, hw: number] | readonly [key: string, hw: number, holes: readonly number[]];

export type JournalRecord =
  | { readonly t: 'snap'; readonly v: 1; readonly seq: number; readonly parts?: number; readonly streams: readonly SnapEntry[] }
  | { readonly t: 'marks'; readonly seq: number; readonly streams: readonly SnapEntry[] }
  | { readonly t: 'begin'; readonly seq: number; readonly files: readonly FileMark[] }
  | {
      readonly t: 'commit';
      readonly seq: number;
      readonly files: readonly FileMark[];
      readonly streams: readonly CommitEntry[];
      readonly ms: number;
      readonly next?: 1;
    };

export interface Replay {
  seq: number;
  readonly streams: Map<string, StreamMark>;
  /** The last cycle that began and never committed: its files must be cut back. */
  pending: { readonly seq: number; readonly files: readonly FileMark[] } | undefined;
  /** Where and why replay stopped early (a torn or corrupt record), if it did. */
  torn: { readonly offset: number; readonly reason: string } | undefined;
  /** Records replayed. */
  records: number;
}

/**
 * What an append left in the journal file:
 * - synced: the record is written (and fdatasync'd when asked);
 * - written: the record may have reached the file whole but was not made durable (its fdatasync
 *   failed, or a write through the O_DSYNC handle failed after it was issued): a restart may or
 *   may not replay it, so the caller must act as if it will (never undo what it describes);
 * - failed: the record was not (wholly) written: at most a torn tail, which replay ignores.
 * After written or failed the journal is broken until the next compact().
 */
export type AppendResult =
  | { readonly kind: 'synced' }
  | { readonly kind: 'written'; readonly error: unknown }
  | { readonly kind: 'failed'; readonly error: unknown };

const SYNCED: AppendResult = { kind: 'synced' };

const HEADER = 8;
/** A record larger than this is corrupt: none is ever written this large. */
export const MAX_RECORD = 256 * 1024 * 1024;
/** A snapshot is split into records of about this many bytes (well below MAX_RECORD). */
export const SNAP_PART_BYTES = 1024 * 1024;

export function encodeRecord(rec: JournalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(rec), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isMark = (v: unknown): v is FileMark =>
  typeof v === 'object' && v !== null && typeof (v as FileMark).p === 'string' && typeof (v as FileMark).id === 'string' && isNum((v as FileMark).size);

const isHoles = (v: unknown): boolean => Array.isArray(v) && v.length % 2 === 0 && v.every(isNum);

function checkRecord(v: unknown): JournalRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (!isNum(r.seq)) return undefined;
  const isEntry = (s: unknown): boolean => Array.isArray(s) && typeof s[0] === 'string' && isNum(s[1]) && isNum(s[2]) && (s.length === 3 || isHoles(s[3]));
  if (r.t === 'snap') {
    if (r.v !== 1 || !Array.isArray(r.streams)) return undefined;
    if (r.parts !== undefined && !(Number.isInteger(r.parts) && (r.parts as number) >= 1)) return undefined;
    return r.streams.every(isEntry) ? (r as JournalRecord) : undefined;
  }
  if (r.t === 'marks') return Array.isArray(r.streams) && r.streams.every(isEntry) ? (r as JournalRecord) : undefined;
  if (r.t === 'begin') return Array.isArray(r.files) && r.files.every(isMark) ? (r as JournalRecord) : undefined;
  if (r.t === 'commit') {
    if (!Array.isArray(r.files) || !r.files.every(isMark) || !Array.isArray(r.streams) || !isNum(r.ms)) return undefined;
    if (r.next !== undefined && r.next !== 1) return undefined;
    const ok = r.streams.every((s: unknown) => Array.isArray(s) && typeof s[0] === 'string' && isNum(s[1]) && (s.length === 2 || isHoles(s[2])));
    return ok ? (r as JournalRecord) : undefined;
  }
  return undefined;
}

/** True when every byte from `off` to the end is zero (a file extended but never written). */
function zeroTail(buf: Buffer, off: number): boolean {
  for (let i = off; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Replays journal bytes. Stops at a torn last record (reported in `torn`). Throws
 * LS_STATE_CORRUPT for a bad record that is not the last one, an over-size record, a snapshot
 * missing parts, or a record whose checksum holds but whose content is not a journal record (that
 * is another program's file or another version): guessing would lose or duplicate data.
 */
export function replay(buf: Buffer, file: string): Replay {
  const out: Replay = { seq: 0, streams: new Map(), pending: undefined, torn: undefined, records: 0 };
  const corrupt = (off: number, what: string): LogshipError =>
    new LogshipError(
      'LS_STATE_CORRUPT',
      `file destination journal ${file}: ${what} at byte ${off}; ` +
        'move the file aside to start afresh (lines already written may then be written again)',
    );
  /** Parts of the last snapshot still to come (MARKS records). */
  let snapLeft = 0;
  let snapSeq = 0;
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER) {
      out.torn = { offset: off, reason: 'truncated header' };
      break;
    }
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    const end = off + HEADER + len;
    if (zeroTail(buf, off)) {
      out.torn = { offset: off, reason: 'zero-filled tail' };
      break;
    }
    // No record this large is ever written: not a torn append (whose length field is intact).
    if (len > MAX_RECORD) throw corrupt(off, `over-size record (${len} bytes)`);
    if (end > buf.length) {
      out.torn = { offset: off, reason: 'truncated record' };
      break;
    }
    const payload = buf.subarray(off + HEADER, end);
    if (crc32(payload) !== crc) {
      if (end !== buf.length) throw corrupt(off, 'checksum mismatch in a record that is not the last one');
      out.torn = { offset: off, reason: 'checksum mismatch' };
      break;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const rec = checkRecord(parsed);
    if (rec === undefined) throw corrupt(off, 'record is not a journal record of this version');
    if (rec.t === 'marks') {
      if (snapLeft === 0 || rec.seq !== snapSeq) throw corrupt(off, 'snapshot part without its snapshot');
      snapLeft--;
    } else if (snapLeft > 0) {
      throw corrupt(off, `snapshot cut short (${snapLeft} parts missing)`);
    } else if (rec.t === 'snap') {
      snapLeft = (rec.parts ?? 1) - 1;
      snapSeq = rec.seq;
    }
    apply(out, rec);
    out.records++;
    off = end;
  }
  if (snapLeft > 0) throw corrupt(off, `snapshot cut short (${snapLeft} parts missing)`);
  return out;
}

function apply(st: Replay, rec: JournalRecord): void {
  switch (rec.t) {
    case 'snap':
      st.streams.clear();
      for (const e of rec.streams) st.streams.set(e[0], snapMark(e));
      st.pending = undefined;
      st.seq = rec.seq;
      return;
    case 'marks':
      for (const e of rec.streams) st.streams.set(e[0], snapMark(e));
      return;
    case 'begin':
      st.pending = { seq: rec.seq, files: rec.files };
      st.seq = Math.max(st.seq, rec.seq);
      return;
    case 'commit':
      for (const e of rec.streams) {
        const [k, hw] = e;
        const cur = st.streams.get(k);
        // Re-inserted: the map's order is least recently written first (the eviction order).
        st.streams.delete(k);
        const holes = e.length === 3 ? e[2] : cur?.holes;
        const mark: StreamMark = { hw: cur === undefined ? hw : Math.max(cur.hw, hw), lastMs: rec.ms };
        if (holes !== undefined && holes.length > 0) mark.holes = holes;
        st.streams.set(k, mark);
      }
      if (st.pending?.seq === rec.seq) st.pending = undefined;
      if (rec.next === 1) st.pending = { seq: rec.seq + 1, files: rec.files };
      st.seq = Math.max(st.seq, rec.seq);
      return;
  }
}

function snapMark(e: SnapEntry): StreamMark {
  return e.length === 4 && e[3].length > 0 ? { hw: e[1], lastMs: e[2], holes: e[3] } : { hw: e[1], lastMs: e[2] };
}

/** Flags of an append-only handle; O_DSYNC with sync (a write returns once durable). */
const appendFlags = (sync: boolean): number => constants.O_APPEND | (sync ? constants.O_DSYNC : 0);

/**
 * Test seam (fault injection): runs before a record's write ('write') or, once it is written,
 * before its fdatasync ('sync'); a throw is that step failing.
 */
export type JournalFault = (step: 'write' | 'sync', t: JournalRecord['t']) => void | Promise<void>;

/** Splits a snapshot into records of about SNAP_PART_BYTES each (at least one, even when empty). */
export function snapshotRecords(seq: number, entries: Iterable<SnapEntry>): JournalRecord[] {
  const parts: SnapEntry[][] = [[]];
  let bytes = 0;
  for (const e of entries) {
    // JSON of one entry: the key (escaped: stream keys hold a NUL) plus two numbers (and holes).
    const size = JSON.stringify(e[0]).length + 40 + (e.length === 4 ? e[3].length * 17 : 0);
    if (bytes + size > SNAP_PART_BYTES && parts[parts.length - 1]!.length > 0) {
      parts.push([]);
      bytes = 0;
    }
    parts[parts.length - 1]!.push(e);
    bytes += size;
  }
  return parts.map((streams, i): JournalRecord => (i === 0 ? { t: 'snap', v: 1, seq, parts: parts.length, streams } : { t: 'marks', seq, streams }));
}

/**
 * The open journal: appends records, compacts by temp + rename. With fsync its handle is O_DSYNC:
 * an append is durable when its write returns (one thread-pool round trip, not write + fdatasync).
 */
export class Journal {
  readonly file: string;
  private _fh: FileHandle;
  /** _fh was opened O_DSYNC. */
  private _dsync: boolean;
  private _bytes: number;
  private _snapshotBytes: number;
  private readonly _fsync: boolean;
  private readonly _fault: JournalFault | undefined;
  /** An append failed midway: the file may end in a partial record; compact before appending. */
  private _broken: boolean;

  private constructor(file: string, fh: FileHandle, bytes: number, fsync: boolean, fault: JournalFault | undefined) {
    this.file = file;
    this._fh = fh;
    this._dsync = fsync;
    this._bytes = bytes;
    this._snapshotBytes = 0;
    this._fsync = fsync;
    this._fault = fault;
    this._broken = false;
  }

  /** Opens (creating if needed) and replays the journal. The caller compacts before appending. */
  static async open(file: string, fsync: boolean, fault?: JournalFault): Promise<{ journal: Journal; replay: Replay }> {
    const fh = await open(file, appendFlags(fsync) | constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      const buf = await fh.readFile();
      const r = replay(buf, file);
      return { journal: new Journal(file, fh, buf.length, fsync, fault), replay: r };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  get bytes(): number {
    return this._bytes;
  }

  /** Size of the snapshot the journal starts with (after the last compaction). */
  get snapshotBytes(): number {
    return this._snapshotBytes;
  }

  get broken(): boolean {
    return this._broken;
  }

  /**
   * Appends one record; `sync` overrides the journal's fsync policy for this record (on an O_DSYNC
   * handle every append is durable anyway). Never rejects.
   */
  async append(rec: JournalRecord, sync: boolean = this._fsync): Promise<AppendResult> {
    if (this._broken) {
      return { kind: 'failed', error: new LogshipError('LS_FILE_WRITE', `journal ${this.file} needs compaction after a failed append`) };
    }
    const buf = encodeRecord(rec);
    let off = 0;
    let issued = false;
    try {
      await this._fault?.('write', rec.t);
      while (off < buf.length) {
        issued = true;
        const { bytesWritten } = await this._fh.write(buf, off, buf.length - off, null);
        if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
        off += bytesWritten;
        this._bytes += bytesWritten;
      }
      if (sync) {
        await this._fault?.('sync', rec.t);
        if (!this._dsync) await this._fh.datasync();
      }
      return SYNCED;
    } catch (error) {
      this._broken = true;
      // An O_DSYNC write that fails may have put the record in the file first (its sync is what
      // failed): a restart may replay it, as after a failed fdatasync.
      return off === buf.length || (this._dsync && issued) ? { kind: 'written', error } : { kind: 'failed', error };
    }
  }

  /**
   * Replaces the journal by one snapshot (SNAP + MARKS records, each of bounded size): write temp,
   * fsync, rename, fsync the directory.
   */
  async compact(seq: number, entries: Iterable<SnapEntry>, sync: boolean = this._fsync): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const buf = Buffer.concat(snapshotRecords(seq, entries).map(encodeRecord));
    const t = await open(tmp, 'w', 0o600);
    try {
      await t.writeFile(buf);
      if (sync) await t.sync();
    } finally {
      await t.close();
    }
    await rename(tmp, this.file);
    let fh: FileHandle;
    try {
      if (sync) await syncDir(dirname(this.file));
      fh = await open(this.file, appendFlags(sync) | constants.O_RDWR);
    } catch (err) {
      // Our handle now names the replaced file: appends through it would be lost.
      this._broken = true;
      throw err;
    }
    const old = this._fh;
    this._fh = fh;
    this._dsync = sync;
    this._bytes = buf.length;
    this._snapshotBytes = buf.length;
    this._broken = false;
    await old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this._fh.close();
  }
}
