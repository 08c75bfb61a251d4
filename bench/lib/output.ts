// The daemons' output, read back: a watcher that counts the complete lines written so far under a
// directory (to know when a run is finished), and the sequence checker that reads every line after
// the run and counts what was lost, duplicated, foreign or misrouted. Reads files, writes nothing.
//
// A line counts when it holds "seq: " followed by 10 digits (loggen's numbering, also used by our
// generator); the header around it may be anything each daemon writes.
//
//   counts: Uint8Array(expected)   counts[seq]++ (saturating at 255)
//   after the scan:  counts[i] == 0 → lost      counts[i] > 1 → duplicated (counts[i] - 1 extra)

import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { SEQ_DIGITS } from './messages.js';

const NL = 10;
const SEQ = Buffer.from('seq: ');
const READ_BYTES = 8 * 1024 * 1024;

/** Regular files under `root`, recursively (the daemons create per-host folders). */
export function filesUnder(root: string): string[] {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  let i = buf.indexOf(NL, 0);
  while (i !== -1 && i < end) {
    n++;
    i = buf.indexOf(NL, i + 1);
  }
  return n;
}

/**
 * Counts complete lines under a directory, reading only the bytes appended since it last read, and
 * keeps the time of the last write it has seen (the files' mtime): when the run ended, to within the
 * kernel's file-time granularity (a few ms) rather than the poll interval. `look()` only stats the
 * files (what grew, and when); `count()` reads what `look()` saw: the runner reads the output only
 * once it stops growing, so that the watcher's reading (every byte the daemon wrote, a newline
 * search per line) does not take a core from the daemon while it writes.
 */
export class OutputWatcher {
  private _root: string;
  private _files = new Map<string, { fd: number; offset: number; size: number }>();
  private _lines = 0;
  private _lastWriteMs = 0;
  private _buf = Buffer.allocUnsafe(READ_BYTES);

  constructor(root: string) {
    this._root = root;
  }

  get lines(): number {
    return this._lines;
  }

  /** The latest mtime (wall clock, ms since the epoch) of a file seen growing; 0 before any. */
  get lastWriteMs(): number {
    return this._lastWriteMs;
  }

  /** Stats every file (one fstat each, nothing read); true when any grew since the last look. */
  look(): boolean {
    let grew = false;
    for (const f of filesUnder(this._root)) {
      let st = this._files.get(f);
      if (!st) {
        try {
          st = { fd: openSync(f, 'r'), offset: 0, size: 0 };
        } catch {
          continue;
        }
        this._files.set(f, st);
      }
      const { size, mtimeMs } = fstatSync(st.fd);
      if (size > st.size) {
        grew = true;
        st.size = size;
        if (mtimeMs > this._lastWriteMs) this._lastWriteMs = mtimeMs;
      }
    }
    return grew;
  }

  /** Reads the bytes the last look() saw and were not read yet; returns the total of complete lines. */
  count(): number {
    for (const st of this._files.values()) {
      while (st.offset < st.size) {
        const n = readSync(st.fd, this._buf, 0, Math.min(READ_BYTES, st.size - st.offset), st.offset);
        if (n <= 0) break;
        this._lines += countNewlines(this._buf, n);
        st.offset += n;
      }
    }
    return this._lines;
  }

  /** look(), then count(). */
  poll(): number {
    this.look();
    return this.count();
  }

  close(): void {
    for (const st of this._files.values()) closeSync(st.fd);
    this._files.clear();
  }
}

/**
 * The runner's bookkeeping around the watcher: when it reads the output, and when the output last
 * grew in bytes and in lines (the stall clock). It reads at a poll that found nothing grew, at
 * every poll while `eager`, and `readEveryMs` after its last read when the output never stops
 * growing (growth without new lines, a partial line or a loop, must still end the run as a stall).
 */
export class RunClock {
  /** Complete lines at the last read. */
  lines = 0;
  lastGrowth: number;
  lastLines: number;
  lastRead: number;
  private _readEveryMs: number;

  constructor(t0: number, readEveryMs: number) {
    this.lastGrowth = this.lastLines = this.lastRead = t0;
    this._readEveryMs = readEveryMs;
  }

  /** After a look at `now` (`grew`: it found growth): whether to read the output now. */
  looked(now: number, grew: boolean, eager: boolean): boolean {
    if (grew) this.lastGrowth = now;
    return !grew || eager || now - this.lastRead >= this._readEveryMs;
  }

  /** After a read at `now` that counted `lines` in all. */
  counted(now: number, lines: number): void {
    this.lastRead = now;
    if (lines > this.lines) {
      this.lines = lines;
      this.lastLines = now;
    }
  }

  /** Every clock starts again at `now` (a daemon restarted). */
  restart(now: number): void {
    this.lastGrowth = this.lastLines = this.lastRead = now;
  }
}

export interface CheckResult {
  expected: number;
  /** Lines read (complete or not). */
  lines: number;
  /** Distinct sequence numbers seen. */
  unique: number;
  lost: number;
  duplicated: number;
  /** Lines without a valid sequence number in range (daemon notices, mangled lines). */
  foreign: number;
  files: number;
  /** per-sender check: lines in a file whose other lines come from another sender. */
  misrouted: number;
  /** The first missing ranges, e.g. "1200-1299, 5000". */
  lostRanges: string;
  /** An example foreign line (for the report), or ''. */
  foreignExample: string;
}

/**
 * Reads every file under `root`. With `perSender` > 0, sender k owns sequence numbers
 * [k*perSender, (k+1)*perSender) and each file must hold one sender's lines only.
 */
export function checkOutput(root: string, expected: number, perSender = 0): CheckResult {
  const counts = new Uint8Array(expected);
  const files = filesUnder(root);
  let lines = 0;
  let foreign = 0;
  let misrouted = 0;
  let foreignExample = '';
  const buf = Buffer.allocUnsafe(READ_BYTES * 2);

  for (const f of files) {
    const fd = openSync(f, 'r');
    let fileGroup = -1;
    let carry = 0; // bytes of an unfinished line at the start of buf
    let pos = 0;
    // Where the next "seq: " starts in buf (found once for a run of lines without one, so a file of
    // foreign lines is not searched to its end once per line).
    let nextSeq = -1;
    const line = (s: number, e: number): void => {
      lines++;
      if (nextSeq < s) {
        nextSeq = buf.indexOf(SEQ, s);
        if (nextSeq === -1) nextSeq = Number.MAX_SAFE_INTEGER;
      }
      let p = nextSeq;
      let seq = -1;
      if (p < e) {
        p += SEQ.length;
        if (p + SEQ_DIGITS <= e) {
          seq = 0;
          for (let i = 0; i < SEQ_DIGITS; i++) {
            const c = buf[p + i]! - 48;
            if (c < 0 || c > 9) {
              seq = -1;
              break;
            }
            seq = seq * 10 + c;
          }
        }
      }
      if (seq < 0 || seq >= expected) {
        foreign++;
        if (foreignExample === '') foreignExample = buf.toString('utf8', s, Math.min(e, s + 160));
        return;
      }
      if (counts[seq]! < 255) counts[seq]!++;
      if (perSender > 0) {
        const g = Math.floor(seq / perSender);
        if (fileGroup < 0) fileGroup = g;
        else if (g !== fileGroup) misrouted++;
      }
    };
    try {
      for (;;) {
        const n = readSync(fd, buf, carry, READ_BYTES, pos);
        const end = carry + n;
        nextSeq = -1;
        if (n <= 0) {
          if (carry > 0) line(0, carry); // a last line without its newline
          break;
        }
        pos += n;
        let s = 0;
        let nl = buf.indexOf(NL, s);
        while (nl !== -1 && nl < end) {
          line(s, nl);
          s = nl + 1;
          nl = buf.indexOf(NL, s);
        }
        carry = end - s;
        if (carry > READ_BYTES) {
          line(0, end); // a "line" longer than the buffer: count it and go on
          carry = 0;
        } else if (carry > 0) {
          buf.copy(buf, 0, s, end);
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  let unique = 0;
  let duplicated = 0;
  const ranges: string[] = [];
  let runStart = -1;
  for (let i = 0; i <= expected; i++) {
    const c = i < expected ? counts[i]! : 1;
    if (c === 0) {
      if (runStart < 0) runStart = i;
      continue;
    }
    if (runStart >= 0) {
      if (ranges.length < 5) ranges.push(runStart === i - 1 ? `${runStart}` : `${runStart}-${i - 1}`);
      else if (ranges.length === 5) ranges.push('…');
      runStart = -1;
    }
    if (i < expected) {
      unique++;
      duplicated += c - 1;
    }
  }
  return {
    expected,
    lines,
    unique,
    lost: expected - unique,
    duplicated,
    foreign,
    files: files.length,
    misrouted,
    lostRanges: ranges.join(', '),
    foreignExample,
  };
}
