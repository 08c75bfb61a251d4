// Copying a run of bytes between buffers on the hot path: short runs byte by byte (cheaper than a
// native call below SMALL_COPY bytes), longer ones natively. A copy between two views of one
// ArrayBuffer is a copyWithin, which allocates nothing; one between different buffers needs a
// view object for TypedArray.set (Buffer.copy makes one too), about 80 bytes of garbage per call.
// A caller copying many runs from one buffer (the file destination's formatter) therefore puts
// source and output in one ArrayBuffer.

/** Runs up to this long are copied byte by byte. */
export const SMALL_COPY = 32;

/** Copies src[s, e) to out at `at`; returns the new end. */
export function copyBytes(out: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n > SMALL_COPY) {
    if (src.buffer === out.buffer) {
      const base = src.byteOffset - out.byteOffset;
      if (base + s >= 0 && base + e <= out.length) {
        out.copyWithin(at, base + s, base + e);
        return at + n;
      }
    }
    out.set(new Uint8Array(src.buffer, src.byteOffset + s, n), at);
    return at + n;
  }
  while (s < e) out[at++] = src[s++]!;
  return at;
}
