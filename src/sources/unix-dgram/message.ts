// One received message → one record: trailing terminators trimmed, cut to the size limit, and
// kept on one line. Shared by the local sources. Pure byte work: no sockets, no fs.
//
//   "<13>Nov 23 app: a\nb\r\n\0"   ──►  "<13>Nov 23 app: a b"
//                    ^ LF inside: a space        ^^^^^^ trailing CR/LF/NUL: terminators, dropped
//
// Why a space for an inner LF: every record of a Batch is one line ("\n"-terminated; the file
// destination relies on it), so a multi-line message must become one line. A space keeps the
// length (cuts stay where they were) and reads well; syslog-ng's `no-multi-line` flag does the same.
// Other bytes (NUL inside, invalid UTF-8, CR) are kept as they are: the destinations deal with them.

/** Counts of what was changed, for telemetry. */
export interface MessageStats {
  truncated: number;
  /** Bytes cut off by truncation. */
  truncatedBytes: number;
}

/** End of the text without the trailing NUL, LF and CR bytes senders add as terminators. */
export function trimTerminators(buf: Buffer, start: number, end: number): number {
  while (end > start) {
    const c = buf[end - 1];
    if (c !== 0x00 && c !== 0x0a && c !== 0x0d) break;
    end--;
  }
  return end;
}

let scratch = Buffer.allocUnsafe(0);

/**
 * Prepares bytes [start, end) of `buf` as one record and hands it to `add`: terminators trimmed,
 * cut to `maxBytes` (counted in `stats`), inner LFs made spaces (on a copy: `buf` is not changed).
 * Empty messages are skipped. Returns whether a record was added.
 */
export function addMessage(
  add: (src: Buffer, start: number, end: number) => void,
  buf: Buffer,
  start: number,
  end: number,
  maxBytes: number,
  stats: MessageStats,
): boolean {
  end = trimTerminators(buf, start, end);
  if (end - start > maxBytes) {
    stats.truncated++;
    stats.truncatedBytes += end - start - maxBytes;
    end = start + maxBytes;
  }
  if (end <= start) return false;
  const lf = buf.indexOf(0x0a, start);
  if (lf === -1 || lf >= end) {
    add(buf, start, end);
    return true;
  }
  const n = end - start;
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, 4096));
  buf.copy(scratch, 0, start, end);
  for (let i = lf - start; i !== -1 && i < n; i = scratch.indexOf(0x0a, i + 1)) scratch[i] = 0x20;
  add(scratch, 0, n);
  return true;
}
