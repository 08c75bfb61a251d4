// Primitive field codecs of the ship protocol: bounds-checked reads over a frame body and the
// matching writers. u64 values are JavaScript safe integers sent as two u32 (high, low), big-endian.
// No sockets, no timers, no fs.

import { LogshipError } from '../../core/errors.js';

const TWO_32 = 0x1_0000_0000;
/** High word limit so that hi * 2^32 + lo stays a safe integer (< 2^53). */
const MAX_U64_HI = 0x20_0000;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function invalid(what: string): LogshipError {
  return new LogshipError('LS_FRAME_INVALID', `bad ship frame: ${what}; closing the connection`, { canContinue: false });
}

/** Sequential reader over one frame body; every read checks its bounds. */
export class FieldReader {
  private readonly _buf: Buffer;
  private _pos: number;
  private readonly _frame: string;

  constructor(buf: Buffer, frame: string) {
    this._buf = buf;
    this._pos = 0;
    this._frame = frame;
  }

  get remaining(): number {
    return this._buf.length - this._pos;
  }

  get position(): number {
    return this._pos;
  }

  private _need(n: number, field: string): void {
    if (this._buf.length - this._pos < n) throw invalid(`${this._frame} truncated in field ${field}`);
  }

  u8(field: string): number {
    this._need(1, field);
    return this._buf[this._pos++]!;
  }

  u16(field: string): number {
    this._need(2, field);
    const v = this._buf.readUInt16BE(this._pos);
    this._pos += 2;
    return v;
  }

  u32(field: string): number {
    this._need(4, field);
    const v = this._buf.readUInt32BE(this._pos);
    this._pos += 4;
    return v;
  }

  u64(field: string): number {
    this._need(8, field);
    const hi = this._buf.readUInt32BE(this._pos);
    const lo = this._buf.readUInt32BE(this._pos + 4);
    if (hi >= MAX_U64_HI) throw invalid(`${this._frame} field ${field} exceeds 2^53`);
    this._pos += 8;
    return hi * TWO_32 + lo;
  }

  /** u16 byte length + UTF-8 bytes (must be valid UTF-8). */
  str(field: string): string {
    const n = this.u16(field);
    this._need(n, field);
    const bytes = this._buf.subarray(this._pos, this._pos + n);
    this._pos += n;
    try {
      return utf8.decode(bytes);
    } catch {
      throw invalid(`${this._frame} field ${field} is not valid UTF-8`);
    }
  }

  bytes(n: number, field: string): Buffer {
    this._need(n, field);
    const out = this._buf.subarray(this._pos, this._pos + n);
    this._pos += n;
    return out;
  }

  rest(): Buffer {
    const out = this._buf.subarray(this._pos);
    this._pos = this._buf.length;
    return out;
  }

  /** Fails unless the whole body was consumed. */
  end(): void {
    if (this._pos !== this._buf.length) throw invalid(`${this._frame} has ${this._buf.length - this._pos} trailing bytes`);
  }
}

/** Byte length of a u16-prefixed string field; throws when it does not fit in 65535 bytes. */
export function strFieldBytes(s: string, field: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 0xffff) {
    throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: ${field} is ${n} bytes of UTF-8, the limit is 65535`);
  }
  return 2 + n;
}

export function writeStr(buf: Buffer, pos: number, s: string): number {
  const n = buf.write(s, pos + 2, 'utf8');
  buf.writeUInt16BE(n, pos);
  return pos + 2 + n;
}

export function writeU64(buf: Buffer, pos: number, v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new LogshipError('LS_FRAME_INVALID', `cannot encode ship frame: ${field} must be a non-negative safe integer, got ${v}`);
  }
  buf.writeUInt32BE(Math.floor(v / TWO_32), pos);
  buf.writeUInt32BE(v >>> 0, pos + 4);
  return pos + 8;
}
