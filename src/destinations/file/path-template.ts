// Templates of the file destination: `${macro}` parsing (once, at config time) and rendering of
// the macro values of a batch (once per batch), or of each distinct tuple of record fields of a
// syslog batch (groupRecordPaths). Pure: no fs here.
//
//   "${host}/${program}-${YEAR}${MONTH}${DAY}.log"
//    └macro┘└lit┘└─macro─┘└lit┘└macro┘…        └lit─┘
//
// A '$' not followed by '{' is a literal. Paths use every macro but the line-only ones
// (${MESSAGE} ${PID} ${MSGID} ${SDATA}); line templates may use ${MESSAGE} any number of times
// (format.ts splits them there).

import type { Batch } from '../../core/batch.js';
import type { RecordFields } from '../../core/records.js';
import { facilityName, severityName } from '../../util/syslog-codes.js';

export const MACROS = [
  'host',
  'program',
  'facility',
  'severity',
  'YEAR',
  'MONTH',
  'DAY',
  'HOUR',
  'MIN',
  'SEC',
  'ISODATE',
  'PRI',
  'MESSAGE',
  'PID',
  'MSGID',
  'SDATA',
] as const;

export type MacroName = (typeof MACROS)[number];
/** Macros of line templates only: parts of each record's own bytes. */
export type LineOnlyMacro = 'MESSAGE' | 'PID' | 'MSGID' | 'SDATA';
/** Macros a path may use: the batch metadata, or each record's header in a syslog batch. */
export type MetaMacro = Exclude<MacroName, LineOnlyMacro>;

export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'macro'; readonly name: MacroName };

export type TemplateUsage = 'path' | 'line';

export type ParseResult = { readonly ok: true; readonly parts: readonly TemplatePart[] } | { readonly ok: false; readonly message: string };

const MACRO_SET: ReadonlySet<string> = new Set(MACROS);
const LINE_ONLY: ReadonlySet<string> = new Set<LineOnlyMacro>(['MESSAGE', 'PID', 'MSGID', 'SDATA']);
const DATE_MACROS: ReadonlySet<string> = new Set(['YEAR', 'MONTH', 'DAY', 'HOUR', 'MIN', 'SEC', 'ISODATE']);

export function isLineOnly(name: MacroName): name is LineOnlyMacro {
  return LINE_ONLY.has(name);
}

/** Parses a template; the error message names the offending macro and lists the known ones. */
export function parseTemplate(text: string, usage: TemplateUsage): ParseResult {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('${', i);
    if (at === -1) {
      lit += text.slice(i);
      break;
    }
    lit += text.slice(i, at);
    const close = text.indexOf('}', at + 2);
    if (close === -1) return { ok: false, message: `unterminated macro at character ${at + 1}: "${text.slice(at)}" (write \${name})` };
    const name = text.slice(at + 2, close);
    const known = usage === 'path' ? MACROS.filter((m) => !LINE_ONLY.has(m)) : MACROS;
    if (!MACRO_SET.has(name) || (usage === 'path' && LINE_ONLY.has(name))) {
      const why = MACRO_SET.has(name) ? `\${${name}} cannot be part of a path (it is for line templates)` : `unknown macro \${${name}}`;
      return { ok: false, message: `${why}; known macros: ${known.map((m) => `\${${m}}`).join(' ')}` };
    }
    if (lit !== '') parts.push({ kind: 'literal', text: lit });
    lit = '';
    parts.push({ kind: 'macro', name: name as MacroName });
    i = close + 1;
  }
  if (lit !== '') parts.push({ kind: 'literal', text: lit });
  return { ok: true, parts };
}

/**
 * Parses a path template and checks what the config alone decides: relative, no '.' or '..'
 * component, no empty component, no control character. Macro values are made safe at run time.
 */
export function parsePathTemplate(text: string): ParseResult {
  const r = parseTemplate(text, 'path');
  if (!r.ok) return r;
  if (r.parts.length === 0) return { ok: false, message: 'the path template is empty' };
  // Components are judged with every macro standing for a safe non-dot value.
  const shape = r.parts.map((p) => (p.kind === 'literal' ? p.text : 'x')).join('');
  if (shape.startsWith('/')) return { ok: false, message: 'the path template must be relative to base_dir (remove the leading "/")' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(shape)) return { ok: false, message: 'the path template contains a control character' };
  for (const c of shape.split('/')) {
    if (c === '') return { ok: false, message: 'the path template has an empty component ("//" or a trailing "/")' };
    if (c === '.' || c === '..') return { ok: false, message: `the path template has a "${c}" component; paths must stay inside base_dir` };
  }
  return r;
}

/** A parsed template, ready to render: compiled once at start. */
export interface CompiledTemplate {
  readonly parts: readonly TemplatePart[];
  /** Whether any part needs the batch time (rendering builds a Date only then). */
  readonly needsDate: boolean;
  /** Whether any part is a macro (else every record of every batch renders the same). */
  readonly hasMacros: boolean;
  /** What a record's rendering depends on (groupRecordPaths keys records by these only). */
  readonly uses: { readonly host: boolean; readonly program: boolean; readonly pri: boolean; readonly dateBucketMs: number };
}

/** Finest date resolution a template renders, as the width of its time buckets (0: no date). */
function dateBucketMs(parts: readonly TemplatePart[]): number {
  let ms = 0;
  const finer = (v: number): void => {
    if (ms === 0 || v < ms) ms = v;
  };
  for (const p of parts) {
    if (p.kind !== 'macro') continue;
    switch (p.name) {
      case 'ISODATE':
        finer(1);
        break;
      case 'SEC':
        finer(1000);
        break;
      case 'MIN':
        finer(60_000);
        break;
      case 'HOUR':
        finer(3_600_000);
        break;
      // UTC days are whole multiples of 86400 s since the epoch: a day bucket fixes month and year.
      case 'DAY':
      case 'MONTH':
      case 'YEAR':
        finer(86_400_000);
        break;
      default:
        break;
    }
  }
  return ms;
}

export function compileParts(parts: readonly TemplatePart[]): CompiledTemplate {
  const has = (names: readonly string[]): boolean => parts.some((p) => p.kind === 'macro' && names.includes(p.name));
  return {
    parts,
    needsDate: parts.some((p) => p.kind === 'macro' && DATE_MACROS.has(p.name)),
    hasMacros: parts.some((p) => p.kind === 'macro'),
    uses: { host: has(['host']), program: has(['program']), pri: has(['facility', 'severity', 'PRI']), dateBucketMs: dateBucketMs(parts) },
  };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** What path macros read: a batch's metadata, or one syslog record's header (recordValues). */
export interface MacroValues {
  readonly host: string;
  readonly program: string;
  readonly facility: number;
  readonly severity: number;
  readonly timeMs: number;
}

/** The time of a batch as a valid Date (a bad timeMs falls back to now; never throws). */
export function batchDate(meta: MacroValues): Date {
  const d = new Date(meta.timeMs);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** The macro values of record i of a syslog batch: its own host, program, PRI and timestamp. */
export function recordValues(fields: RecordFields, i: number): MacroValues {
  return { host: fields.host[i]!, program: fields.program[i]!, facility: fields.facility(i), severity: fields.severity(i), timeMs: fields.timeMs[i]! };
}

/** The raw (unsanitized) value of a macro for a batch; `d` is batchDate(meta) for date macros. */
export function macroValue(name: MetaMacro, meta: MacroValues, d: Date | undefined): string {
  switch (name) {
    case 'host':
      return meta.host;
    case 'program':
      return meta.program;
    case 'facility':
      return facilityName(meta.facility);
    case 'severity':
      return severityName(meta.severity);
    case 'PRI':
      return String(meta.facility * 8 + meta.severity);
    case 'YEAR':
      return String((d ?? batchDate(meta)).getUTCFullYear());
    case 'MONTH':
      return pad2((d ?? batchDate(meta)).getUTCMonth() + 1);
    case 'DAY':
      return pad2((d ?? batchDate(meta)).getUTCDate());
    case 'HOUR':
      return pad2((d ?? batchDate(meta)).getUTCHours());
    case 'MIN':
      return pad2((d ?? batchDate(meta)).getUTCMinutes());
    case 'SEC':
      return pad2((d ?? batchDate(meta)).getUTCSeconds());
    case 'ISODATE':
      return (d ?? batchDate(meta)).toISOString();
  }
}

/**
 * Renders a parsed path template for a batch: each macro value passes through `sanitize`
 * (util/path-sanitize) before it joins the path. The result is relative to base_dir.
 */
export function renderTemplate(tpl: CompiledTemplate, meta: MacroValues, sanitize: (v: string) => string): string {
  const d = tpl.needsDate ? batchDate(meta) : undefined;
  let out = '';
  for (const p of tpl.parts) {
    if (p.kind === 'literal') out += p.text;
    else if (!isLineOnly(p.name)) out += sanitize(macroValue(p.name, meta, d));
  }
  return out;
}

/** The records of a syslog batch grouped by the path they render to. */
export interface RecordPaths {
  /** Distinct rendered paths (relative to base_dir), in order of first appearance. */
  readonly paths: string[];
  /**
   * groups[k]: the indices of the records whose path is paths[k], ascending; null when there is
   * one path, which every record renders to (no index list is built for the common case).
   */
  readonly groups: (number[] | null)[];
}

/**
 * Renders a path template for each record of a syslog batch, from the record's own fields, and
 * groups the records by path. A path is rendered once per distinct tuple of the fields the
 * template uses (host, program, PRI, time bucket), not once per record; a run of records with
 * the same tuple as the one before costs no lookup at all. Values pass through `sanitize`.
 */
export function groupRecordPaths(tpl: CompiledTemplate, batch: Batch, fields: RecordFields, sanitize: (v: string) => string): RecordPaths {
  const paths: string[] = [];
  const groups: number[][] = [];
  const n = batch.count;
  if (!tpl.hasMacros) {
    if (n > 0) paths.push(renderTemplate(tpl, batch.meta, sanitize));
    return { paths, groups: n > 0 ? [null] : [] };
  }
  const u = tpl.uses;
  const byTuple = new Map<string, number>();
  const byPath = new Map<string, number>();
  let prevHost = '';
  let prevProgram = '';
  let prevPri = -1;
  let prevBucket = Number.NaN;
  let prevGroup = -1;
  for (let i = 0; i < n; i++) {
    const host = u.host ? fields.host[i]! : '';
    const program = u.program ? fields.program[i]! : '';
    const pri = u.pri ? fields.pri[i]! : 0;
    const t = fields.timeMs[i]!;
    // A bad time renders as "now" (batchDate); give it a bucket of its own.
    const bucket = u.dateBucketMs === 0 ? 0 : Number.isFinite(t) ? Math.floor(t / u.dateBucketMs) : -Infinity;
    let g: number;
    if (prevGroup !== -1 && host === prevHost && program === prevProgram && pri === prevPri && bucket === prevBucket) {
      g = prevGroup;
    } else {
      const key = `${host}\u0000${program}\u0000${pri}\u0000${bucket}`;
      const known = byTuple.get(key);
      if (known !== undefined) g = known;
      else {
        const path = renderTemplate(tpl, recordValues(fields, i), sanitize);
        const same = byPath.get(path);
        if (same !== undefined) g = same;
        else {
          g = paths.length;
          paths.push(path);
          // Index lists only once a second path appears: until then every record went to the first.
          if (g === 1) groups.push(Array.from({ length: i }, (_, k) => k));
          if (g >= 1) groups.push([]);
          byPath.set(path, g);
        }
        byTuple.set(key, g);
      }
      prevHost = host;
      prevProgram = program;
      prevPri = pri;
      prevBucket = bucket;
      prevGroup = g;
    }
    if (paths.length > 1) groups[g]!.push(i);
  }
  return { paths, groups: paths.length === 1 ? [null] : groups };
}
