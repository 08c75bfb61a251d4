// Copying a run of bytes between buffers on the hot path: short runs byte by byte (cheaper than a
// native call below SMALL_COPY bytes), longer ones natively. A copy between different buffers
// needs a view object for TypedArray.set (Buffer.copy makes one too): about 80 bytes of garbage
// per call. A copy within one view is a copyWithin, which allocates nothing and takes half the
// time; so a caller copying many runs from one buffer (the file destination's formatter) puts the
// source inside the output's view, finds where once (baseIn), and copies with copyAt.

/** Runs up to this long are copied byte by byte. */
export const SMALL_COPY = 32;

/** Copies src[s, e) to out at `at`; returns the new end. */
export function copyBytes(out: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n > SMALL_COPY) {
    out.set(new Uint8Array(src.buffer, src.byteOffset + s, n), at);
    return at + n;
  }
  while (s < e) out[at++] = src[s++]!;
  return at;
}

/** Where src lies within out's view (src[i] is out[base + i]), or -1 when it does not. */
export function baseIn(out: Uint8Array, src: Uint8Array): number {
  if (src.buffer !== out.buffer) return -1;
  const base = src.byteOffset - out.byteOffset;
  return base >= 0 && base + src.length <= out.length ? base : -1;
}

/** copyBytes for a src at `base` within out's view (see baseIn; -1: elsewhere). */
export function copyAt(out: Uint8Array, at: number, base: number, src: Uint8Array, s: number, e: number): number {
  if (base < 0 || e - s <= SMALL_COPY) return copyBytes(out, at, src, s, e);
  out.copyWithin(at, base + s, base + e);
  return at + e - s;
}
