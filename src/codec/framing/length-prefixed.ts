// Length-prefixed framing (the ship protocol's, docs/protocol.md §2): a pure state machine over
// Buffers. Feed it chunks as they arrive, pull whole frames out. No sockets, no timers.
//
//   | u32 BE length | u8 type | body (length - 1 bytes) |
//   <---- 4 ----->  <------------ length ------------->
//
// Buffered chunks (the head one consumed from `_headOff`):
//
//   _chunks: [ chunk0 (from _headOff) ][ chunk1 ][ chunk2 ] ...   _buffered = bytes not yet taken
//
// A frame that lies inside one chunk is returned as a view of it (no copy); one that spans chunks
// is gathered into a new Buffer. Memory is bounded by `maxFrameBytes` plus whatever the caller
// feeds before pulling again (callers pause their socket while they process).

import { LogshipError } from '../../core/errors.js';

export const FRAME_HEADER_BYTES = 5;
/** Default bound of the length field (type + body): 64 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface RawFrame {
  readonly type: number;
  readonly body: Buffer;
}

/** The 5-byte header of a frame whose body is `bodyLength` bytes. */
export function frameHeader(type: number, bodyLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(bodyLength + 1, 0);
  h.writeUInt8(type, 4);
  return h;
}

/** One whole frame: header + body, in one Buffer. */
export function encodeRawFrame(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out.writeUInt8(type, 4);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

function checkMax(maxFrameBytes: number): void {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > 0xffffffff) {
    throw new LogshipError('LS_INTERNAL', `maxFrameBytes must be an integer in 1..2^32-1, got ${maxFrameBytes}`);
  }
}

export class LengthPrefixedDeframer {
  private _max: number;
  private _chunks: Buffer[];
  private _headOff: number;
  private _buffered: number;
  /** Set once a frame header was bad: the stream position is lost, every later call fails. */
  private _error: LogshipError | null;

  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    checkMax(maxFrameBytes);
    this._max = maxFrameBytes;
    this._chunks = [];
    this._headOff = 0;
    this._buffered = 0;
    this._error = null;
  }

  /** The bound of a frame's length field (type + body). */
  get maxFrameBytes(): number {
    return this._max;
  }

  /**
   * Changes the bound for the frames not yet returned (a receiver keeps it small until the
   * peer's HELLO is accepted, then raises it to max_frame_bytes).
   */
  setMaxFrameBytes(maxFrameBytes: number): void {
    checkMax(maxFrameBytes);
    this._max = maxFrameBytes;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this._buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this._chunks.push(chunk);
    this._buffered += chunk.length;
  }

  /**
   * The next whole frame, or null when more bytes are needed.
   * Throws LS_FRAME_OVERSIZE / LS_FRAME_INVALID (canContinue=false) on a bad header; the deframer
   * then stays failed.
   */
  next(): RawFrame | null {
    if (this._error !== null) throw this._error;
    if (this._buffered < 4) return null;
    const length = this._readU32();
    if (length === 0) {
      this._error = new LogshipError('LS_FRAME_INVALID', 'ship frame has length 0 (a frame holds at least its type byte); closing the connection', {
        canContinue: false,
      });
      throw this._error;
    }
    if (length > this.maxFrameBytes) {
      this._error = new LogshipError(
        'LS_FRAME_OVERSIZE',
        `ship frame of ${length} bytes exceeds max_frame_bytes (${this.maxFrameBytes}); closing the connection (raise max_frame_bytes on the listener if the peer is legitimate)`,
        { canContinue: false },
      );
      throw this._error;
    }
    if (this._buffered < 4 + length) return null;
    const frame = this._take(4 + length);
    return { type: frame[4]!, body: frame.subarray(FRAME_HEADER_BYTES) };
  }

  /** Drop everything buffered (the connection is gone). */
  reset(): void {
    this._chunks = [];
    this._headOff = 0;
    this._buffered = 0;
  }

  private _readU32(): number {
    const head = this._chunks[0]!;
    if (head.length - this._headOff >= 4) return head.readUInt32BE(this._headOff);
    // The length field spans chunks: gather its 4 bytes.
    let v = 0;
    let got = 0;
    for (let c = 0; got < 4; c++) {
      const chunk = this._chunks[c]!;
      for (let i = c === 0 ? this._headOff : 0; i < chunk.length && got < 4; i++, got++) v = v * 256 + chunk[i]!;
    }
    return v;
  }

  /** Remove and return the next n bytes (n <= _buffered). */
  private _take(n: number): Buffer {
    this._buffered -= n;
    const head = this._chunks[0]!;
    const avail = head.length - this._headOff;
    if (avail >= n) {
      const out = head.subarray(this._headOff, this._headOff + n);
      if (avail === n) {
        this._chunks.shift();
        this._headOff = 0;
      } else {
        this._headOff += n;
      }
      return out;
    }
    // The frame spans chunks: gather it, then drop the chunks it used up in one splice.
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let c = 0;
    let off = this._headOff;
    while (filled < n) {
      const chunk = this._chunks[c]!;
      const want = n - filled;
      const have = chunk.length - off;
      if (have <= want) {
        chunk.copy(out, filled, off);
        filled += have;
        c++;
        off = 0;
      } else {
        chunk.copy(out, filled, off, off + want);
        filled += want;
        off += want;
      }
    }
    this._chunks.splice(0, c);
    this._headOff = off;
    return out;
  }
}
