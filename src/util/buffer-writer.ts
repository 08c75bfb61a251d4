// BufferWriter: a growable byte buffer that formatters append to, so a whole batch is rendered
// into one Buffer without per-line strings. Dependency-free; no I/O here.
//
//   _buf:  | written bytes ............ | free ........................ |
//          0                          _len                        _buf.length
//
// Appends grow _buf by doubling (copying what was written). view() hands out the written bytes
// without a copy; they stay valid until the next append or reset(). reset() keeps the capacity
// for the next batch, unless it grew beyond maxRetainedBytes (one huge batch does not pin its
// memory for the life of the process).

const DEFAULT_INITIAL_BYTES = 64 * 1024;
const DEFAULT_MAX_RETAINED_BYTES = 4 * 1024 * 1024;

export interface BufferWriterOptions {
  /** First allocation, bytes (default 64 KiB). */
  readonly initialBytes?: number;
  /** reset() reallocates the initial size when the buffer grew beyond this (default 4 MiB). */
  readonly maxRetainedBytes?: number;
}

export class BufferWriter {
  private _buf: Buffer;
  private _len: number;
  private readonly _initial: number;
  private readonly _maxRetained: number;

  constructor(opts: BufferWriterOptions = {}) {
    this._initial = Math.max(16, opts.initialBytes ?? DEFAULT_INITIAL_BYTES);
    this._maxRetained = Math.max(this._initial, opts.maxRetainedBytes ?? DEFAULT_MAX_RETAINED_BYTES);
    this._buf = Buffer.allocUnsafe(this._initial);
    this._len = 0;
  }

  /** Bytes written since the last reset(). */
  get length(): number {
    return this._len;
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this._buf.length;
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    const need = this._len + n;
    if (need <= this._buf.length) return;
    let cap = this._buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this._buf.copy(next, 0, 0, this._len);
    this._buf = next;
  }

  byte(b: number): void {
    if (this._len === this._buf.length) this.reserve(1);
    this._buf[this._len++] = b;
  }

  /** Copies src[start, end). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    this.reserve(n);
    if (n < 32) {
      // A native copy costs more than a short loop.
      const buf = this._buf;
      let o = this._len;
      for (let k = start; k < end; k++) buf[o++] = src[k]!;
      this._len = o;
    } else {
      this._buf.set(src.subarray(start, end), this._len);
      this._len += n;
    }
  }

  /** Appends a string as UTF-8. */
  string(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this._buf;
    let o = this._len;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) {
        // Not ASCII: let the native encoder do the rest (up to 3 bytes per UTF-16 unit).
        this._len = o;
        const rest = s.slice(k);
        this.reserve(rest.length * 3);
        this._len += this._buf.write(rest, this._len, 'utf8');
        return;
      }
      buf[o++] = c;
    }
    this._len = o;
  }

  /** Appends a non-negative integer in decimal. */
  uint(v: number): void {
    if (v < 10) {
      this.byte(0x30 + v);
      return;
    }
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    this.reserve(digits);
    let o = this._len + digits;
    this._len = o;
    let x = v;
    do {
      const q = Math.floor(x / 10);
      this._buf[--o] = 0x30 + (x - q * 10);
      x = q;
    } while (x > 0);
  }

  /** Appends v (0..99) as two digits. */
  pad2(v: number): void {
    this.reserve(2);
    const t = (v / 10) | 0;
    this._buf[this._len++] = 0x30 + t;
    this._buf[this._len++] = 0x30 + (v - t * 10);
  }

  /** Appends v as exactly `width` digits (zero-padded, higher digits cut). */
  padN(v: number, width: number): void {
    this.reserve(width);
    let x = v;
    for (let k = this._len + width - 1; k >= this._len; k--) {
      const q = Math.floor(x / 10);
      this._buf[k] = 0x30 + (x - q * 10);
      x = q;
    }
    this._len += width;
  }

  /** Inserts ASCII text at `at` (≤ length), moving what follows; e.g. an octet count before a message. */
  insertAscii(at: number, s: string): void {
    const n = s.length;
    this.reserve(n);
    this._buf.copyWithin(at + n, at, this._len);
    for (let k = 0; k < n; k++) this._buf[at + k] = s.charCodeAt(k) & 0xff;
    this._len += n;
  }

  /** The bytes written so far, without a copy: valid until the next append or reset(). */
  view(): Buffer {
    return this._buf.subarray(0, this._len);
  }

  /** A copy of the bytes written so far (safe to keep across reset()). */
  toBuffer(): Buffer {
    return Buffer.from(this.view());
  }

  /** Empties the writer; keeps its capacity unless that exceeds maxRetainedBytes. */
  reset(): void {
    this._len = 0;
    if (this._buf.length > this._maxRetained) this._buf = Buffer.allocUnsafe(this._initial);
  }
}
