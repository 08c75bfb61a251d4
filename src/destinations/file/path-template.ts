// Templates of the file destination: `${macro}` parsing (once, at config time) and rendering of
// the macro values of a batch (once per batch). Pure: no fs here.
//
//   "${host}/${program}-${YEAR}${MONTH}${DAY}.log"
//    └macro┘└lit┘└─macro─┘└lit┘└macro┘…        └lit─┘
//
// A '$' not followed by '{' is a literal. Paths use every macro but ${MESSAGE}; line templates
// may use ${MESSAGE} any number of times (format.ts splits them there).

import type { BatchMeta } from '../../core/batch.js';
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
] as const;

export type MacroName = (typeof MACROS)[number];
export type MetaMacro = Exclude<MacroName, 'MESSAGE'>;

export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'macro'; readonly name: MacroName };

export type TemplateUsage = 'path' | 'line';

export type ParseResult = { readonly ok: true; readonly parts: readonly TemplatePart[] } | { readonly ok: false; readonly message: string };

const MACRO_SET: ReadonlySet<string> = new Set(MACROS);
const DATE_MACROS: ReadonlySet<string> = new Set(['YEAR', 'MONTH', 'DAY', 'HOUR', 'MIN', 'SEC', 'ISODATE']);

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
    const known = usage === 'path' ? MACROS.filter((m) => m !== 'MESSAGE') : MACROS;
    if (!MACRO_SET.has(name) || (usage === 'path' && name === 'MESSAGE')) {
      const why = name === 'MESSAGE' ? '${MESSAGE} cannot be part of a path' : `unknown macro \${${name}}`;
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
}

export function compileParts(parts: readonly TemplatePart[]): CompiledTemplate {
  return { parts, needsDate: parts.some((p) => p.kind === 'macro' && DATE_MACROS.has(p.name)) };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The time of a batch as a valid Date (a bad timeMs falls back to now; never throws). */
export function batchDate(meta: BatchMeta): Date {
  const d = new Date(meta.timeMs);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** The raw (unsanitized) value of a macro for a batch; `d` is batchDate(meta) for date macros. */
export function macroValue(name: MetaMacro, meta: BatchMeta, d: Date | undefined): string {
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
export function renderTemplate(tpl: CompiledTemplate, meta: BatchMeta, sanitize: (v: string) => string): string {
  const d = tpl.needsDate ? batchDate(meta) : undefined;
  let out = '';
  for (const p of tpl.parts) {
    if (p.kind === 'literal') out += p.text;
    else if (p.name !== 'MESSAGE') out += sanitize(macroValue(p.name, meta, d));
  }
  return out;
}
