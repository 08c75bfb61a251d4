// `logship check-config FILE`: the same loadConfig() that run and reload use. Exit 0 when valid,
// 78 (EX_CONFIG) with every problem listed, each naming its key path and line.
import { loadConfig } from '../config/index.js';
import { EXIT, ExitError } from '../core/errors.js';
import { formatIssue } from './issues.js';

export async function runCheckConfig(file: string, opts: { quiet?: boolean }): Promise<void> {
  const r = await loadConfig(file);
  for (const w of r.warnings) process.stderr.write(`${formatIssue(file, w, 'warning')}\n`);
  if (!r.ok) {
    for (const i of r.issues) process.stderr.write(`${formatIssue(file, i, 'error')}\n`);
    throw new ExitError(EXIT.CONFIG, `${file}: ${r.issues.length} problem${r.issues.length === 1 ? '' : 's'}`);
  }
  if (!opts.quiet) {
    const c = r.config;
    process.stdout.write(
      `${file}: ok (node ${c.node.name}, role ${c.node.role}, ${c.sources.length} sources, ${c.destinations.length} destinations, ${c.paths.length} paths)\n`,
    );
  }
}
