// Octet-counting framing of syslog over a byte stream (RFC 6587 §3.4.1, also RFC 5425 §4.3):
//
//   SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG        MSG-LEN = NONZERO-DIGIT *DIGIT
//
// A pure pull-style deframer over Buffers (see newline.ts for the buffering and the record
// contract). No sockets, no timers.
//
//   state:  START ──digit──► COUNT ──SP──► MSG ──(MSG-LEN bytes read)──► START
//             │  LF/CR/NUL/SP between frames: skipped      │ longer than maxMessageBytes:
//             │                                           ├─ truncate: first piece, then SKIP the rest
//             │                                           └─ split: one record per piece
//             └─other byte──► LINE (an LF-terminated message, §3.4.2) ──LF──► START
//                             (only with allowNonTransparent; else the framing is broken)
//
// Mixing per message (allowNonTransparent, the default) is what rsyslog's imtcp does: a frame that
// does not start with a digit cannot be an octet count, so it is read as a non-transparent frame.
// A count not followed by SP, or a count larger than maxFrameBytes, means the sender is not
// speaking octet counting or lost sync: the stream position is lost, next() throws a LogshipError
// with canContinue=false and the deframer stays failed (the caller closes that connection).
// A count up to maxFrameBytes but above maxMessageBytes is an oversize message: the stream stays in
// sync (its length is known), the message is truncated or split like in newline.ts.

import { LogshipError } from '../../core/errors.js';
import { FRAME_FLAG, RecordDeframer, type DeframerOptions } from './newline.js';

export interface OctetCountingOptions extends DeframerOptions {
  /** Read a frame that does not start with a digit as an LF-terminated message (rsyslog does). Default true. */
  readonly allowNonTransparent?: boolean;
  /**
   * Largest MSG-LEN taken as a (possibly oversize) message; a larger count is garbage and breaks
   * the stream. Default: 16 × maxMessageBytes, at least 1 MiB.
   */
  readonly maxFrameBytes?: number;
}

const START = 0;
const COUNT = 1;
const MSG = 2;
const SKIP = 3;
const LINE = 4;
type State = typeof START | typeof COUNT | typeof MSG | typeof SKIP | typeof LINE;

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const D0 = 0x30;
const D1 = 0x31;
const D9 = 0x39;

export function defaultMaxFrameBytes(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes * 16, 1 << 20);
}

/** The error of an octet count above `maxFrameBytes` (also raised for the native TCP reader). */
export function countTooLarge(maxFrameBytes: number): LogshipError {
  return new LogshipError('LS_FRAME_OVERSIZE', `octet count above ${maxFrameBytes} bytes (RFC 6587 §3.4.1): the sender lost sync or does not use octet counting`, {
    canContinue: false,
  });
}

/** The error of an octet count followed by `byte` instead of a space (also for the native TCP reader). */
export function countNotEnded(count: number, byte: number): LogshipError {
  return new LogshipError('LS_FRAME_INVALID', `octet count ${count} followed by byte 0x${hex(byte)} instead of a space (RFC 6587 §3.4.1)`, { canContinue: false });
}

export class OctetCountingDeframer extends RecordDeframer {
  readonly allowNonTransparent: boolean;
  readonly maxFrameBytes: number;
  private _state: State;
  /** COUNT: the MSG-LEN read so far. */
  private _count: number;
  /** MSG/SKIP: bytes of the frame not yet consumed. */
  private _remain: number;
  /** MSG: bytes still needed to complete the current piece (≤ maxMessageBytes). */
  private _pieceLeft: number;
  /** MSG: the frame was already cut once ('split'). */
  private _cut: boolean;
  private _error: LogshipError | null;

  constructor(opts: OctetCountingOptions) {
    super(opts);
    this.allowNonTransparent = opts.allowNonTransparent ?? true;
    this.maxFrameBytes = opts.maxFrameBytes ?? defaultMaxFrameBytes(opts.maxMessageBytes);
    this._state = START;
    this._count = 0;
    this._remain = 0;
    this._pieceLeft = 0;
    this._cut = false;
    this._error = null;
  }

  next(): boolean {
    for (;;) {
      if (this._error !== null) throw this._error;
      if (this._pos >= this._chunk.length && !this._advance()) return false;
      const c = this._chunk;
      switch (this._state) {
        case START: {
          const b = c[this._pos]!;
          if (b === LF || b === CR || b === NUL || b === SP) {
            this._pos++;
          } else if (b >= D1 && b <= D9) {
            this._state = COUNT;
            this._count = b - D0;
            this._pos++;
          } else if (this.allowNonTransparent) {
            this._state = LINE;
          } else {
            this._fail(new LogshipError('LS_FRAME_INVALID', `frame starts with byte 0x${hex(b)}, not with an octet count (RFC 6587 §3.4.1)`, { canContinue: false }));
          }
          break;
        }
        case COUNT: {
          while (this._pos < c.length) {
            const b = c[this._pos++]!;
            if (b >= D0 && b <= D9) {
              this._count = this._count * 10 + (b - D0);
              if (this._count > this.maxFrameBytes) this._fail(countTooLarge(this.maxFrameBytes));
            } else if (b === SP) {
              this._state = MSG;
              this._remain = this._count;
              this._pieceLeft = Math.min(this._count, this.maxMessageBytes);
              this._cut = false;
              break;
            } else {
              this._fail(countNotEnded(this._count, b));
            }
          }
          break;
        }
        case MSG: {
          if (this._readPiece()) return true;
          break;
        }
        case SKIP: {
          const take = Math.min(c.length - this._pos, this._remain);
          this._pos += take;
          this._remain -= take;
          if (this._remain === 0) this._state = START;
          break;
        }
        case LINE: {
          const r = this._scanLine();
          if (r >= 0 && !this._discardLine && !this._lineCut) this._state = START;
          if (r === 1) return true;
          break;
        }
      }
    }
  }

  finish(): boolean {
    if (this._error !== null || this.bufferedBytes - this._carryLen > 0) return false;
    const state = this._state;
    this._state = START;
    if (state === LINE) return this._finishLine();
    if (state === MSG && this._carryLen > 0) return this._setCarry(FRAME_FLAG.PARTIAL | (this._cut ? FRAME_FLAG.SPLIT : 0));
    this._carryLen = 0;
    return false;
  }

  override reset(): void {
    super.reset();
    this._state = START;
    this._count = 0;
    this._remain = 0;
    this._pieceLeft = 0;
    this._cut = false;
  }

  /** MSG: gather the current piece; true when a record is set. */
  private _readPiece(): boolean {
    const c = this._chunk;
    const p = this._pos;
    const take = Math.min(c.length - p, this._pieceLeft);
    const direct = this._carryLen === 0 && take === this._pieceLeft;
    if (!direct) this._toCarry(c, p, p + take);
    this._pos = p + take;
    this._remain -= take;
    this._pieceLeft -= take;
    if (this._pieceLeft > 0) return false;
    let flags: number;
    if (this._remain === 0) {
      flags = this._cut ? FRAME_FLAG.SPLIT : 0;
      this._state = START;
    } else if (this.oversize === 'truncate') {
      flags = FRAME_FLAG.OVERSIZE | FRAME_FLAG.TRUNCATED;
      this._state = SKIP;
    } else {
      flags = (this._cut ? 0 : FRAME_FLAG.OVERSIZE) | FRAME_FLAG.SPLIT;
      this._cut = true;
      this._pieceLeft = Math.min(this._remain, this.maxMessageBytes);
    }
    return direct ? this._set(c, p, p + take, flags) : this._setCarry(flags);
  }

  private _fail(err: LogshipError): never {
    this.reset();
    this._error = err;
    throw err;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
