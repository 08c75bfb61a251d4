// BATCH frames of the ship protocol (docs/protocol.md §4): a core batch ↔ one binary frame whose
// payload (record ends + data) is zstd-compressed as a whole. No sockets, no timers, no fs.
//
//   body: | origin (u16+utf8) | stream (u16+utf8) | first offset u64 | count u32 | flags u8 |
//         | host (u16+utf8) | program (u16+utf8) | facility u8 | severity u8 | timeMs u64 |
//         | payload length u32 (uncompressed) | payload (zstd frame when flags bit 0) |
//   payload (uncompressed): | ends[0] u32 | ... | ends[count-1] u32 | data bytes ... |

import { endianness } from 'node:os';
import { Compressor } from 'zstd-napi';
import zstdBinding from 'zstd-napi/binding.js';
import { LogshipError } from '../../core/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from '../framing/length-prefixed.js';
import { BATCH_FLAG_ZSTD, FRAME_TYPE, type BatchLike, type DecodedBatch } from './frames.js';
import { FieldReader, invalid, strFieldBytes, writeStr, writeU64 } from './wire.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
/** Fixed-size fields of the body: offset 8 + count 4 + flags 1 + facility 1 + severity 1 + timeMs 8 + payload length 4. */
const FIXED_BODY_BYTES = 27;

export interface BatchEncoderOptions {
  /** zstd level (1..19), or 0 to send the payload uncompressed. */
  readonly compressionLevel: number;
  /** Bound of the encoded frame (its length field) and of the uncompressed payload (ends + data); default 64 MiB. */
  readonly maxFrameBytes?: number;
}

/** Encodes batches into whole BATCH frames. Holds one reusable zstd compression context. */
export class ShipBatchEncoder {
  private readonly _compressor: Compressor | null;
  private readonly _maxFrame: number;

  constructor(opts: BatchEncoderOptions) {
    this._maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (opts.compressionLevel === 0) {
      this._compressor = null;
    } else {
      this._compressor = new Compressor();
      this._compressor.setParameters({ compressionLevel: opts.compressionLevel });
    }
  }

  /** The whole frame (header included). Throws LS_FRAME_OVERSIZE / LS_FRAME_INVALID when the batch cannot be sent. */
  encode(b: BatchLike): Buffer {
    const count = b.ends.length;
    const payloadLen = count * 4 + b.data.length;
    if (payloadLen > this._maxFrame) {
      throw new LogshipError(
        'LS_FRAME_OVERSIZE',
        `batch of ${b.data.length} bytes and ${count} records exceeds the ship payload limit of ${this._maxFrame} bytes; make the source's batches smaller`,
      );
    }
    if (!Number.isSafeInteger(b.pos.offset + b.data.length) || b.pos.offset < 0) {
      throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: batch offsets ${b.pos.offset}+${b.data.length} are not a non-negative safe integer range`);
    }
    const timeMs = Math.max(0, Math.trunc(b.meta.timeMs));
    const headLen =
      strFieldBytes(b.pos.origin, 'origin') +
      strFieldBytes(b.pos.stream, 'stream') +
      strFieldBytes(b.meta.host, 'host') +
      strFieldBytes(b.meta.program, 'program') +
      FIXED_BODY_BYTES;

    // Compress the payload; keep it raw when compression is off or does not pay.
    let z: Buffer | null = null;
    if (this._compressor !== null) {
      const payload = Buffer.allocUnsafe(payloadLen);
      writeEnds(payload, b.ends);
      b.data.copy(payload, count * 4);
      z = this._compressor.compress(payload);
      if (z.length >= payloadLen) z = null;
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
    if (z !== null) {
      z.copy(frame, payloadAt);
    } else {
      writeEnds(frame.subarray(payloadAt, payloadAt + count * 4), b.ends);
      b.data.copy(frame, payloadAt + count * 4);
    }
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt8(FRAME_TYPE.BATCH, 4);
    let p = writeStr(frame, FRAME_HEADER_BYTES, b.pos.origin);
    p = writeStr(frame, p, b.pos.stream);
    p = writeU64(frame, p, b.pos.offset, 'offset');
    frame.writeUInt32BE(count, p);
    p += 4;
    frame.writeUInt8(z !== null ? BATCH_FLAG_ZSTD : 0, p);
    p += 1;
    p = writeStr(frame, p, b.meta.host);
    p = writeStr(frame, p, b.meta.program);
    frame.writeUInt8(codeOr(b.meta.facility, 23, FACILITY_USER), p);
    frame.writeUInt8(codeOr(b.meta.severity, 7, SEVERITY_NOTICE), p + 1);
    p = writeU64(frame, p + 2, timeMs, 'timeMs');
    frame.writeUInt32BE(payloadLen, p);
    p += 4;
    if (p !== payloadAt) throw new LogshipError('LS_INTERNAL', `BATCH encoder layout mismatch (${p} != ${payloadAt})`);
    return frame;
  }
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
    if ((flags & ~BATCH_FLAG_ZSTD) !== 0) throw invalid(`BATCH has unknown flags 0x${flags.toString(16)}`);
    const host = r.str('host');
    const program = r.str('program');
    const facility = r.u8('facility');
    if (facility > 23) throw invalid(`BATCH facility ${facility} is not 0..23`);
    const severity = r.u8('severity');
    if (severity > 7) throw invalid(`BATCH severity ${severity} is not 0..7`);
    const timeMs = r.u64('timeMs');
    const payloadLen = r.u32('payload length');
    if (payloadLen > this._maxPayload) throw invalid(`BATCH payload of ${payloadLen} bytes exceeds the limit of ${this._maxPayload}`);
    if (count * 4 > payloadLen) throw invalid(`BATCH record count ${count} does not fit its payload of ${payloadLen} bytes`);
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
    const data = payload.subarray(endsBytes);
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const e = ends[i]!;
      if (e < prev) throw invalid(`BATCH record ends are not monotonic at record ${i}`);
      prev = e;
    }
    if (prev > data.length) throw invalid(`BATCH record end ${prev} is past the data length ${data.length}`);
    if (offset + data.length > Number.MAX_SAFE_INTEGER) throw invalid('BATCH end offset exceeds 2^53');

    return {
      pos: { origin, stream, offset },
      meta: { host, program, facility, severity, timeMs },
      data,
      ends,
    };
  }
}
