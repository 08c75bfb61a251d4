// Record boundaries of a chunk of file bytes: whole lines, long lines split. Pure; no fs here.
//
//   chunk:  | line\n | loooooooong line ...\n | partial (no \n yet) |
//           0      e0   e1 (cut at max)     e2                     data.length
//                                            ^ consumed: the partial is held (re-read later)
//
// A line's text is its bytes without the "\n". A text longer than maxLineBytes is cut into records
// of exactly maxLineBytes bytes; the last piece keeps the "\n". Because cuts are made at fixed
// distances from the line start, re-reading a held partial from its start gives the same cuts.

export interface SplitResult {
  /** End (exclusive) of each record inside the chunk. */
  readonly ends: Uint32Array;
  /** Bytes covered by the records (the held partial starts here). */
  readonly consumed: number;
  /** How many cuts were made in lines longer than maxLineBytes. */
  readonly splits: number;
}

let scratch = new Uint32Array(4096);

function grow(): void {
  const next = new Uint32Array(scratch.length * 2);
  next.set(scratch);
  scratch = next;
}

/**
 * Split `data` into records. The trailing bytes without a "\n" (at most maxLineBytes after cuts)
 * are held, unless `flushPartial`, in which case they become a last record.
 */
export function splitRecords(data: Buffer, maxLineBytes: number, flushPartial: boolean): SplitResult {
  let n = 0;
  let splits = 0;
  let start = 0;
  const len = data.length;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    const textEnd = nl === -1 ? len : nl;
    while (textEnd - start > maxLineBytes) {
      if (n === scratch.length) grow();
      start += maxLineBytes;
      scratch[n++] = start;
      splits++;
    }
    if (nl === -1) break;
    if (n === scratch.length) grow();
    start = nl + 1;
    scratch[n++] = start;
  }
  if (flushPartial && start < len) {
    if (n === scratch.length) grow();
    scratch[n++] = len;
    start = len;
  }
  return { ends: scratch.slice(0, n), consumed: start, splits };
}
