// Generates docs/config.md from the schemas: every key's type, default and description come from
// the code, so the reference cannot drift (a unit test regenerates it and fails on a diff).

import { z } from 'zod';
import { DESTINATION_CATALOG } from '../destinations/catalog.js';
import { SOURCE_CATALOG } from '../sources/catalog.js';
import { spoolOptions } from '../spool/options.js';
import { logSchema, nodeSchema, pathSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minItems?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object') return 'map';
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any';
}

function table(schema: z.ZodType): string {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = ['| key | type | default | description |', '|---|---|---|---|'];
  const required = new Set(js.required ?? []);
  for (const [key, p] of Object.entries(js.properties ?? {})) {
    if (key === 'type') continue;
    const def = p.default !== undefined ? `\`${JSON.stringify(p.default)}\`` : required.has(key) ? '**required**' : '—';
    rows.push(`| \`${key}\` | ${typeOf(p)} | ${def} | ${(p.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

export function renderConfigDocs(): string {
  const parts: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from the schemas in src/ by test/unit/config/docs.test.ts (UPDATE_DOCS=1 to rewrite). Do not edit. -->',
    '',
    'A configuration is one YAML file with the sections below. `logship check-config FILE` validates it',
    'and names the key path and line of every problem. Relative paths are relative to the working directory.',
    '',
    '## `node`',
    '',
    table(nodeSchema),
    '',
    '## `log`',
    '',
    table(logSchema),
    '',
    '## `paths[]`',
    '',
    table(pathSchema),
    '',
    '## `filters`',
    '',
    'A map of name → filter expression. See the README for the expression language.',
    '',
    '## Sources',
  ];
  for (const [type, f] of [...SOURCE_CATALOG].sort()) parts.push('', `### \`type: ${type}\``, '', table(f.options));
  parts.push(
    '',
    '### `spool` (any source but `file`)',
    '',
    'A source block may carry a `spool` map (`spool: {}` for the defaults). Its batches are then acknowledged once',
    'durable in `${node.state_dir}/spool/<source name>/`, and the spool feeds the paths in order, deleting segments',
    'once every destination has their batches. A `file` source takes no spool: the file is its own buffer.',
    '',
    table(spoolOptions),
  );
  parts.push('', '## Destinations');
  for (const [type, f] of [...DESTINATION_CATALOG].sort()) parts.push('', `### \`type: ${type}\``, '', table(f.options));
  return `${parts.join('\n')}\n`;
}
