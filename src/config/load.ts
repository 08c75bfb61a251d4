// Read a config file and parse its YAML, keeping positions so every issue can name its line.
// No schema knowledge here.

import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { LogshipError } from '../core/errors.js';

export interface ConfigIssue {
  /** Dotted key path, e.g. "destinations.archive.bucket" or "paths[0].to[1]". */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly col?: number;
}

export interface ParsedYaml {
  readonly file: string;
  readonly value: unknown;
  /** Line/column of the node at a key path (the key itself when the path ends at a map key). */
  position(path: readonly (string | number)[]): { line: number; col: number } | undefined;
}

export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new LogshipError('LS_CONFIG_READ', `cannot read config file ${file}: ${why}`, { cause: err });
  }
}

export function parseYaml(file: string, text: string): { parsed: ParsedYaml } | { issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `invalid YAML: ${e.message.split('\n')[0]}`, line: pos.line, col: pos.col };
      }),
    };
  }
  const position = (path: readonly (string | number)[]): { line: number; col: number } | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      // When the path ends at a map key, point at the key rather than its value.
      if (n > 0) {
        const parent = prefix.length > 1 ? doc.getIn(prefix.slice(0, -1), true) : doc.contents;
        const last = prefix[prefix.length - 1];
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(last));
          const keyNode = pair?.key;
          if (isScalar(keyNode) && keyNode.range) return lineCounter.linePos(keyNode.range[0]);
        }
      }
      const node = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]);
    }
    return undefined;
  };
  return { parsed: { file, value: doc.toJS({ maxAliasCount: 100 }) as unknown, position } };
}

/** Renders a key path array as "a.b[0].c". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}
