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
 */
export function encodeRecords(out: Buffer, at: number, lines: BatchLines, batch: Batch, first: number, from: number): number {
  const data = batch.data;
  const segs = lines.segs;
  const last = segs.length - 1;
  let nul = data.indexOf(0, from);
  for (let i = first; i < batch.count; i++) {
    const s = i === first ? Math.max(from, batch.recordStart(i)) : batch.recordStart(i);
    const e = batch.textEnd(i);
    for (let k = 0; k <= last; k++) {
      const seg = segs[k]!;
      if (seg.length > 0) at += seg.copy(out, at);
      if (k === last) break;
      if (s >= e) continue;
      if (nul === -1 || nul >= e) {
        at += data.copy(out, at, s, e);
      } else {
        // Slow path: this record holds NUL bytes; copy the runs between them.
        let p = s;
        let z = nul < s ? data.indexOf(0, s) : nul;
        while (z !== -1 && z < e) {
          if (z > p) at += data.copy(out, at, p, z);
          p = z + 1;
          z = data.indexOf(0, p);
        }
        if (p < e) at += data.copy(out, at, p, e);
      }
    }
    out[at++] = 0x0a;
    if (nul !== -1 && nul < batch.ends[i]!) nul = data.indexOf(0, batch.ends[i]!);
  }
  return at;
}

// ---- syslog batches: lines rendered per record ------------------------------------------------

const PRI_TEXT: readonly string[] = Array.from({ length: 192 }, (_, i) => String(i));
/** Longest rendering of a date macro: ISODATE of a 6-digit signed year is 27 bytes. */
const DATE_BOUND = 32;
const NAME_BOUND = 16;

/**
 * Calls fn(i, start) for the records to write: `records` (ascending) or first..count-1 when null;
 * `start` is `from` for record `first` (a straddled record written from hw on), else its start.
 */
function eachRecord(batch: Batch, records: readonly number[] | null, first: number, from: number, fn: (i: number, start: number) => void): void {
  if (records === null) {
    for (let i = first; i < batch.count; i++) fn(i, i === first ? Math.max(from, batch.recordStart(i)) : batch.recordStart(i));
  } else {
    for (const i of records) fn(i, i === first ? Math.max(from, batch.recordStart(i)) : batch.recordStart(i));
  }
}

/** Start of the part of record i that ${MESSAGE} writes (raw: the whole record), from `start` on. */
function messageStart(fmt: LineFormat, fields: RecordFields, i: number, start: number): number {
  return fmt.raw ? start : Math.max(fields.msgStart[i]!, start);
}

/** End of that part, never past the record's text. */
function messageEnd(fmt: LineFormat, batch: Batch, fields: RecordFields, i: number): number {
  const end = batch.textEnd(i);
  return fmt.raw ? end : Math.min(fields.msgEnd[i]!, end);
}

/** Upper bound of what encodeSyslogRecords writes for the same arguments. */
export function syslogBound(fmt: LineFormat, batch: Batch, fields: RecordFields, records: readonly number[] | null, first: number, from: number): number {
  let total = 0;
  eachRecord(batch, records, first, from, (i, start) => {
    let n = 1;
    for (const op of fmt.ops) {
      if (op.kind === 'literal') {
        n += op.bytes.length;
        continue;
      }
      switch (op.name) {
        case 'host':
          n += 3 * fields.host[i]!.length;
          break;
        case 'program':
          n += 3 * fields.program[i]!.length;
          break;
        case 'facility':
        case 'severity':
          n += NAME_BOUND;
          break;
        case 'PRI':
          n += 3;
          break;
        case 'PID':
          n += Math.max(0, fields.pidEnd[i]! - fields.pidStart[i]!);
          break;
        case 'MSGID':
          n += Math.max(0, fields.msgidEnd[i]! - fields.msgidStart[i]!);
          break;
        case 'SDATA':
          n += Math.max(0, fields.sdEnd[i]! - fields.sdStart[i]!);
          break;
        case 'MESSAGE':
          n += Math.max(0, messageEnd(fmt, batch, fields, i) - messageStart(fmt, fields, i, start));
          break;
        default:
          n += DATE_BOUND;
      }
    }
    total += n;
  });
  return total;
}

/** The date parts of one second, rendered once and reused while records stay in that second. */
class SecondParts {
  sec = Number.NaN;
  year = '';
  month = '';
  day = '';
  hour = '';
  min = '';
  secText = '';
  /** "YYYY-MM-DDTHH:MM:SS" (toISOString up to the seconds). */
  isoPrefix = '';

  at(timeMs: number): number {
    let t = timeMs;
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) t = Date.now();
    const sec = Math.floor(t / 1000);
    if (sec !== this.sec) {
      const d = new Date(sec * 1000);
      const iso = d.toISOString();
      this.sec = sec;
      this.isoPrefix = iso.slice(0, iso.length - 5);
      this.year = String(d.getUTCFullYear());
      this.month = iso.slice(iso.length - 19, iso.length - 17);
      this.day = iso.slice(iso.length - 16, iso.length - 14);
      this.hour = iso.slice(iso.length - 13, iso.length - 11);
      this.min = iso.slice(iso.length - 10, iso.length - 8);
      this.secText = iso.slice(iso.length - 7, iso.length - 5);
    }
    return t - sec * 1000;
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
  const view = data.subarray(s, e);
  let p = 0;
  let z = view.indexOf(0);
  while (z !== -1) {
    if (z > p) at += view.copy(out, at, p, z);
    p = z + 1;
    z = view.indexOf(0, p);
  }
  if (p < view.length) at += view.copy(out, at, p);
  return at;
}

/**
 * Writes the lines of a syslog batch's records into `out` at `at` (within syslogBound), each
 * rendered from its own fields; `records` (ascending) or first..count-1 when null. Returns the
 * new end. Message bytes are kept as received except NUL, which is dropped (as encodeRecords).
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
): number {
  const data = batch.data;
  const date = new SecondParts();
  // Sanitized, encoded host and program names, once per distinct value of the batch.
  const names = new Map<string, Buffer>();
  const nameBytes = (v: string): Buffer => {
    let b = names.get(v);
    if (b === undefined) {
      b = Buffer.from(sanitizeLineField(v), 'utf8');
      names.set(v, b);
    }
    return b;
  };
  let lastHost: string | undefined;
  let hostBytes: Buffer = Buffer.alloc(0);
  let lastProgram: string | undefined;
  let programBytes: Buffer = Buffer.alloc(0);
  // One scan decides whether NUL removal is needed at all (almost never).
  const hasNul = data.indexOf(0) !== -1;
  eachRecord(batch, records, first, from, (i, start) => {
    for (const op of fmt.ops) {
      if (op.kind === 'literal') {
        at += op.bytes.copy(out, at);
        continue;
      }
      switch (op.name) {
        case 'host': {
          const h = fields.host[i]!;
          if (h !== lastHost) {
            lastHost = h;
            hostBytes = nameBytes(h);
          }
          at += hostBytes.copy(out, at);
          break;
        }
        case 'program': {
          const p = fields.program[i]!;
          if (p !== lastProgram) {
            lastProgram = p;
            programBytes = nameBytes(p);
          }
          at += programBytes.copy(out, at);
          break;
        }
        case 'facility':
          at += out.write(facilityName(fields.facility(i)), at, 'latin1');
          break;
        case 'severity':
          at += out.write(severityName(fields.severity(i)), at, 'latin1');
          break;
        case 'PRI':
          at += out.write(PRI_TEXT[fields.pri[i]!] ?? String(fields.pri[i]), at, 'latin1');
          break;
        case 'PID':
          if (fields.pidStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.pidStart[i]!, fields.pidEnd[i]!);
          break;
        case 'MSGID':
          if (fields.msgidStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.msgidStart[i]!, fields.msgidEnd[i]!);
          break;
        case 'SDATA':
          if (fields.sdStart[i]! >= 0) at = copyHeaderField(out, at, data, fields.sdStart[i]!, fields.sdEnd[i]!);
          break;
        case 'MESSAGE': {
          const ms = messageStart(fmt, fields, i, start);
          const me = messageEnd(fmt, batch, fields, i);
          if (ms < me) at = hasNul ? copyDroppingNul(out, at, data, ms, me) : at + data.copy(out, at, ms, me);
          break;
        }
        default: {
          const ms = date.at(fields.timeMs[i]!);
          switch (op.name) {
            case 'YEAR':
              at += out.write(date.year, at, 'latin1');
              break;
            case 'MONTH':
              at += out.write(date.month, at, 'latin1');
              break;
            case 'DAY':
              at += out.write(date.day, at, 'latin1');
              break;
            case 'HOUR':
              at += out.write(date.hour, at, 'latin1');
              break;
            case 'MIN':
              at += out.write(date.min, at, 'latin1');
              break;
            case 'SEC':
              at += out.write(date.secText, at, 'latin1');
              break;
            case 'ISODATE': {
              at += out.write(date.isoPrefix, at, 'latin1');
              out[at++] = 0x2e;
              const m = Math.floor(ms);
              out[at++] = 0x30 + Math.floor(m / 100);
              out[at++] = 0x30 + (Math.floor(m / 10) % 10);
              out[at++] = 0x30 + (m % 10);
              out[at++] = 0x5a;
              break;
            }
          }
        }
      }
    }
    out[at++] = 0x0a;
  });
  return at;
}
