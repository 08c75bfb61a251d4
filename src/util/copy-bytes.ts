// Copying a run of bytes between buffers on the hot path: short runs byte by byte (cheaper than a
// native call below SMALL_COPY bytes), longer ones with one TypedArray.set.

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
