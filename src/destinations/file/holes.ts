// Holes of a stream: ranges below its high-water mark that were skipped (written past after a
// reorder wait) and will still be written when they arrive. Flat ascending [start, end) pairs,
// disjoint and non-empty. Pure functions: no I/O.

/** Whether stream offset `off` lies in a hole. */
export function inHoles(holes: readonly number[], off: number): boolean {
  for (let i = 0; i < holes.length; i += 2) {
    if (off < holes[i]!) return false;
    if (off < holes[i + 1]!) return true;
  }
  return false;
}

/** Whether [start, end) meets a hole. */
export function overlapsHoles(holes: readonly number[], start: number, end: number): boolean {
  for (let i = 0; i < holes.length; i += 2) if (holes[i]! < end && start < holes[i + 1]!) return true;
  return false;
}

/** The holes without [start, end). */
export function subtractRange(holes: readonly number[], start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < holes.length; i += 2) {
    const s = holes[i]!;
    const e = holes[i + 1]!;
    if (e <= start || end <= s) {
      out.push(s, e);
      continue;
    }
    if (s < start) out.push(s, start);
    if (end < e) out.push(end, e);
  }
  return out;
}

/**
 * The holes with [start, end) added (it lies past every hole: the hw moves on). Past `max` holes
 * the oldest are forgotten; `dropped` counts them.
 */
export function addHole(holes: readonly number[], start: number, end: number, max: number): { holes: number[]; dropped: number } {
  const out = holes.slice();
  const n = out.length;
  if (n > 0 && out[n - 1]! >= start) out[n - 1] = Math.max(out[n - 1]!, end);
  else if (start < end) out.push(start, end);
  const dropped = Math.max(0, out.length / 2 - max);
  return { holes: dropped > 0 ? out.slice(dropped * 2) : out, dropped };
}
