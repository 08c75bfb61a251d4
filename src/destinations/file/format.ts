// Line formatting of the file destination. A line template is split at each ${MESSAGE} into
// segments, rendered ONCE per batch (its records share the metadata); then each record is
// copied as  seg0 text seg1 … segN '\n'  straight into one output Buffer. No per-line strings.
//
//   template  "${ISODATE} ${host} ${program}: ${MESSAGE}"
//   segments  ["2026-11-23T10:33:00.123Z web-1 nginx: ", ""]         (one rendered Buffer each)
//   record    bytes [recordStart(i), textEnd(i)) of batch.data, terminator excluded
//
// Syslog batches (meta.format 'syslog') carry their header per record, so their lines are
// rendered per record from the parsed RecordFields (encodeSyslogRecords): host, program, PRI and
// the date come from each message, ${MESSAGE} is its message part, ${PID} ${MSGID} ${SDATA} its
// header fields. Still no per-line strings: literals are pre-encoded, host/program buffers are
// reused while they repeat, date parts are rendered once per distinct second. "raw" writes each
// record's bytes as received, whatever the batch format.
//
// Record bytes are kept as they are (invalid UTF-8 and a stray '\r' included: neither can break
// the '\n'-delimited format), except NUL, which is DROPPED: NUL is no text, C tools reading the
// file stop at it, and grep calls a file holding one "binary". A '\n' cannot occur inside a record.
// Header fields (host, program) get their control characters replaced by '_' so a hostile value
// cannot start a new line. Pure: no fs here.

import type { Batch, BatchMeta } from '../../core/batch.js';
import { LogshipError } from '../../core/errors.js';
import type { RecordFields } from '../../core/records.js';
import { facilityName, severityName } from '../../util/syslog-codes.js';
import {
  batchDate,
  compileParts,
  isLineOnly,
  macroValue,
  parseTemplate,
  type CompiledTemplate,
  type MacroName,
  type ParseResult,
  type TemplatePart,
} from './path-template.js';
import { baseIn, copyAt, copyBytes, SMALL_COPY } from '../../util/copy-bytes.js';
import { lineRuns, type RunPlan } from './line-runs.js';

export const DEFAULT_LINE_TEMPLATE = '${ISODATE} ${host} ${program}: ${MESSAGE}';
export const RAW_LINE_TEMPLATE = '${MESSAGE}';

/** One step of a per-record (syslog) line: a pre-encoded literal or a macro. */
export type LineOp = { readonly kind: 'literal'; readonly bytes: Buffer } | { readonly kind: 'macro'; readonly name: MacroName };

/** A compiled line template: the parts between ${MESSAGE}s (messages = segments.length - 1). */
export interface LineFormat {
  readonly segments: readonly CompiledTemplate[];
  readonly needsDate: boolean;
  /** "raw": the record bytes as received, even for syslog batches (whose ${MESSAGE} is the message part only). */
  readonly raw: boolean;
  /** The whole template as steps, for syslog batches (rendered per record). */
  readonly ops: readonly LineOp[];
}

/** What one batch's lines share: rendered segments and their fixed byte cost per line. */
export interface BatchLines {
  readonly segs: readonly Buffer[];
  /** Bytes of every segment plus the '\n'. */
  readonly fixed: number;
  /** Copies of the record text per line (the number of ${MESSAGE}s). */
  readonly messages: number;
}

/** 'default' and 'raw' name built-in templates; anything else is a template itself. */
export function lineTemplateText(spec: string): string {
  return spec === 'default' ? DEFAULT_LINE_TEMPLATE : spec === 'raw' ? RAW_LINE_TEMPLATE : spec;
}

export function parseLineTemplate(spec: string): ParseResult {
  return parseTemplate(lineTemplateText(spec), 'line');
}

/** Compiles a line template (validated by the options schema; a bad one here is a config error). */
export function compileLineFormat(spec: string): LineFormat {
  const r = parseLineTemplate(spec);
  if (!r.ok) throw new LogshipError('LS_CONFIG_INVALID', `file destination: bad template: ${r.message}`);
  const segments: CompiledTemplate[] = [];
  let cur: TemplatePart[] = [];
  for (const p of r.parts) {
    if (p.kind === 'macro' && p.name === 'MESSAGE') {
      segments.push(compileParts(cur));
      cur = [];
    } else cur.push(p);
  }
  segments.push(compileParts(cur));
  const ops: LineOp[] = r.parts.map((p) => (p.kind === 'literal' ? { kind: 'literal', bytes: Buffer.from(p.text, 'utf8') } : { kind: 'macro', name: p.name }));
  return { segments, needsDate: segments.some((s) => s.needsDate), raw: lineTemplateText(spec) === RAW_LINE_TEMPLATE, ops };
}

/** Keeps a header value on one line: C0/C1 controls and DEL become '_'. */
export function sanitizeLineField(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(v) ? v.replace(/[\u0000-\u001f\u007f-\u009f]/g, '_') : v;
}

/** Renders the segments of a batch (once per batch). */
export function renderLines(fmt: LineFormat, meta: BatchMeta): BatchLines {
  const d = fmt.needsDate ? batchDate(meta) : undefined;
  const segs: Buffer[] = [];
  let fixed = 1;
  for (const seg of fmt.segments) {
    let s = '';
    for (const p of seg.parts) {
      if (p.kind === 'literal') s += p.text;
      else if (p.name === 'host' || p.name === 'program') s += sanitizeLineField(macroValue(p.name, meta, d));
      // ${PID} ${MSGID} ${SDATA} are empty for records that are not syslog messages.
      else if (!isLineOnly(p.name)) s += macroValue(p.name, meta, d);
    }
    const b = Buffer.from(s, 'utf8');
    segs.push(b);
    fixed += b.length;
  }
  return { segs, fixed, messages: segs.length - 1 };
}

/**
 * Upper bound of what encodeRecords writes for records [first, count) of `batch`, the first
 * record starting at byte `from` (NUL removal and stripped terminators only make it smaller).
 */
export function encodedBound(lines: BatchLines, batch: Batch, first: number, from: number): number {
  const n = batch.count - first;
  if (n <= 0) return 0;
  const textBytes = batch.ends[batch.count - 1]! - from;
  return n * lines.fixed + lines.messages * textBytes;
}

/**
 * Writes the lines of records [first, count) into `out` at `at`; record `first` starts at byte
 * `from` (>= its recordStart: the part before was written earlier). Returns the new end.
 * `data`: the batch's bytes, or a copy of them in out's ArrayBuffer (copied without garbage).
 */
export function encodeRecords(out: Buffer, at: number, lines: BatchLines, batch: Batch, first: number, from: number, data: Buffer = batch.data): number {
  const ends = batch.ends;
  const segs = lines.segs;
  const last = segs.length - 1;
  let nul = data.indexOf(0, from);
  const base = baseIn(out, data);
  for (let i = first; i < batch.count; i++) {
    const s0 = i === 0 ? 0 : ends[i - 1]!;
    const s = i === first ? Math.max(from, s0) : s0;
    const e = textEndOf(data, ends, i, s0);
    for (let k = 0; k <= last; k++) {
      at = putAll(out, at, segs[k]!);
      if (k === last) break;
      if (s >= e) continue;
      if (nul === -1 || nul >= e) {
        at = copyAt(out, at, base, data, s, e);
      } else {
        // Slow path: this record holds NUL bytes; copy the runs between them.
        let p = s;
        let z = nul < s ? data.indexOf(0, s) : nul;
        while (z !== -1 && z < e) {
          at = copyBytes(out, at, data, p, z);
          p = z + 1;
          z = data.indexOf(0, p);
        }
        at = copyBytes(out, at, data, p, e);
      }
    }
    out[at++] = 0x0a;
    if (nul !== -1 && nul < ends[i]!) nul = data.indexOf(0, ends[i]!);
  }
  return at;
}

// ---- syslog batches: lines rendered per record ------------------------------------------------
//
// The template's ops are compiled once into small integer codes (LineSteps); a batch is then one
// loop over its records and, per record, one switch per op. Bytes go straight into `out`: short
// runs (literals, host, program, header fields, the date) byte by byte, the message with one
// TypedArray set (a native memcpy without Buffer.copy's argument handling). No per-line strings
// or Buffers: names and dates are encoded once and reused while they repeat, and a line whose
// record has the time, host, program and PRI of the line before copies its start from that line
// (LineSteps.prefix).

const S_LIT = 0;
const S_HOST = 1;
const S_PROGRAM = 2;
const S_FACILITY = 3;
const S_SEVERITY = 4;
const S_PRI = 5;
const S_PID = 6;
const S_MSGID = 7;
const S_SDATA = 8;
const S_MESSAGE = 9;
const S_YEAR = 10;
const S_MONTH = 11;
const S_DAY = 12;
const S_HOUR = 13;
const S_MIN = 14;
const S_SEC = 15;
const S_ISODATE = 16;

const STEP_OF: Readonly<Record<MacroName, number>> = {
  host: S_HOST,
  program: S_PROGRAM,
  facility: S_FACILITY,
  severity: S_SEVERITY,
  PRI: S_PRI,
  PID: S_PID,
  MSGID: S_MSGID,
  SDATA: S_SDATA,
  MESSAGE: S_MESSAGE,
  YEAR: S_YEAR,
  MONTH: S_MONTH,
  DAY: S_DAY,
  HOUR: S_HOUR,
  MIN: S_MIN,
  SEC: S_SEC,
  ISODATE: S_ISODATE,
};

/** Longest rendering of a date macro: ISODATE of a 6-digit signed year is 27 bytes. */
const DATE_BOUND = 32;
const NAME_BOUND = 16;

/** A line template's ops as codes, with what syslogBound needs precomputed. */
interface LineSteps {
  readonly codes: Uint8Array;
  /** The literal bytes of S_LIT steps (empty for the others). */
  readonly lits: readonly Buffer[];
  /** Bytes every line costs whatever its record: literals, '\n', fixed bounds of the code macros and dates. */
  readonly fixed: number;
  readonly hosts: number;
  readonly programs: number;
  readonly pids: number;
  readonly msgids: number;
  readonly sdatas: number;
  readonly messages: number;
  readonly needsDate: boolean;
  /**
   * Steps before the first ${MESSAGE} (all of them when there is none) when those render from
   * nothing but the record's time, host, program and PRI (no PID, MSGID, SDATA): a line whose
   * record has the same four values as the line before starts with the same bytes, copied from it.
   */
  readonly prefix: number;
}

const STEPS = new WeakMap<LineFormat, LineSteps>();

function stepsOf(fmt: LineFormat): LineSteps {
  let st = STEPS.get(fmt);
  if (st !== undefined) return st;
  const codes = new Uint8Array(fmt.ops.length);
  const lits: Buffer[] = [];
  let fixed = 1;
  let hosts = 0;
  let programs = 0;
  let pids = 0;
  let msgids = 0;
  let sdatas = 0;
  let messages = 0;
  let needsDate = false;
  fmt.ops.forEach((op, k) => {
    if (op.kind === 'literal') {
      codes[k] = S_LIT;
      lits.push(op.bytes);
      fixed += op.bytes.length;
      return;
    }
    const c = STEP_OF[op.name];
    codes[k] = c;
    lits.push(EMPTY_BYTES);
    if (c === S_HOST) hosts++;
    else if (c === S_PROGRAM) programs++;
    else if (c === S_FACILITY || c === S_SEVERITY) fixed += NAME_BOUND;
    else if (c === S_PRI) fixed += 3;
    else if (c === S_PID) pids++;
    else if (c === S_MSGID) msgids++;
    else if (c === S_SDATA) sdatas++;
    else if (c === S_MESSAGE) messages++;
    else {
      fixed += DATE_BOUND;
      needsDate = true;
    }
  });
  let prefix = codes.indexOf(S_MESSAGE);
  if (prefix < 0) prefix = codes.length;
  for (let k = 0; k < prefix; k++) if (codes[k] === S_PID || codes[k] === S_MSGID || codes[k] === S_SDATA) prefix = 0;
  st = { codes, lits, fixed, hosts, programs, pids, msgids, sdatas, messages, needsDate, prefix };
  STEPS.set(fmt, st);
  return st;
}

/**
 * True when the template's lines of a run of repeated headers can go to the native line writer
 * (line-runs.ts): a prefix, then ${MESSAGE} as the last step, and not raw. Whether a batch's runs
 * do also depends on the batch (see encodeSyslogRecords).
 */
export function writesRuns(fmt: LineFormat): boolean {
  const st = stepsOf(fmt);
  return !fmt.raw && st.prefix > 0 && st.codes.length === st.prefix + 1 && st.codes[st.prefix] === S_MESSAGE;
}

const EMPTY_BYTES = Buffer.alloc(0);
/** line-runs.ts: where the run it wrote stopped. */
const RUN_STOP = new Int32Array(2);

/** Copies all of src to out at `at`; returns the new end. */
function putAll(out: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n > SMALL_COPY) {
    out.set(src, at);
    return at + n;
  }
  for (let k = 0; k < n; k++) out[at++] = src[k]!;
  return at;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const PRI_BYTES: readonly Buffer[] = Array.from({ length: 256 }, (_, i) => latin1(String(i)));
/** facilityName / severityName of every code a PRI byte can hold. */
const FACILITY_BYTES: readonly Buffer[] = Array.from({ length: 32 }, (_, i) => latin1(facilityName(i)));
const SEVERITY_BYTES: readonly Buffer[] = Array.from({ length: 8 }, (_, i) => latin1(severityName(i)));

/** Sanitized, UTF-8 encoded host and program names, shared by all batches (bounded). */
const NAME_BYTES = new Map<string, Buffer>();
const MAX_NAME_ENTRIES = 4096;

function nameBytes(v: string): Buffer {
  let b = NAME_BYTES.get(v);
  if (b === undefined) {
    if (NAME_BYTES.size >= MAX_NAME_ENTRIES) NAME_BYTES.clear();
    b = Buffer.from(sanitizeLineField(v), 'utf8');
    NAME_BYTES.set(v, b);
  }
  return b;
}

/** The date parts of one second as bytes, rendered once and reused while records stay in that second. */
class SecondBytes {
  sec = Number.NaN;
  year: Buffer = EMPTY_BYTES;
  /** "YYYY-MM-DDTHH:MM:SS" (toISOString up to the seconds); MONTH…SEC are 2-byte runs at its end. */
  iso: Buffer = EMPTY_BYTES;
  /** Milliseconds (0–999) of the record `at` was last called for. */
  ms = 0;

  /** Sets the second of timeMs (a bad time: now) and `ms`. */
  at(timeMs: number): void {
    let t = timeMs;
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) t = Date.now();
    const sec = Math.floor(t / 1000);
    if (sec !== this.sec) {
      const d = new Date(sec * 1000);
      const iso = d.toISOString();
      this.sec = sec;
      this.iso = latin1(iso.slice(0, iso.length - 5));
      this.year = latin1(String(d.getUTCFullYear()));
    }
    this.ms = Math.floor(t - sec * 1000);
  }
}

/** Copies data[s, e) replacing control bytes (C0, DEL) by '_': header fields stay on one line. */
function copyHeaderField(out: Buffer, at: number, data: Buffer, s: number, e: number): number {
  for (let k = s; k < e; k++) {
    const c = data[k]!;
    out[at++] = c < 0x20 || c === 0x7f ? 0x5f : c;
  }
  return at;
}

/** Copies data[s, e) without its NUL bytes; returns the new end. */
function copyDroppingNul(out: Buffer, at: number, data: Buffer, s: number, e: number): number {
  let p = s;
  let z = data.indexOf(0, s);
  while (z !== -1 && z < e) {
    at = copyBytes(out, at, data, p, z);
    p = z + 1;
    z = data.indexOf(0, p);
  }
  return copyBytes(out, at, data, p, e);
}

/** End of record i's text (without "\n" or "\r\n"); `s0` is its recordStart. */
function textEndOf(data: Buffer, ends: Uint32Array, i: number, s0: number): number {
  let end = ends[i]!;
  if (end > s0 && data[end - 1] === 0x0a) {
    end--;
    if (end > s0 && data[end - 1] === 0x0d) end--;
  }
  return end;
}

/**
 * Upper bound of what encodeSyslogRecords writes for the same records: `records` (ascending) or
 * first..count-1 when null, record `first` counted whole (written from a later byte, it is
 * shorter). ${PID} ${MSGID} ${SDATA} and ${MESSAGE} each write part of their record's bytes, so
 * their bound is the records' size (one subtraction for a run of records); host and program are
 * strings, up to 3 bytes a char.
 */
export function syslogBound(fmt: LineFormat, batch: Batch, fields: RecordFields, records: readonly number[] | null, first: number): number {
  const st = stepsOf(fmt);
  const n = records === null ? Math.max(0, batch.count - first) : records.length;
  if (n === 0) return 0;
  let total = n * st.fixed;
  const ends = batch.ends;
  const byteSteps = st.pids + st.msgids + st.sdatas + st.messages;
  if (byteSteps > 0) {
    let bytes = 0;
    if (records === null) bytes = ends[batch.count - 1]! - batch.recordStart(first);
    else for (const i of records) bytes += ends[i]! - batch.recordStart(i);
    total += byteSteps * bytes;
  }
  if (st.hosts > 0 || st.programs > 0) {
    const hosts = 3 * st.hosts;
    const programs = 3 * st.programs;
    for (let r = 0; r < n; r++) {
      const i = records === null ? first + r : records[r]!;
      total += hosts * fields.host[i]!.length + programs * fields.program[i]!.length;
    }
  }
  return total;
}

/**
 * Writes the lines of a syslog batch's records into `out` at `at` (within syslogBound), each
 * rendered from its own fields; `records` (ascending) or first..count-1 when null. Returns the
 * new end. Message bytes are kept as received except NUL, which is dropped (as encodeRecords).
 * `data`: the batch's bytes, or a copy of them in out's ArrayBuffer (copied without garbage).
 * `runPlan`: the lines of runs of repeated headers are planned there instead of written (the
 * writer has them copied from `data` in the thread that writes the file: line-runs.ts
 * appendPlanned); their bytes in `out` stay unwritten until then. `data` may then lie anywhere.
 */
export function encodeSyslogRecords(
  out: Buffer,
  at: number,
  fmt: LineFormat,
  batch: Batch,
  fields: RecordFields,
  records: readonly number[] | null,
  first: number,
  from: number,
  data: Buffer = batch.data,
  runPlan?: RunPlan,
): number {
  const st = stepsOf(fmt);
  const codes = st.codes;
  const lits = st.lits;
  const nSteps = codes.length;
  const ends = batch.ends;
  const raw = fmt.raw;
  const date = new SecondBytes();
  const needsDate = st.needsDate;
  let lastHost: string | undefined;
  let hostBytes: Buffer = EMPTY_BYTES;
  let lastProgram: string | undefined;
  let programBytes: Buffer = EMPTY_BYTES;
  // One scan decides whether NUL removal is needed at all (almost never).
  const hasNul = data.indexOf(0) !== -1;
  const base = baseIn(out, data);
  const prefix = st.prefix;
  // Runs of records that repeat a header, when a line is its prefix, its message and LF: one
  // native call per run (line-runs.ts), the same bytes as the loop below.
  // The batch's bytes must lie before the lines (as in the writer's arena), or a line could
  // overwrite bytes still to be read.
  const runs = records === null && !hasNul && (runPlan !== undefined || (base >= 0 && base + data.length <= at)) && writesRuns(fmt) ? lineRuns() : null;
  let prevAt = -1;
  let prevLen = 0;
  let prevT = 0;
  let prevHost = '';
  let prevProgram = '';
  let prevPri = 0;
  const n = records === null ? Math.max(0, batch.count - first) : records.length;
  for (let r = 0; r < n; r++) {
    const i = records === null ? first + r : records[r]!;
    const s0 = i === 0 ? 0 : ends[i - 1]!;
    const start = i === first ? Math.max(from, s0) : s0;
    // The line prefix of the line before, when this record renders it alike.
    let k = 0;
    let recording = false;
    if (prefix > 0) {
      const t = fields.timeMs[i]!;
      const h = fields.host[i]!;
      const p = fields.program[i]!;
      const pri = fields.pri[i]!;
      if (prevAt >= 0 && t === prevT && h === prevHost && p === prevProgram && pri === prevPri) {
        // (runs are contiguous: same[i + 3] equal to same[i] means four records at least, worth a call)
        if (runs !== null && i > first && fields.same[i]! >= 0 && i + 3 < first + n && fields.same[i + 3] === fields.same[i]) {
          if (runPlan === undefined) {
            at = runs.lines(out, at, prevAt, prevLen, base, data.length, ends, fields.msgStart, fields.msgEnd, fields.same, i, first + n, RUN_STOP);
          } else {
            at = runs.plan(data, out.length, at, prevAt, prevLen, ends, fields.msgStart, fields.msgEnd, fields.same, i, first + n, RUN_STOP, runPlan.plan, runPlan.at, runPlan.src);
            runPlan.at = RUN_STOP[1]!;
          }
          const next = RUN_STOP[0]!;
          if (next > i) {
            r += next - i - 1;
            continue;
          }
        }
        at = repeat(out, at, prevAt, prevLen);
        k = prefix;
      } else if (Number.isFinite(t) && Math.abs(t) <= 8.64e15) {
        // (a bad time renders as "now": never repeated)
        recording = true;
        prevAt = at;
        prevT = t;
        prevHost = h;
        prevProgram = p;
        prevPri = pri;
      } else prevAt = -1;
    }
    // (a repeated prefix had the same time: the date parts are still those of this record)
    if (k === 0 && needsDate) date.at(fields.timeMs[i]!);
    for (; k < nSteps; k++) {
      if (k === prefix && recording) {
        prevLen = at - prevAt;
        recording = false;
      }
      switch (codes[k]) {
        case S_LIT:
          at = putAll(out, at, lits[k]!);
          break;
        case S_HOST: {
          const h = fields.host[i]!;
          if (h !== lastHost) {
            lastHost = h;
            hostBytes = nameBytes(h);
          }
          at = putAll(out, at, hostBytes);
          break;
        }
        case S_PROGRAM: {
          const p = fields.program[i]!;
          if (p !== lastProgram) {
            lastProgram = p;
            programBytes = nameBytes(p);
          }
          at = putAll(out, at, programBytes);
          break;
        }
        case S_FACILITY:
          at = putAll(out, at, FACILITY_BYTES[fields.pri[i]! >> 3]!);
          break;
        case S_SEVERITY:
          at = putAll(out, at, SEVERITY_BYTES[fields.pri[i]! & 7]!);
          break;
        case S_PRI:
          at = putAll(out, at, PRI_BYTES[fields.pri[i]!]!);
          break;
        case S_PID:
          if (fields.pidStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.pidStart[i]!, fields.pidEnd[i]!);
          break;
        case S_MSGID:
          if (fields.msgidStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.msgidStart[i]!, fields.msgidEnd[i]!);
          break;
        case S_SDATA:
          if (fields.sdStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.sdStart[i]!, fields.sdEnd[i]!);
          break;
        case S_MESSAGE: {
          const te = textEndOf(data, ends, i, s0);
          const ms = raw ? start : Math.max(fields.msgStart[i]!, start);
          const me = raw ? te : Math.min(fields.msgEnd[i]!, te);
          if (ms < me) at = hasNul ? copyDroppingNul(out, at, data, ms, me) : copyAt(out, at, base, data, ms, me);
          break;
        }
        case S_YEAR:
          at = putAll(out, at, date.year);
          break;
        case S_ISODATE: {
          at = putAll(out, at, date.iso);
          const m = date.ms;
          out[at++] = 0x2e;
          out[at++] = 0x30 + Math.floor(m / 100);
          out[at++] = 0x30 + (Math.floor(m / 10) % 10);
          out[at++] = 0x30 + (m % 10);
          out[at++] = 0x5a;
          break;
        }
        default: {
          // MONTH DAY HOUR MIN SEC: two digits at a fixed distance from the end of the ISO prefix
          const iso = date.iso;
          const p = iso.length - 3 * (S_SEC - codes[k]!) - 2;
          out[at++] = iso[p]!;
          out[at++] = iso[p + 1]!;
        }
      }
    }
    if (recording) prevLen = at - prevAt;
    out[at++] = 0x0a;
  }
  return at;
}

/** Copies the `n` bytes written at `from` to `at` (from + n <= at); returns the new end. */
function repeat(out: Uint8Array, at: number, from: number, n: number): number {
  if (n > SMALL_COPY) {
    out.copyWithin(at, from, from + n);
    return at + n;
  }
  for (let k = 0; k < n; k++) out[at++] = out[from + k]!;
  return at;
}
