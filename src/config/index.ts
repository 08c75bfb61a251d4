// loadConfig(): read → YAML with positions → schema (top level, then each plug-in's own schema
// through its `type`) → normalize → rules. Every issue is collected with its key path and line;
// the result is deep-frozen. check-config and reload use this same function.

import { resolve } from 'node:path';
import type { z } from 'zod';
import type { CompiledFilter } from '../core/component.js';
import { DESTINATION_CATALOG } from '../destinations/catalog.js';
import { compileFilter, FilterSyntaxError } from '../filters/expr.js';
import { SOURCE_CATALOG } from '../sources/catalog.js';
import { spoolOptions, type SpoolOptions } from '../spool/options.js';
import { formatPath, parseYaml, readConfigText, type ConfigIssue, type ParsedYaml } from './load.js';
import { checkRules } from './rules.js';
import { documentSchema, type Document } from './schema.js';

export type { ConfigIssue } from './load.js';

export interface ComponentSpec {
  readonly name: string;
  readonly type: string;
  /** The plug-in's options, as parsed (defaults applied) by its own schema. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Sources only: the block's `spool` key (defaults applied), taken out before the plug-in's schema sees the block. */
  readonly spool?: SpoolOptions;
}

export interface PathSpec {
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** The filter expression (named filters resolved) and its compiled form; absent = everything. */
  readonly filter?: { readonly expr: string; readonly compiled: CompiledFilter };
}

export interface Config {
  readonly file: string;
  readonly node: {
    readonly name: string;
    readonly stateDir: string;
    readonly role: 'client' | 'relay' | 'server';
    /** A source listens for other hosts over the network (SourceFactory.network). */
    readonly receives: boolean;
  };
  readonly log: Document['log'];
  readonly sources: readonly ComponentSpec[];
  readonly destinations: readonly ComponentSpec[];
  readonly paths: readonly PathSpec[];
}

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

/** Load and check a config file. Throws LogshipError(LS_CONFIG_READ) only when the file cannot be read. */
export async function loadConfig(file: string): Promise<LoadResult> {
  const text = await readConfigText(file);
  return loadConfigText(file, text);
}

export function loadConfigText(file: string, text: string): LoadResult {
  const y = parseYaml(file, text);
  if ('issues' in y) return { ok: false, issues: y.issues, warnings: [] };
  const parsed = y.parsed;
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const at = (path: readonly (string | number)[], message: string, into = issues): void => {
    const pos = parsed.position(path);
    into.push(pos ? { path: formatPath(path), message, line: pos.line, col: pos.col } : { path: formatPath(path), message });
  };

  if (parsed.value === null || parsed.value === undefined || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    at([], 'the config must be a YAML mapping with sources, destinations and paths');
    return { ok: false, issues, warnings };
  }
  const top = documentSchema.safeParse(parsed.value);
  if (!top.success) {
    pushZodIssues(top.error.issues, [], parsed, issues);
    return { ok: false, issues, warnings };
  }
  const doc = top.data;

  const sources = checkComponents('sources', doc.sources, SOURCE_CATALOG, parsed, issues);
  const destinations = checkComponents('destinations', doc.destinations, DESTINATION_CATALOG, parsed, issues);

  const filters = new Map<string, CompiledFilter>();
  for (const [name, expr] of Object.entries(doc.filters)) {
    const compiled = compileOrIssue(expr, ['filters', name], at);
    if (compiled) filters.set(name, compiled);
  }

  const paths: PathSpec[] = [];
  doc.paths.forEach((p, i) => {
    p.from.forEach((s, j) => {
      if (!(s in doc.sources)) at(['paths', i, 'from', j], `no source named "${s}" (defined: ${list(Object.keys(doc.sources))})`);
    });
    p.to.forEach((d, j) => {
      if (!(d in doc.destinations)) at(['paths', i, 'to', j], `no destination named "${d}" (defined: ${list(Object.keys(doc.destinations))})`);
    });
    let filter: PathSpec['filter'];
    if (p.filter !== undefined) {
      const named = doc.filters[p.filter];
      if (named !== undefined) {
        const compiled = filters.get(p.filter);
        if (compiled) filter = { expr: named, compiled };
      } else {
        const compiled = compileOrIssue(p.filter, ['paths', i, 'filter'], at, true);
        if (compiled) filter = { expr: p.filter, compiled };
      }
    }
    paths.push(filter ? { from: p.from, to: p.to, filter } : { from: p.from, to: p.to });
  });

  const hasListener = sources.some((s) => s.type === 'ship-listener');
  const receives = sources.some((s) => SOURCE_CATALOG.get(s.type)?.network === true);
  const hasShip = destinations.some((d) => d.type === 'ship');
  const role = doc.node.role ?? (hasListener && hasShip ? 'relay' : hasListener ? 'server' : 'client');
  const config: Config = {
    file: resolve(file),
    node: { name: doc.node.name, stateDir: resolve(doc.node.state_dir), role, receives },
    log: doc.log,
    sources,
    destinations,
    paths,
  };
  checkRules(config, doc, at, (path, message) => at(path, message, warnings));
  if (issues.length > 0) return { ok: false, issues, warnings };
  return { ok: true, config: deepFreeze(config), warnings };
}

function checkComponents(
  section: 'sources' | 'destinations',
  blocks: Record<string, Record<string, unknown>>,
  catalog: ReadonlyMap<string, { readonly options: z.ZodType }>,
  parsed: ParsedYaml,
  issues: ConfigIssue[],
): ComponentSpec[] {
  const out: ComponentSpec[] = [];
  const kinds = [...catalog.keys()].join(', ');
  for (const [name, block] of Object.entries(blocks)) {
    const type = block['type'];
    const path = [section, name];
    if (typeof type !== 'string') {
      const pos = parsed.position(path);
      issues.push({ path: formatPath([...path, 'type']), message: `missing "type" (one of: ${kinds})`, ...pos });
      continue;
    }
    const factory = catalog.get(type);
    if (factory === undefined) {
      const pos = parsed.position([...path, 'type']);
      issues.push({ path: formatPath([...path, 'type']), message: `unknown ${section === 'sources' ? 'source' : 'destination'} type "${type}" (one of: ${kinds})`, ...pos });
      continue;
    }
    // `spool` belongs to the pipeline, not to the plug-in: checked here, stripped from the block.
    let pluginBlock = block;
    let spool: SpoolOptions | undefined;
    let spoolOk = true;
    if (section === 'sources' && 'spool' in block) {
      const { spool: raw, ...rest } = block;
      pluginBlock = rest;
      const spoolPath = [...path, 'spool'];
      if (type === 'file') {
        issues.push({
          path: formatPath(spoolPath),
          message: 'a file source needs no spool: the file is its own buffer (its checkpoint advances only on delivery); remove `spool`',
          ...parsed.position(spoolPath),
        });
        spoolOk = false;
      } else {
        const sr = spoolOptions.safeParse(raw ?? {});
        if (sr.success) spool = sr.data;
        else {
          pushZodIssues(sr.error.issues, spoolPath, parsed, issues);
          spoolOk = false;
        }
      }
    }
    const r = factory.options.safeParse(pluginBlock);
    if (!r.success) {
      pushZodIssues(r.error.issues, path, parsed, issues);
      continue;
    }
    if (!spoolOk) continue;
    out.push(spool === undefined ? { name, type, options: r.data as Record<string, unknown> } : { name, type, options: r.data as Record<string, unknown>, spool });
  }
  return out;
}

function pushZodIssues(zIssues: readonly z.core.$ZodIssue[], prefix: readonly (string | number)[], parsed: ParsedYaml, issues: ConfigIssue[]): void {
  for (const zi of zIssues) {
    const base = [...prefix, ...zi.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys) {
        const path = [...base, key];
        issues.push({ path: formatPath(path), message: 'unknown key', ...parsed.position(path) });
      }
      continue;
    }
    issues.push({ path: formatPath(base), message: zi.message, ...parsed.position(base) });
  }
}

function compileOrIssue(
  expr: string,
  path: (string | number)[],
  at: (path: readonly (string | number)[], message: string) => void,
  inline = false,
): CompiledFilter | undefined {
  try {
    return compileFilter(expr);
  } catch (err) {
    if (err instanceof FilterSyntaxError) {
      const hint = inline && /^[a-z0-9_-]+$/.test(expr.trim()) ? ' (no filter of that name either)' : '';
      at(path, `filter expression, column ${err.col}: ${err.message}${hint}`);
      return undefined;
    }
    throw err;
  }
}

function list(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
