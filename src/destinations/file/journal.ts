// The file destination's journal: an append-only log of write cycles, so a crash between
// "data appended" and "cycle committed" can be undone on restart, and the per-stream high
// water marks (hw) survive restarts. Knows nothing of batches or templates.
//
//   record:  | len u32 LE | crc32(payload) u32 LE | payload: JSON, len bytes |
//
//   SNAP   {t:'snap', v:1, seq, streams:[[key, hw, lastMs]…]}   first record; written by compact()
//   BEGIN  {t:'begin', seq, files:[{p, id, size}…]}    before data: every file and its size before
//   COMMIT {t:'commit', seq, files:[{p, id, size}…], streams:[[key, hw]…], ms}   after data + fsync
//
// Replay: SNAP resets the state, BEGIN makes a cycle pending, COMMIT applies the hw and clears
// the pending cycle. A later BEGIN supersedes a pending one: a cycle that failed at run time was
// rolled back before the next BEGIN is ever written. A torn or corrupt record (crash mid-append)
// ends the replay: nothing after it can be trusted, and compaction rewrites the file.

import { constants } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LogshipError } from '../../core/errors.js';

/** A data file as the journal knows it: path, identity ("dev:ino") and size. */
export interface FileMark {
  readonly p: string;
  readonly id: string;
  readonly size: number;
}

export interface StreamMark {
  hw: number;
  lastMs: number;
}

export type JournalRecord =
  | { readonly t: 'snap'; readonly v: 1; readonly seq: number; readonly streams: readonly (readonly [string, number, number])[] }
  | { readonly t: 'begin'; readonly seq: number; readonly files: readonly FileMark[] }
  | {
      readonly t: 'commit';
      readonly seq: number;
      readonly files: readonly FileMark[];
      readonly streams: readonly (readonly [string, number])[];
      readonly ms: number;
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

const HEADER = 8;
/** A record larger than this is corrupt (a snapshot of ~1M streams stays below). */
const MAX_RECORD = 256 * 1024 * 1024;

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as zlib's. */
export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

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

function checkRecord(v: unknown): JournalRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (!isNum(r.seq)) return undefined;
  if (r.t === 'snap') {
    if (r.v !== 1 || !Array.isArray(r.streams)) return undefined;
    const ok = r.streams.every((s: unknown) => Array.isArray(s) && typeof s[0] === 'string' && isNum(s[1]) && isNum(s[2]));
    return ok ? (r as JournalRecord) : undefined;
  }
  if (r.t === 'begin') return Array.isArray(r.files) && r.files.every(isMark) ? (r as JournalRecord) : undefined;
  if (r.t === 'commit') {
    if (!Array.isArray(r.files) || !r.files.every(isMark) || !Array.isArray(r.streams) || !isNum(r.ms)) return undefined;
    const ok = r.streams.every((s: unknown) => Array.isArray(s) && typeof s[0] === 'string' && isNum(s[1]));
    return ok ? (r as JournalRecord) : undefined;
  }
  return undefined;
}

/**
 * Replays journal bytes. Stops at the first torn or corrupt record (reported in `torn`).
 * Throws LS_STATE_CORRUPT for a record whose checksum holds but whose content is not a journal
 * record: that is another program's file or another version, and guessing would lose data.
 */
export function replay(buf: Buffer, file: string): Replay {
  const out: Replay = { seq: 0, streams: new Map(), pending: undefined, torn: undefined, records: 0 };
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER) {
      out.torn = { offset: off, reason: 'truncated header' };
      break;
    }
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (len > MAX_RECORD || off + HEADER + len > buf.length) {
      out.torn = { offset: off, reason: 'truncated record' };
      break;
    }
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) {
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
    if (rec === undefined) {
      throw new LogshipError(
        'LS_STATE_CORRUPT',
        `file destination journal ${file}: record at byte ${off} is not a journal record of this version; ` +
          'move the file aside to start afresh (lines already written may then be written again)',
      );
    }
    apply(out, rec);
    out.records++;
    off += HEADER + len;
  }
  return out;
}

function apply(st: Replay, rec: JournalRecord): void {
  switch (rec.t) {
    case 'snap':
      st.streams.clear();
      for (const [k, hw, lastMs] of rec.streams) st.streams.set(k, { hw, lastMs });
      st.pending = undefined;
      st.seq = rec.seq;
      return;
    case 'begin':
      st.pending = { seq: rec.seq, files: rec.files };
      st.seq = Math.max(st.seq, rec.seq);
      return;
    case 'commit':
      for (const [k, hw] of rec.streams) {
        const cur = st.streams.get(k);
        if (cur === undefined) st.streams.set(k, { hw, lastMs: rec.ms });
        else {
          cur.hw = Math.max(cur.hw, hw);
          cur.lastMs = rec.ms;
        }
      }
      if (st.pending?.seq === rec.seq) st.pending = undefined;
      st.seq = Math.max(st.seq, rec.seq);
      return;
  }
}

/** fsyncs a directory so a create or rename in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The open journal: appends records (fdatasync'd when `fsync`), compacts by temp + rename. */
export class Journal {
  readonly file: string;
  private _fh: FileHandle;
  private _bytes: number;
  private _snapshotBytes: number;
  private readonly _fsync: boolean;
  /** An append failed midway: the file may end in a partial record; compact before appending. */
  private _broken: boolean;

  private constructor(file: string, fh: FileHandle, bytes: number, fsync: boolean) {
    this.file = file;
    this._fh = fh;
    this._bytes = bytes;
    this._snapshotBytes = 0;
    this._fsync = fsync;
    this._broken = false;
  }

  /** Opens (creating if needed) and replays the journal. The caller compacts before appending. */
  static async open(file: string, fsync: boolean): Promise<{ journal: Journal; replay: Replay }> {
    const fh = await open(file, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o600);
    try {
      const buf = await fh.readFile();
      const r = replay(buf, file);
      return { journal: new Journal(file, fh, buf.length, fsync), replay: r };
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

  /** Appends one record; `sync` overrides the journal's fsync policy for this record. */
  async append(rec: JournalRecord, sync: boolean = this._fsync): Promise<void> {
    if (this._broken) throw new LogshipError('LS_FILE_WRITE', `journal ${this.file} needs compaction after a failed append`);
    const buf = encodeRecord(rec);
    try {
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await this._fh.write(buf, off, buf.length - off, null);
        off += bytesWritten;
        this._bytes += bytesWritten;
      }
      if (sync) await this._fh.datasync();
    } catch (err) {
      this._broken = true;
      throw err;
    }
  }

  /** Replaces the journal by one SNAP record: write temp, fsync, rename, fsync the directory. */
  async compact(snap: JournalRecord & { t: 'snap' }, sync: boolean = this._fsync): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const buf = encodeRecord(snap);
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
      fh = await open(this.file, constants.O_RDWR | constants.O_APPEND);
    } catch (err) {
      // Our handle now names the replaced file: appends through it would be lost.
      this._broken = true;
      throw err;
    }
    const old = this._fh;
    this._fh = fh;
    this._bytes = buf.length;
    this._snapshotBytes = buf.length;
    this._broken = false;
    await old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this._fh.close();
  }
}
