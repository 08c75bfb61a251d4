// BATCH frames of the ship protocol (docs/protocol.md §4): a core batch ↔ one binary frame whose
// payload (record ends + record offsets + data) is zstd-compressed as a whole. No sockets, no
// timers, no fs.
//
//   body: | origin (u16+utf8) | stream (u16+utf8) | first offset u64 | count u32 | flags u8 |
//         | host (u16+utf8) | program (u16+utf8) | facility u8 | severity u8 | timeMs u64 |
//         | [end offset u64, flag 0x08] | payload length u32 (uncompressed) |
//         | payload (zstd frame when flag 0x01) |
//   payload (uncompressed): | ends[0] u32 | ... | ends[count-1] u32 |
//                           | [gap[0] … gap[count-1] LEB128 varints, flag 0x04] | data bytes ... |
//
//   record offsets from gaps (flag 0x04):   off[0] = offset + gap[0]
//                                           off[i] = off[i-1] + len(record i-1) + gap[i]
//   so the gaps are the byte counts of the records a filter dropped between kept ones.

import { endianness } from 'node:os';
import zstdBinding from 'zstd-napi/binding.js';
import { LogshipError } from '../../core/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from '../framing/length-prefixed.js';
import type { BatchExtras, BatchMeta } from '../../core/batch.js';
import {
  BATCH_FLAG_END_OFFSET,
  BATCH_FLAG_RECORD_OFFSETS,
  BATCH_FLAG_REROUTED,
  BATCH_FLAG_SYSLOG,
  BATCH_FLAG_ZSTD,
  BATCH_FLAGS_KNOWN,
  FRAME_TYPE,
  type BatchLike,
  type DecodedBatch,
} from './frames.js';
import { FieldReader, invalid, strFieldBytes, writeStr, writeU64 } from './wire.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
/** Scratch buffers larger than this are let go after use. */
const SCRATCH_KEEP_BYTES = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
/** Fixed-size fields of the body: offset 8 + count 4 + flags 1 + facility 1 + severity 1 + timeMs 8 + payload length 4. */
const FIXED_BODY_BYTES = 27;

export interface BatchEncoderOptions {
  /** zstd level (1..19), or 0 to send the payload uncompressed. */
  readonly compressionLevel: number;
  /** Bound of the encoded frame (its length field) and of the uncompressed payload (ends + data); default 64 MiB. */
  readonly maxFrameBytes?: number;
}

/**
 * Encodes batches into whole BATCH frames. Holds one reusable zstd compression context and two
 * grow-only scratch buffers (the uncompressed payload, zstd's output), so that the only memory
 * allocated per batch is its frame.
 */
export class ShipBatchEncoder {
  private readonly _cctx: InstanceType<typeof zstdBinding.CCtx> | null;
  private readonly _maxFrame: number;
  private _payload: Buffer;
  private _zout: Buffer;

  constructor(opts: BatchEncoderOptions) {
    this._maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this._payload = EMPTY;
    this._zout = EMPTY;
    if (opts.compressionLevel === 0) {
      this._cctx = null;
    } else {
      this._cctx = new zstdBinding.CCtx();
      this._cctx.setParameter(zstdBinding.CParameter.compressionLevel, opts.compressionLevel);
    }
  }

  /** The whole frame (header included). Throws LS_FRAME_OVERSIZE / LS_FRAME_INVALID when the batch cannot be sent. */
  encode(b: BatchLike): Buffer {
    const count = b.ends.length;
    const contiguousEnd = b.pos.offset + b.data.length;
    if (!Number.isSafeInteger(contiguousEnd) || b.pos.offset < 0) {
      throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: batch offsets ${b.pos.offset}+${b.data.length} are not a non-negative safe integer range`);
    }
    const endOffset = b.endOffset ?? contiguousEnd;
    const hasEnd = endOffset !== contiguousEnd;
    const gaps = b.recordOffsets === undefined ? null : encodeGaps(b, endOffset);
    if (hasEnd && (!Number.isSafeInteger(endOffset) || endOffset < b.pos.offset + (gaps === null ? lastEnd(b.ends) : 0))) {
      throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: end offset ${endOffset} is not a safe integer past the batch's records`);
    }
    const gapBytes = gaps === null ? 0 : gaps.length;
    const payloadLen = count * 4 + gapBytes + b.data.length;
    if (payloadLen > this._maxFrame) {
      throw new LogshipError(
        'LS_FRAME_OVERSIZE',
        `batch of ${b.data.length} bytes and ${count} records exceeds the ship payload limit of ${this._maxFrame} bytes; make the source's batches smaller`,
      );
    }
    const timeMs = Math.max(0, Math.trunc(b.meta.timeMs));
    const headLen =
      strFieldBytes(b.pos.origin, 'origin') +
      strFieldBytes(b.pos.stream, 'stream') +
      strFieldBytes(b.meta.host, 'host') +
      strFieldBytes(b.meta.program, 'program') +
      FIXED_BODY_BYTES +
      (hasEnd ? 8 : 0);

    // Compress the payload; keep it raw when compression is off or does not pay.
    let z: Buffer | null = null;
    if (this._cctx !== null) {
      if (this._payload.length < payloadLen) this._payload = Buffer.allocUnsafeSlow(payloadLen);
      const payload = this._payload.subarray(0, payloadLen);
      writePayload(payload, b.ends, gaps, b.data);
      const bound = zstdBinding.compressBound(payloadLen);
      if (this._zout.length < bound) this._zout = Buffer.allocUnsafeSlow(bound);
      const n = this._cctx.compress2(this._zout, payload);
      z = n < payloadLen ? this._zout.subarray(0, n) : null;
    }
    const payloadAt = FRAME_HEADER_BYTES + headLen;
    const frameLen = payloadAt + (z === null ? payloadLen : z.length);
    if (frameLen - 4 > this._maxFrame) {
      throw new LogshipError(
        'LS_FRAME_OVERSIZE',
        `batch encodes to a ${frameLen - 4}-byte frame, over the ship frame limit of ${this._maxFrame} bytes; make the source's batches smaller`,
      );
    }
    const frame = Buffer.allocUnsafe(frameLen);
    if (z !== null) z.copy(frame, payloadAt);
    else writePayload(frame.subarray(payloadAt), b.ends, gaps, b.data);
    // A rare huge batch must not pin huge scratch buffers for the life of the encoder.
    if (this._payload.length > SCRATCH_KEEP_BYTES) this._payload = EMPTY;
    if (this._zout.length > SCRATCH_KEEP_BYTES) this._zout = EMPTY;
    let flags = z !== null ? BATCH_FLAG_ZSTD : 0;
    if (b.meta.format === 'syslog') flags |= BATCH_FLAG_SYSLOG;
    if (gaps !== null) flags |= BATCH_FLAG_RECORD_OFFSETS;
    if (hasEnd) flags |= BATCH_FLAG_END_OFFSET;
    if (b.rerouted === true) flags |= BATCH_FLAG_REROUTED;
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt8(FRAME_TYPE.BATCH, 4);
    let p = writeStr(frame, FRAME_HEADER_BYTES, b.pos.origin);
    p = writeStr(frame, p, b.pos.stream);
    p = writeU64(frame, p, b.pos.offset, 'offset');
    frame.writeUInt32BE(count, p);
    p += 4;
    frame.writeUInt8(flags, p);
    p += 1;
    p = writeStr(frame, p, b.meta.host);
    p = writeStr(frame, p, b.meta.program);
    frame.writeUInt8(codeOr(b.meta.facility, 23, FACILITY_USER), p);
    frame.writeUInt8(codeOr(b.meta.severity, 7, SEVERITY_NOTICE), p + 1);
    p = writeU64(frame, p + 2, timeMs, 'timeMs');
    if (hasEnd) p = writeU64(frame, p, endOffset, 'end offset');
    frame.writeUInt32BE(payloadLen, p);
    p += 4;
    if (p !== payloadAt) throw new LogshipError('LS_INTERNAL', `BATCH encoder layout mismatch (${p} != ${payloadAt})`);
    return frame;
  }
}

function lastEnd(ends: Uint32Array): number {
  return ends.length === 0 ? 0 : ends[ends.length - 1]!;
}

/**
 * The gaps between a compacted batch's records as LEB128 varints (see the diagram above).
 * Throws LS_FRAME_INVALID when the offsets are not increasing, overlap, or pass the end offset.
 */
function encodeGaps(b: BatchLike, endOffset: number): Buffer {
  const offs = b.recordOffsets!;
  const count = b.ends.length;
  if (offs.length !== count) {
    throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: ${offs.length} record offsets for ${count} records`);
  }
  const out = Buffer.allocUnsafe(count * MAX_VARINT_BYTES);
  let p = 0;
  let prevEnd = b.pos.offset;
  let start = 0;
  for (let i = 0; i < count; i++) {
    const off = offs[i]!;
    const gap = off - prevEnd;
    if (!Number.isSafeInteger(off) || gap < 0) {
      throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: record ${i} offset ${off} is before the end of the previous record (${prevEnd})`);
    }
    p = writeVarint(out, p, gap);
    const end = b.ends[i]!;
    prevEnd = off + (end - start);
    start = end;
  }
  if (prevEnd > endOffset) {
    throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: records end at ${prevEnd}, past the batch end offset ${endOffset}`);
  }
  return out.subarray(0, p);
}

/** A varint of a safe integer takes at most 8 bytes (8 × 7 = 56 bits ≥ 53). */
const MAX_VARINT_BYTES = 8;

function writeVarint(buf: Buffer, p: number, v: number): number {
  while (v >= 0x80) {
    buf[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[p++] = v;
  return p;
}

/** Writes | ends u32 BE | gaps | data | into dst (exactly their length). */
function writePayload(dst: Buffer, ends: Uint32Array, gaps: Buffer | null, data: Buffer): void {
  writeEnds(dst, ends);
  let p = ends.length * 4;
  if (gaps !== null) p += gaps.copy(dst, p);
  data.copy(dst, p);
}

// Out-of-range codes (a bug upstream) are sent as user.notice, the RFC 3164 §4.3.3 default,
// rather than losing the batch.
const FACILITY_USER = 1;
const SEVERITY_NOTICE = 5;

function codeOr(v: number, max: number, fallback: number): number {
  return Number.isInteger(v) && v >= 0 && v <= max ? v : fallback;
}

/** Write the ends as u32 big-endian into `dst` (exactly 4 * ends.length bytes). */
function writeEnds(dst: Buffer, ends: Uint32Array): void {
  const src = Buffer.from(ends.buffer, ends.byteOffset, ends.byteLength);
  src.copy(dst, 0);
  if (LITTLE_ENDIAN_HOST && ends.length > 0) dst.subarray(0, ends.byteLength).swap32();
}

/** Decodes BATCH bodies, validating every field. Holds one zstd decompression context. */
export class ShipBatchDecoder {
  private readonly _dctx: InstanceType<typeof zstdBinding.DCtx>;
  private readonly _maxPayload: number;

  constructor(maxPayloadBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this._dctx = new zstdBinding.DCtx();
    this._maxPayload = maxPayloadBytes;
  }

  /** Throws LS_FRAME_INVALID (canContinue=false) on anything wrong. */
  decode(body: Buffer): DecodedBatch {
    const r = new FieldReader(body, 'BATCH');
    const origin = r.str('origin');
    const stream = r.str('stream');
    const offset = r.u64('offset');
    const count = r.u32('count');
    const flags = r.u8('flags');
    if ((flags & ~BATCH_FLAGS_KNOWN) !== 0) throw invalid(`BATCH has unknown flags 0x${flags.toString(16)}`);
    const host = r.str('host');
    const program = r.str('program');
    const facility = r.u8('facility');
    if (facility > 23) throw invalid(`BATCH facility ${facility} is not 0..23`);
    const severity = r.u8('severity');
    if (severity > 7) throw invalid(`BATCH severity ${severity} is not 0..7`);
    const timeMs = r.u64('timeMs');
    const hasEnd = (flags & BATCH_FLAG_END_OFFSET) !== 0;
    const hasOffsets = (flags & BATCH_FLAG_RECORD_OFFSETS) !== 0;
    const endOffset = hasEnd ? r.u64('end offset') : -1;
    const payloadLen = r.u32('payload length');
    if (payloadLen > this._maxPayload) throw invalid(`BATCH payload of ${payloadLen} bytes exceeds the limit of ${this._maxPayload}`);
    // Each record takes 4 bytes of ends, plus at least one byte of gap when offsets are sent.
    if (count * (hasOffsets ? 5 : 4) > payloadLen) throw invalid(`BATCH record count ${count} does not fit its payload of ${payloadLen} bytes`);
    const wire = r.rest();

    let payload: Buffer;
    if ((flags & BATCH_FLAG_ZSTD) !== 0) {
      // Decompress into a buffer of exactly the announced size: zstd fails if the content is larger,
      // so a hostile frame cannot make us allocate more than the limit.
      payload = Buffer.allocUnsafe(payloadLen);
      let n: number;
      try {
        n = this._dctx.decompress(payload, wire);
      } catch (err) {
        throw new LogshipError('LS_FRAME_INVALID', `bad ship frame: BATCH payload does not decompress (${(err as Error).message}); closing the connection`, {
          canContinue: false,
          cause: err,
        });
      }
      if (n !== payloadLen) throw invalid(`BATCH payload decompressed to ${n} bytes, ${payloadLen} announced`);
    } else {
      if (wire.length !== payloadLen) throw invalid(`BATCH payload is ${wire.length} bytes, ${payloadLen} announced`);
      payload = wire;
    }

    const endsBytes = count * 4;
    const ends = new Uint32Array(count);
    const endsView = Buffer.from(ends.buffer, ends.byteOffset, ends.byteLength);
    payload.copy(endsView, 0, 0, endsBytes);
    if (LITTLE_ENDIAN_HOST && count > 0) endsView.swap32();
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const e = ends[i]!;
      if (e < prev) throw invalid(`BATCH record ends are not monotonic at record ${i}`);
      prev = e;
    }

    // Record offsets (flag 0x04): increasing by construction (gaps are >= 0), checked below against the end.
    let recordOffsets: Float64Array | undefined;
    let recordsEnd = offset + prev;
    let at = endsBytes;
    if (hasOffsets) {
      recordOffsets = new Float64Array(count);
      let pos = offset;
      let start = 0;
      for (let i = 0; i < count; i++) {
        let gap = 0;
        let mul = 1;
        for (let k = 0; ; k++) {
          if (at >= payload.length) throw invalid(`BATCH record offsets truncated at record ${i}`);
          if (k === MAX_VARINT_BYTES) throw invalid(`BATCH record offset gap of record ${i} is longer than ${MAX_VARINT_BYTES} bytes`);
          const byte = payload[at++]!;
          gap += (byte & 0x7f) * mul;
          mul *= 0x80;
          if (byte < 0x80) break;
        }
        pos += gap;
        if (pos > Number.MAX_SAFE_INTEGER) throw invalid(`BATCH record ${i} offset exceeds 2^53`);
        recordOffsets[i] = pos;
        const end = ends[i]!;
        pos += end - start;
        start = end;
      }
      recordsEnd = pos;
    }
    const data = payload.subarray(at);
    if (prev > data.length) throw invalid(`BATCH record end ${prev} is past the data length ${data.length}`);
    if (recordsEnd > Number.MAX_SAFE_INTEGER) throw invalid('BATCH records end past 2^53');
    if (hasEnd) {
      if (endOffset < recordsEnd) throw invalid(`BATCH end offset ${endOffset} is before the end of its records (${recordsEnd})`);
    } else {
      if (offset + data.length > Number.MAX_SAFE_INTEGER) throw invalid('BATCH end offset exceeds 2^53');
      if (recordsEnd > offset + data.length) throw invalid(`BATCH records end at ${recordsEnd}, past the batch end ${offset + data.length}`);
    }

    const meta: BatchMeta =
      (flags & BATCH_FLAG_SYSLOG) !== 0 ? { host, program, facility, severity, timeMs, format: 'syslog' } : { host, program, facility, severity, timeMs };
    const out = { pos: { origin, stream, offset }, meta, data, ends };
    const rerouted = (flags & BATCH_FLAG_REROUTED) !== 0;
    if (!hasOffsets && !hasEnd && !rerouted) return out;
    const extras: BatchExtras = {
      ...(hasOffsets ? { recordOffsets: recordOffsets! } : {}),
      ...(hasEnd ? { endOffset } : {}),
      ...(rerouted ? { rerouted } : {}),
    };
    return { ...out, extras };
  }
}

/**
 * Sets flag 0x10 (rerouted) in an encoded BATCH frame, in place: a sender decides it when it sends
 * (the path can change after the frame was encoded). The frame must come from ShipBatchEncoder.
 */
export function markRerouted(frame: Buffer): void {
  let p = FRAME_HEADER_BYTES;
  p += 2 + frame.readUInt16BE(p); // origin
  p += 2 + frame.readUInt16BE(p); // stream
  p += 8 + 4; // offset, count
  frame[p] = frame[p]! | BATCH_FLAG_REROUTED;
}
