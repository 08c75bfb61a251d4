// Sequence checker for the fault tests: reads every file a server wrote and tells, per source
// (one writer file or one syslog sender), which sequence numbers arrived, which are missing, which
// came more than once and which came out of order. Test code only; reads files, writes nothing.
//
// A checked line carries its source id and its sequence number as `#<id> <9 digits>` anywhere in
// the line (so raw syslog lines, header included, are checked the same way):
//
//   #F07 000012345 xxxxxxxx…          (a file source line, written as is)
//   <134>1 … app - - - #S00 000000042 xxxx…   (a syslog message, written raw)
//
// Per source:  counts[seq] (Uint16Array)  prevMax (highest seq seen so far)
//   count 0 after the scan        → missing   (reported as ranges)
//   count > 1                     → duplicate (reported as ranges, with the extra copies)
//   first copy of seq < prevMax   → out of order (count, and the first few places)

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';

/** Inclusive range of sequence numbers. */
export interface SeqRange {
  readonly from: number;
  readonly to: number;
}

export interface DuplicateRange extends SeqRange {
  /** Extra copies in the range (a line seen 3 times counts 2). */
  readonly extra: number;
}

export interface OrderViolation {
  readonly file: string;
  /** 1-based line number in that file. */
  readonly line: number;
  readonly seq: number;
  /** Highest sequence number of this source seen before it. */
  readonly after: number;
}

export interface SourceReport {
  readonly id: string;
  readonly expected: number;
  /** Lines of this source found (duplicates included). */
  readonly received: number;
  readonly missingCount: number;
  readonly missing: readonly SeqRange[];
  readonly duplicateCount: number;
  readonly duplicates: readonly DuplicateRange[];
  readonly outOfOrderCount: number;
  /** The first few order violations. */
  readonly outOfOrder: readonly OrderViolation[];
  /** Lines with a sequence number at or past `expected`. */
  readonly beyond: number;
  /** Server files (relative to the output directory) holding lines of this source. */
  readonly files: readonly string[];
}

export interface SequenceReport {
  readonly sources: readonly SourceReport[];
  readonly totalExpected: number;
  readonly totalReceived: number;
  readonly totalMissing: number;
  readonly totalDuplicates: number;
  readonly totalOutOfOrder: number;
  readonly totalBeyond: number;
  /** Lines without a `#<id> <seq>` marker, or with an id that was not expected. */
  readonly foreignLines: number;
  readonly foreignSamples: readonly string[];
  /** Sources whose lines are spread over more than one server file (order across files is undefined). */
  readonly splitSources: readonly string[];
}

const MARKER = /#([A-Za-z0-9_-]+) (\d{9})(?: |$)/;
const MAX_RANGES = 20;
const MAX_VIOLATIONS = 5;

async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * Total bytes of the regular files under `dir` (0 when it does not exist): a cheap progress probe.
 * `keep`: only the files whose name (not path) it accepts.
 */
export async function outputBytes(dir: string, keep?: (name: string) => boolean): Promise<number> {
  let total = 0;
  for (const f of await listFiles(dir)) {
    if (keep !== undefined && !keep(basename(f))) continue;
    try {
      total += (await stat(f)).size;
    } catch {
      // removed in between
    }
  }
  return total;
}

interface SourceState {
  readonly counts: Uint16Array;
  prevMax: number;
  received: number;
  outOfOrderCount: number;
  readonly outOfOrder: OrderViolation[];
  beyond: number;
  readonly files: Set<string>;
}

/** Ranges of sequence numbers whose count `pick`s (the first MAX_RANGES), their total, their extra copies. */
function ranges(counts: Uint16Array, pick: (c: number) => boolean): { list: SeqRange[]; total: number; extra: number } {
  const list: SeqRange[] = [];
  let total = 0;
  let extra = 0;
  let start = -1;
  for (let i = 0; i <= counts.length; i++) {
    const hit = i < counts.length && pick(counts[i]!);
    if (hit) {
      total++;
      if (counts[i]! > 1) extra += counts[i]! - 1;
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (list.length < MAX_RANGES) list.push({ from: start, to: i - 1 });
      start = -1;
    }
  }
  return { list, total, extra };
}

/**
 * Scans every file under `outDir`. `expected` maps each source id to its number of lines
 * (sequence numbers 0 … n-1).
 */
export async function checkSequences(outDir: string, expected: ReadonlyMap<string, number>): Promise<SequenceReport> {
  const states = new Map<string, SourceState>();
  for (const [id, n] of expected) {
    states.set(id, { counts: new Uint16Array(n), prevMax: -1, received: 0, outOfOrderCount: 0, outOfOrder: [], beyond: 0, files: new Set() });
  }
  let foreignLines = 0;
  const foreignSamples: string[] = [];
  for (const file of await listFiles(outDir)) {
    const rel = relative(outDir, file);
    const buf = await readFile(file);
    let start = 0;
    let lineNo = 0;
    while (start < buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      lineNo++;
      const text = buf.toString('latin1', start, end);
      start = end + 1;
      const m = MARKER.exec(text);
      const st = m === null ? undefined : states.get(m[1]!);
      if (m === null || st === undefined) {
        foreignLines++;
        if (foreignSamples.length < 5) foreignSamples.push(`${rel}:${lineNo}: ${text.slice(0, 120)}`);
        continue;
      }
      const seq = Number(m[2]);
      st.received++;
      st.files.add(rel);
      if (seq >= st.counts.length) {
        st.beyond++;
        continue;
      }
      const first = st.counts[seq] === 0;
      if (st.counts[seq]! < 0xffff) st.counts[seq]!++;
      if (first && seq < st.prevMax) {
        st.outOfOrderCount++;
        if (st.outOfOrder.length < MAX_VIOLATIONS) st.outOfOrder.push({ file: rel, line: lineNo, seq, after: st.prevMax });
      }
      if (seq > st.prevMax) st.prevMax = seq;
    }
  }
  const sources: SourceReport[] = [];
  const splitSources: string[] = [];
  for (const [id, st] of states) {
    const miss = ranges(st.counts, (c) => c === 0);
    const dup = ranges(st.counts, (c) => c > 1);
    const duplicates: DuplicateRange[] = dup.list.map((r) => {
      let extra = 0;
      for (let i = r.from; i <= r.to; i++) extra += st.counts[i]! - 1;
      return { ...r, extra };
    });
    if (st.files.size > 1) splitSources.push(id);
    sources.push({
      id,
      expected: st.counts.length,
      received: st.received,
      missingCount: miss.total,
      missing: miss.list,
      duplicateCount: dup.extra,
      duplicates,
      outOfOrderCount: st.outOfOrderCount,
      outOfOrder: st.outOfOrder,
      beyond: st.beyond,
      files: [...st.files].sort(),
    });
  }
  const sum = (f: (s: SourceReport) => number): number => sources.reduce((a, s) => a + f(s), 0);
  return {
    sources,
    totalExpected: sum((s) => s.expected),
    totalReceived: sum((s) => s.received),
    totalMissing: sum((s) => s.missingCount),
    totalDuplicates: sum((s) => s.duplicateCount),
    totalOutOfOrder: sum((s) => s.outOfOrderCount),
    totalBeyond: sum((s) => s.beyond),
    foreignLines,
    foreignSamples,
    splitSources,
  };
}

const fmtRange = (r: SeqRange): string => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);

/** A readable account of everything wrong (or a one-line summary when nothing is). */
export function formatReport(r: SequenceReport): string {
  const out: string[] = [
    `expected ${r.totalExpected}, received ${r.totalReceived}: missing ${r.totalMissing}, duplicates ${r.totalDuplicates}, ` +
      `out of order ${r.totalOutOfOrder}, beyond ${r.totalBeyond}, foreign ${r.foreignLines}`,
  ];
  for (const s of r.sources) {
    const bad = s.missingCount + s.duplicateCount + s.outOfOrderCount + s.beyond > 0 || s.files.length > 1;
    if (!bad) continue;
    const parts = [`  ${s.id}: ${s.received}/${s.expected}`];
    if (s.missingCount > 0) parts.push(`missing ${s.missingCount} [${s.missing.map(fmtRange).join(', ')}${s.missing.length >= MAX_RANGES ? ', …' : ''}]`);
    if (s.duplicateCount > 0) {
      parts.push(`duplicates ${s.duplicateCount} [${s.duplicates.map((d) => `${fmtRange(d)}(+${d.extra})`).join(', ')}${s.duplicates.length >= MAX_RANGES ? ', …' : ''}]`);
    }
    if (s.outOfOrderCount > 0) {
      parts.push(`out of order ${s.outOfOrderCount} [${s.outOfOrder.map((v) => `${v.file}:${v.line} seq ${v.seq} after ${v.after}`).join('; ')}]`);
    }
    if (s.beyond > 0) parts.push(`beyond the end ${s.beyond}`);
    if (s.files.length > 1) parts.push(`spread over ${s.files.join(', ')}`);
    out.push(parts.join('; '));
  }
  for (const f of r.foreignSamples) out.push(`  foreign line: ${f}`);
  return out.join('\n');
}

/** Every line of every source exactly once, in order, and nothing else. */
export function isExactlyOnce(r: SequenceReport): boolean {
  return (
    r.totalMissing === 0 &&
    r.totalDuplicates === 0 &&
    r.totalOutOfOrder === 0 &&
    r.totalBeyond === 0 &&
    r.foreignLines === 0 &&
    r.splitSources.length === 0
  );
}

/** Every line of every source exactly once and nothing else; the order within a source may differ. */
export function isOnceInAnyOrder(r: SequenceReport): boolean {
  return r.totalMissing === 0 && r.totalDuplicates === 0 && r.totalBeyond === 0 && r.foreignLines === 0 && r.splitSources.length === 0;
}

/** Whatever arrived arrived once and in order, and exactly `dropped` lines are missing. */
export function isExactlyDropped(r: SequenceReport, dropped: number): boolean {
  return (
    r.totalMissing === dropped &&
    r.totalDuplicates === 0 &&
    r.totalOutOfOrder === 0 &&
    r.totalBeyond === 0 &&
    r.foreignLines === 0 &&
    r.splitSources.length === 0
  );
}
