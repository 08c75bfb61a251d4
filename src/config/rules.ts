// Cross-field rules, run after every block has passed its own schema: resource conflicts
// (two listeners on one address, two file destinations on one path) and unused components.

import type { Config } from './index.js';
import type { Document } from './schema.js';

type At = (path: readonly (string | number)[], message: string) => void;

export function checkRules(config: Config, doc: Document, issue: At, warn: At): void {
  if (doc.paths.length === 0) issue(['paths'], 'no paths: nothing would flow (add `paths: [{ from: [...], to: [...] }]`)');

  const usedSources = new Set(doc.paths.flatMap((p) => p.from));
  const usedDest = new Set(doc.paths.flatMap((p) => p.to));
  const usedFilters = new Set(doc.paths.map((p) => p.filter).filter((f): f is string => f !== undefined));
  for (const s of config.sources) if (!usedSources.has(s.name)) warn(['sources', s.name], 'source is not used by any path');
  for (const d of config.destinations) if (!usedDest.has(d.name)) warn(['destinations', d.name], 'destination is not used by any path');
  for (const f of Object.keys(doc.filters)) if (!usedFilters.has(f)) warn(['filters', f], 'filter is not used by any path');

  const listeners = new Map<string, string>();
  for (const s of config.sources) {
    const listen = s.options['listen'];
    if (typeof listen !== 'string') continue;
    const other = listeners.get(listen);
    if (other !== undefined && !/:0$/.test(listen)) issue(['sources', s.name, 'listen'], `"${listen}" is already the listen address of source "${other}"`);
    else listeners.set(listen, s.name);
  }

  const outputs = new Map<string, string>();
  for (const d of config.destinations) {
    if (d.type !== 'file') continue;
    const key = `${String(d.options['base_dir'])}\u0000${String(d.options['path'])}`;
    const other = outputs.get(key);
    if (other !== undefined) issue(['destinations', d.name, 'path'], `destination "${other}" already writes to the same base_dir and path`);
    else outputs.set(key, d.name);
  }
}
