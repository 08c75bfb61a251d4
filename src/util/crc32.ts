// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip) of a byte range. Dependency-free: zlib's
// native crc32 where the runtime has it (Node >= 20.15), a table-driven fallback otherwise; both
// give the same values, so files written by one are read by the other.

import * as zlib from 'node:zlib';

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The table-driven CRC-32; exported for the test that checks it against the native one. */
export function crc32Table(buf: Uint8Array, value = 0): number {
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `buf`, continuing from `value` (the CRC of the bytes before it) when given. */
export const crc32: (buf: Uint8Array, value?: number) => number = typeof native === 'function' ? (buf, value = 0) => native(buf, value) : crc32Table;
