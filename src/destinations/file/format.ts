// Line formatting of the file destination. A line template is split at each ${MESSAGE} into
// segments, rendered ONCE per batch (its records share the metadata); then each record is
// copied as  seg0 text seg1 … segN '\n'  straight into one output Buffer. No per-line strings.
//
//   template  "${ISODATE} ${host} ${program}: ${MESSAGE}"
//   segments  ["2026-11-23T10:33:00.123Z web-1 nginx: ", ""]         (one rendered Buffer each)
//   record    bytes [recordStart(i), textEnd(i)) of batch.data, terminator excluded
//
// Record bytes are kept as they are (invalid UTF-8 and a stray '\r' included: neither can break
// the '\n'-delimited format), except NUL, which is DROPPED: NUL is no text, C tools reading the
// file stop at it, and grep calls a file holding one "binary". A '\n' cannot occur inside a record.
// Header fields (host, program) get their control characters replaced by '_' so a hostile value
// cannot start a new line. Pure: no fs here.

import type { Batch, BatchMeta } from '../../core/batch.js';
import { LogshipError } from '../../core/errors.js';
import { batchDate, compileParts, macroValue, parseTemplate, type CompiledTemplate, type ParseResult, type TemplatePart } from './path-template.js';

export const DEFAULT_LINE_TEMPLATE = '${ISODATE} ${host} ${program}: ${MESSAGE}';
export const RAW_LINE_TEMPLATE = '${MESSAGE}';

/** A compiled line template: the parts between ${MESSAGE}s (messages = segments.length - 1). */
export interface LineFormat {
  readonly segments: readonly CompiledTemplate[];
  readonly needsDate: boolean;
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
  return { segments, needsDate: segments.some((s) => s.needsDate) };
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
      else if (p.name !== 'MESSAGE') s += macroValue(p.name, meta, d);
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
