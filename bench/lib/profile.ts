// Reads a V8 .cpuprofile (node --cpu-prof) and lists the functions with the most self time, as a share
// of the busy samples ("(idle)" left out), for the report and for deciding what to optimise. The
// profile spans the whole process, start-up included. Pure: reads one file.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotFunction {
  name: string;
  where: string;
  /** Share of the busy (non-idle) samples, in %. */
  selfPercent: number;
}

export function topFunctions(file: string, n: number, repo: string): HotFunction[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byKey = new Map<string, { name: string; where: string; hits: number }>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') continue;
    total += hits;
    let where = cf.url;
    if (where.startsWith('file://')) {
      try {
        where = relative(repo, fileURLToPath(where));
      } catch {
        // keep the URL
      }
    }
    // Source paths in the frozen build (…/logship/dist/x.js) read better as dist/x.js.
    where = where.replace(/^.*\/logship\/dist\//, 'dist/');
    where = where === '' ? '' : `${where}:${cf.lineNumber + 1}`;
    const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const key = `${name} ${where}`;
    const e = byKey.get(key) ?? { name, where, hits: 0 };
    e.hits += hits;
    byKey.set(key, e);
  }
  return [...byKey.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, n)
    .map((e) => ({ name: e.name, where: e.where, selfPercent: total > 0 ? (100 * e.hits) / total : 0 }));
}
