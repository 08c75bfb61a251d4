// The spool's on-disk format: segment files of checksummed records, and a sequential reader of
// them that says where a torn or corrupt record starts. Bytes and file handles only: no batches,
// no timers.
//
//   <dir>/000000000007.seg
//   | "LSSPOOL" 0x01 | len u32 LE | crc32 u32 LE | payload (len bytes) | len | crc | payload | ...
//   0                8                                                                      size
//
// crc32 is CRC-32 (IEEE) of the payload only; the length must be 1..MAX_RECORD_BYTES and within
// the file. A record is valid only if both hold, so a crash mid-append (a short header, a
// short payload, or zeros where the kernel had not written yet) shows as the first invalid record,
// and everything before it is intact. The payload is a ship BATCH body (codec/ship), so a batch
// read back keeps its origin, stream, offsets, meta and format flag.

import type { FileHandle } from 'node:fs/promises';
import { crc32 } from '../util/crc32.js';

export const SEGMENT_MAGIC = Buffer.from('LSSPOOL\u0001', 'latin1');
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;
export const RECORD_HEADER_BYTES = 8;
/** Upper bound of one record's payload: larger lengths are corruption. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const SEGMENT_RE = /^(\d{12})\.seg$/;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.seg`;
}

/** The sequence number of a segment file name, or undefined for any other name. */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/** The 8-byte record header of `payload`. */
export function recordHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt32LE(crc32(payload), 4);
  return h;
}

export type ReadResult =
  | { readonly kind: 'record'; readonly payload: Buffer; readonly start: number; readonly end: number }
  /** Exactly at the limit: no more records (yet). */
  | { readonly kind: 'end' }
  /** The record at `at` is torn or corrupt; nothing from `at` on can be trusted. */
  | { readonly kind: 'corrupt'; readonly at: number; readonly reason: string };

/**
 * Reads records one by one from `position` up to `limit` (the file size, or the writer's committed
 * end), in chunks. Each chunk is a fresh buffer, so a returned payload stays valid after later reads.
 */
export class SegmentReader {
  private readonly _fh: FileHandle;
  private readonly _chunkBytes: number;
  private _pos: number;
  private _limit: number;
  private _buf: Buffer;
  /** File position of _buf[0]. */
  private _bufAt: number;

  constructor(fh: FileHandle, position: number, limit: number, chunkBytes: number) {
    this._fh = fh;
    this._chunkBytes = chunkBytes;
    this._pos = position;
    this._limit = limit;
    this._buf = Buffer.alloc(0);
    this._bufAt = position;
  }

  /** Position of the next record. */
  get position(): number {
    return this._pos;
  }

  get limit(): number {
    return this._limit;
  }

  /** The writer committed more: read on up to `limit`. */
  setLimit(limit: number): void {
    this._limit = limit;
  }

  async next(): Promise<ReadResult> {
    const pos = this._pos;
    const left = this._limit - pos;
    if (left <= 0) return { kind: 'end' };
    if (left < RECORD_HEADER_BYTES) return { kind: 'corrupt', at: pos, reason: `${left} bytes left, less than a record header` };
    if (!(await this._ensure(pos, RECORD_HEADER_BYTES))) return { kind: 'corrupt', at: pos, reason: 'file shorter than expected' };
    let rel = pos - this._bufAt;
    const len = this._buf.readUInt32LE(rel);
    const crc = this._buf.readUInt32LE(rel + 4);
    // An empty payload is never written (a BATCH body is at least 27 bytes); refusing it also
    // keeps a zero-filled tail (length 0, CRC 0 = CRC of nothing) from passing as records.
    if (len === 0) return { kind: 'corrupt', at: pos, reason: 'empty record (zero-filled tail?)' };
    if (len > MAX_RECORD_BYTES || len > left - RECORD_HEADER_BYTES) {
      return { kind: 'corrupt', at: pos, reason: `record length ${len} runs past the end (${left - RECORD_HEADER_BYTES} bytes left)` };
    }
    const total = RECORD_HEADER_BYTES + len;
    if (!(await this._ensure(pos, total))) return { kind: 'corrupt', at: pos, reason: 'file shorter than expected' };
    rel = pos - this._bufAt;
    const payload = this._buf.subarray(rel + RECORD_HEADER_BYTES, rel + total);
    if (crc32(payload) !== crc) return { kind: 'corrupt', at: pos, reason: 'checksum mismatch' };
    this._pos = pos + total;
    return { kind: 'record', payload, start: pos, end: pos + total };
  }

  /** Makes bytes [pos, pos + n) available in _buf; false when the file ends before. */
  private async _ensure(pos: number, n: number): Promise<boolean> {
    if (pos >= this._bufAt && pos + n <= this._bufAt + this._buf.length) return true;
    const size = Math.min(Math.max(this._chunkBytes, n), this._limit - pos);
    const buf = Buffer.allocUnsafeSlow(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this._fh.read(buf, got, size - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this._buf = buf.subarray(0, got);
    this._bufAt = pos;
    return got >= n;
  }
}

/**
 * The record count of a ship BATCH body without decoding it: | origin u16+utf8 | stream u16+utf8 |
 * offset u64 | count u32 | ... (codec/ship/batch.ts). -1 when the body is too short.
 */
export function batchRecordCount(body: Buffer): number {
  let p = 0;
  if (body.length < p + 2) return -1;
  p += 2 + body.readUInt16BE(p);
  if (body.length < p + 2) return -1;
  p += 2 + body.readUInt16BE(p);
  p += 8;
  if (body.length < p + 4) return -1;
  return body.readUInt32BE(p);
}
