// The PRI part, "<" PRIVAL ">" (RFC 5424 §6.2.1, RFC 3164 §4.1.1): PRIVAL = facility * 8 +
// severity, 1 to 3 digits, at most 191. Bytes only; no I/O here.

import type { BufferWriter } from '../../util/buffer-writer.js';

/** Highest valid PRIVAL: facility 23 (local7) * 8 + severity 7 (debug). */
export const MAX_PRI = 191;

/** parsePri() result for a "<" that does not open a valid PRI (bad digits, no ">", > 191). */
export const PRI_MALFORMED = -1;

/**
 * Reads a PRI at data[p] (which must be "<"). Returns PRI_MALFORMED or `prival | (length << 8)`,
 * where length counts "<" through ">". Leading zeros are tolerated ("<013>"), as rsyslog does.
 */
export function parsePri(data: Uint8Array, p: number, e: number): number {
  let v = 0;
  let q = p + 1;
  const lim = Math.min(e, p + 4);
  for (; q < lim; q++) {
    const d = data[q]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (q === p + 1 || q >= e || data[q] !== 0x3e || v > MAX_PRI) return PRI_MALFORMED;
  return v | ((q + 1 - p) << 8);
}

/** Writes "<PRI>". */
export function writePri(out: BufferWriter, pri: number): void {
  out.byte(0x3c);
  out.uint(pri);
  out.byte(0x3e);
}
