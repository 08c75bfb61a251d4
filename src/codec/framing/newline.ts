// Non-transparent framing of syslog over a byte stream (RFC 6587 §3.4.2): every message ends at a
// TRAILER, here LF. A pure pull-style deframer over Buffers: push chunks as they arrive, call
// next() until it returns false. No sockets, no timers.
//
//   chunks: [ chunk0 (from _pos) ][ chunk1 ][ chunk2 ] ...        (queued, not yet scanned)
//   carry:  | partial message whose start arrived in earlier chunks | ... room up to max ... |
//
// A message that lies inside one chunk is returned as a view of that chunk (no copy); one that
// spans chunks is gathered in `carry`, which never holds more than maxMessageBytes. The current
// record is `buf[start, end)` and stays valid until the next call of push(), next() or finish().
//
// Choices (also stated in the syslog-tcp options, hence docs/config.md):
// - Only LF ends a frame. NUL is NOT a trailer: NUL bytes inside a message are kept as bytes
//   (rsyslog and syslog-ng also frame on LF only by default).
// - Trailing CR, NUL and LF bytes are stripped from every record ("msg\r\n", "msg\0\n"), and a
//   record that is empty after stripping is skipped (blank lines between messages).
// - A message longer than maxMessageBytes is cut at that size: 'truncate' keeps the first piece and
//   discards the rest up to the next LF; 'split' returns every piece as its own record. The record
//   where the cut happened carries FRAME_FLAG.OVERSIZE, so the caller counts each such message once.

/** Bits of `RecordDeframer.flags` describing the current record. */
export const FRAME_FLAG = {
  /** The message was longer than maxMessageBytes; this is its first piece. */
  OVERSIZE: 1,
  /** The rest of the message after this record was discarded ('truncate'). */
  TRUNCATED: 2,
  /** This record is one piece of a message cut into several ('split'). */
  SPLIT: 4,
  /** The stream ended (finish()) before the message's terminator. */
  PARTIAL: 8,
} as const;

export type OversizePolicy = 'truncate' | 'split';

export interface DeframerOptions {
  /** Longest record returned, in bytes (without terminator). */
  readonly maxMessageBytes: number;
  /** What to do with a longer message. */
  readonly oversize: OversizePolicy;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

const EMPTY = Buffer.alloc(0);

/**
 * The cursor and buffering shared by the stream deframers of syslog: a queue of chunks, a bounded
 * carry buffer for records that span chunks, and the newline scanner (also used by the
 * octet-counting deframer for frames that do not start with a count).
 */
export abstract class RecordDeframer {
  /** Buffer holding the current record (a chunk, or the carry buffer). */
  buf: Buffer;
  /** Start of the current record inside `buf`. */
  start: number;
  /** End (exclusive) of the current record inside `buf`, trailing CR/LF/NUL removed. */
  end: number;
  /** FRAME_FLAG bits of the current record. */
  flags: number;
  readonly maxMessageBytes: number;
  readonly oversize: OversizePolicy;
  protected _chunk: Buffer;
  protected _pos: number;
  private readonly _queue: Buffer[];
  private _queued: number;
  protected _carry: Buffer;
  protected _carryLen: number;
  /** Newline scanning: discarding the rest of a truncated message up to its LF. */
  protected _discardLine: boolean;
  /** Newline scanning: the current message was already cut once (split pieces after the first). */
  protected _lineCut: boolean;

  constructor(opts: DeframerOptions) {
    if (!Number.isInteger(opts.maxMessageBytes) || opts.maxMessageBytes < 1) {
      throw new RangeError(`maxMessageBytes must be a positive integer, got ${opts.maxMessageBytes}`);
    }
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
    this.flags = 0;
    this.maxMessageBytes = opts.maxMessageBytes;
    this.oversize = opts.oversize;
    this._chunk = EMPTY;
    this._pos = 0;
    this._queue = [];
    this._queued = 0;
    this._carry = EMPTY;
    this._carryLen = 0;
    this._discardLine = false;
    this._lineCut = false;
  }

  /**
   * True when the current record lies in a received chunk, which the deframer never writes (its
   * bytes stay as they are for as long as the caller holds the chunk); false when it lies in the
   * carry buffer, which the next record that spans chunks overwrites.
   */
  get stable(): boolean {
    return this.buf !== this._carry;
  }

  /** Bytes received and not yet returned (queued chunks, unread part of the current one, carry). */
  get bufferedBytes(): number {
    return this._queued + (this._chunk.length - this._pos) + this._carryLen;
  }

  /** Queue a chunk (the current record stays valid). Callers bound what they push by pausing their input. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this._pos >= this._chunk.length && this._queue.length === 0) {
      this._chunk = chunk;
      this._pos = 0;
      return;
    }
    this._queue.push(chunk);
    this._queued += chunk.length;
  }

  /**
   * Advance to the next whole record: true and `buf/start/end/flags` set, or false when more bytes
   * are needed. Throws a LogshipError (canContinue=false) when the framing is broken; the deframer
   * then stays failed.
   */
  abstract next(): boolean;

  /**
   * End of stream: after next() has returned false, returns the unterminated last message (once)
   * with FRAME_FLAG.PARTIAL, or false when there is none.
   */
  abstract finish(): boolean;

  /** Forget everything buffered (the connection is gone). */
  reset(): void {
    this._chunk = EMPTY;
    this._pos = 0;
    this._queue.length = 0;
    this._queued = 0;
    this._carryLen = 0;
    this._discardLine = false;
    this._lineCut = false;
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
    this.flags = 0;
  }

  /** Make the next queued chunk current; false when nothing is left. */
  protected _advance(): boolean {
    while (this._pos >= this._chunk.length) {
      const next = this._queue.shift();
      if (next === undefined) {
        this._chunk = EMPTY;
        this._pos = 0;
        return false;
      }
      this._queued -= next.length;
      this._chunk = next;
      this._pos = 0;
    }
    return true;
  }

  /** Append src[from, to) to carry (the caller keeps _carryLen + (to - from) <= maxMessageBytes). */
  protected _toCarry(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this._carryLen + n > this._carry.length) {
      const size = Math.min(this.maxMessageBytes, Math.max(this._carry.length * 2, this._carryLen + n, 256));
      const grown = Buffer.allocUnsafe(size);
      this._carry.copy(grown, 0, 0, this._carryLen);
      this._carry = grown;
    }
    src.copy(this._carry, this._carryLen, from, to);
    this._carryLen += n;
  }

  /** Set the current record to buf[start, end) minus trailing CR/LF/NUL; false if that is empty. */
  protected _set(buf: Buffer, start: number, end: number, flags: number): boolean {
    while (end > start) {
      const c = buf[end - 1];
      if (c !== LF && c !== CR && c !== NUL) break;
      end--;
    }
    if (end === start) return false;
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.flags = flags;
    return true;
  }

  /** The carry buffer as the current record (and empty it for the next message). */
  protected _setCarry(flags: number): boolean {
    const n = this._carryLen;
    this._carryLen = 0;
    return this._set(this._carry, 0, n, flags);
  }

  /**
   * Scan one LF-terminated message from the current chunk (RFC 6587 §3.4.2).
   * Returns 1 when a record is set, 0 when the message ended without a record (empty, or the end of
   * a discarded tail), -1 when the chunk is used up without reaching the LF (bytes kept in carry).
   * `_pos` is past the LF when the message ended.
   */
  protected _scanLine(): -1 | 0 | 1 {
    const c = this._chunk;
    const p = this._pos;
    const lf = c.indexOf(LF, p);
    const stop = lf === -1 ? c.length : lf;
    if (this._discardLine) {
      if (lf === -1) {
        this._pos = c.length;
        return -1;
      }
      this._discardLine = false;
      this._lineCut = false;
      this._pos = lf + 1;
      return 0;
    }
    const room = this.maxMessageBytes - this._carryLen;
    if (stop - p <= room) {
      if (lf === -1) {
        this._toCarry(c, p, stop);
        this._pos = stop;
        return -1;
      }
      this._pos = lf + 1;
      const cut = this._lineCut ? FRAME_FLAG.SPLIT : 0;
      this._lineCut = false;
      if (this._carryLen === 0) return this._set(c, p, lf, cut) ? 1 : 0;
      this._toCarry(c, p, lf);
      return this._setCarry(cut) ? 1 : 0;
    }
    // Longer than maxMessageBytes: cut here.
    const first = !this._lineCut;
    const flags = (first ? FRAME_FLAG.OVERSIZE : 0) | (this.oversize === 'truncate' ? FRAME_FLAG.TRUNCATED : FRAME_FLAG.SPLIT);
    const cutAt = p + room;
    this._pos = cutAt;
    if (this.oversize === 'truncate') this._discardLine = true;
    else this._lineCut = true;
    if (this._carryLen === 0) return this._set(c, p, cutAt, flags) ? 1 : 0;
    this._toCarry(c, p, cutAt);
    return this._setCarry(flags) ? 1 : 0;
  }

  /** finish() for a message being scanned by _scanLine(). */
  protected _finishLine(): boolean {
    if (this._discardLine) {
      this._discardLine = false;
      this._lineCut = false;
      return false;
    }
    const flags = FRAME_FLAG.PARTIAL | (this._lineCut ? FRAME_FLAG.SPLIT : 0);
    this._lineCut = false;
    return this._carryLen > 0 && this._setCarry(flags);
  }
}

/** RFC 6587 §3.4.2 non-transparent framing: one record per LF-terminated message. */
export class NewlineDeframer extends RecordDeframer {
  constructor(opts: DeframerOptions) {
    super(opts);
  }

  next(): boolean {
    for (;;) {
      if (this._pos >= this._chunk.length && !this._advance()) return false;
      if (this._scanLine() === 1) return true;
    }
  }

  finish(): boolean {
    if (this.bufferedBytes - this._carryLen > 0) return false; // next() first
    return this._finishLine();
  }
}
