// The benchmark harness (issue 5): runs logship and the peers (rsyslog, syslog-ng) on the same
// scenarios in the same run, alternating them, measures the machine's limits alongside, prints each
// run and the medians, and writes bench/RESULTS.md. Exit 1 when the harness or a daemon broke, or a
// TCP/file scenario lost or duplicated a line.
//
//   npm run bench -- SCENARIO|all [more…] [--runs N] [--lines N] [--quick] [--only logship,rsyslog]
//                    [--cpu-prof] [--node-flags FLAGS] [--keep] [--no-limits] [--results FILE | --no-results]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { peerPaths } from '../test/helpers/peers/index.js';
import { contenders, probeCapabilities, REPO, roundOrder, snapshotLogship, versions } from './lib/daemons.js';
import { measureLimits, type Limits } from './lib/limits.js';
import { machine } from './lib/machine.js';
import { killAllTracked } from './lib/proc.js';
import { topFunctions, type HotFunction } from './lib/profile.js';
import { runOne, type RunResult } from './lib/runner.js';
import { DAEMON_KINDS, isStrict, loadScenario, selectScenarios, type DaemonKind } from './lib/scenario.js';
import { consoleSummary, formatRunLine, markdown, summarize, type ScenarioReport } from './report.js';

const USAGE = `usage: npm run bench -- SCENARIO|all [SCENARIO…] [options]
  SCENARIO      a folder of bench/scenarios (s1-tcp-newline…), its prefix (S1 = both S1 variants), or all
  --runs N      runs per contender (default 3; --quick: 1)
  --lines N     lines per run (default: the scenario's, 1,000,000; --quick: its quick_lines, 20,000)
  --quick       CI size: quick_lines, 1 run, short idle window, small limit tests
  --only LIST   contenders to run, comma-separated: logship,rsyslog,syslog-ng
  --logship DIR a folder with another build of logship (DIR/bin/logship.cjs, else DIR/dist/main.js) to measure instead of this repo's
  --cpu-prof    run logship under node --cpu-prof; profiles go to bench/profiles/, top functions to the report
  --node-flags F more node flags for logship's measured processes, space-separated (e.g. --node-flags="--trace-gc"; with --keep)
  --keep        keep the temp dirs (configs, logs, outputs)
  --no-limits   skip the loopback and disk limit measurements
  --results F   write the report to F (default bench/RESULTS.md); --no-results: write none`;

async function main(): Promise<number> {
  const { values: a, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      lines: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'node-flags': { type: 'string' },
      logship: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-limits': { type: 'boolean', default: false },
      results: { type: 'string' },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (a.help || positionals.length === 0) {
    console.log(USAGE);
    return a.help ? 0 : 2;
  }
  const quick = a.quick;
  const runs = a.runs !== undefined ? Number(a.runs) : quick ? 1 : 3;
  const linesOverride = a.lines !== undefined ? Number(a.lines) : undefined;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1');
  if (linesOverride !== undefined && (!Number.isInteger(linesOverride) || linesOverride < 1)) throw new Error('--lines takes a whole number ≥ 1');
  const only = a.only?.split(',').map((s) => s.trim()) as DaemonKind[] | undefined;
  for (const k of only ?? []) if (!DAEMON_KINDS.includes(k)) throw new Error(`--only: unknown contender "${k}" (${DAEMON_KINDS.join(', ')})`);

  const names = selectScenarios(positionals);
  const scenarios = names.map(loadScenario);
  peerPaths(); // throws with the install command when the peers are missing

  const startedAt = new Date();
  const mach = machine();
  const root = mkdtempSync(join(tmpdir(), 'logship-bench-'));
  const log = (line: string): void => console.log(line);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  log(`# ${command}`);
  log(`# ${mach.nproc} CPUs (${mach.model}), kernel ${mach.kernel}, load ${mach.load1.toFixed(2)}; temp dir ${root}`);
  if (mach.load1 >= 0.5) log('# note: the machine is busy (load ≥ 0.5): figures will be noisy');

  const failures: string[] = [];
  const notes: string[] = [];
  const logshipDir = a.logship !== undefined ? resolve(a.logship) : REPO;
  if (logshipDir !== REPO) notes.push(`logship measured from ${logshipDir} (--logship), not this checkout's dist/`);
  const { main: logshipMain, stale } = snapshotLogship(root, logshipDir);
  if (stale.length > 0) {
    const msg = `dist/ is older than ${stale.length} source file(s) (e.g. ${stale[0]}): the build measured may not be the current code`;
    log(`# warning: ${msg}`);
    notes.push(msg);
  }
  const vers = versions(logshipDir);
  const caps = probeCapabilities(logshipMain, root);
  log(`# logship build: ${Object.entries(caps).map(([k, v]) => `${k.toLowerCase()} ${v ? 'yes' : 'no'}`).join(', ')}`);
  notes.push(
    caps['SPOOL']
      ? "logship's relays (S5) ran with their disk spool (`spool.fsync` as the file destination's `fsync`)."
      : "logship's relays (S5) ran without a disk spool: this build's ship listener has none (issue 4); a relay then acknowledges a batch once the server has.",
  );
  log(`# node ${vers.node}, logship ${vers.logship}, rsyslog ${vers.rsyslog}, syslog-ng ${vers['syslog-ng']}`);

  let limits: Limits | undefined;
  if (!a['no-limits']) {
    limits = await measureLimits(root, quick);
    log(`# limits: loopback ${limits.loopbackMBps.toFixed(0)} MB/s, disk ${limits.diskSeqMBps.toFixed(0)} MB/s sequential+fsync, ${limits.diskSyncsPerSec.toFixed(0)} fdatasync/s (64 KiB appends)`);
  }

  const cpuProfDir = a['cpu-prof'] ? join(REPO, 'bench', 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const nodeFlags = (a['node-flags'] ?? '').split(' ').filter((f) => f !== '');
  const ctx = { root, logshipMain, quick, keep: a.keep, caps, cpuProfDir, nodeFlags, log };
  const reports: ScenarioReport[] = [];
  let anyBroken = false;

  for (const s of scenarios) {
    const lines = linesOverride ?? (quick ? s.quick_lines : s.lines);
    const kinds = s.daemons.filter((k) => !only || only.includes(k));
    const cs = contenders(kinds, s.fsync_variants);
    log(`\n## ${s.name}: ${s.title}${s.load.type === 'idle' ? '' : ` — ${lines.toLocaleString('en-US')} lines`}, ${runs} run(s) of ${cs.map((c) => c.label).join(', ')}`);
    const results: RunResult[] = [];
    for (let run = 1; run <= runs; run++) {
      for (const c of roundOrder(cs, run)) {
        const r = await runOne(ctx, s, c, run, lines);
        results.push(r);
        log(formatRunLine(r));
        const where = `${s.name} run ${run} ${c.label}`;
        if (r.broken) {
          anyBroken = true;
          failures.push(`${where}: ${r.problems.join('; ').slice(0, 500)}`);
        } else if (isStrict(s, c.kind) && r.check) {
          const ch = r.check;
          if (ch.lost > 0 || ch.duplicated > 0 || ch.foreign > 0 || ch.misrouted > 0) {
            failures.push(`${where}: lost ${ch.lost} (${ch.lostRanges || 'none'}), duplicated ${ch.duplicated}, foreign ${ch.foreign}, misrouted ${ch.misrouted}`);
          } else if (r.problems.length > 0) {
            failures.push(`${where}: ${r.problems.join('; ')}`);
          }
        } else if (r.problems.some((p) => p.includes(' exit '))) {
          failures.push(`${where}: ${r.problems.join('; ')}`);
        }
      }
    }
    const sr: ScenarioReport = { scenario: s, lines, summaries: summarize(results), results };
    reports.push(sr);
    log(consoleSummary(sr, limits));
  }

  const profiles: Array<{ file: string; top: HotFunction[] }> = [];
  for (const sr of reports) {
    for (const r of sr.results) {
      for (const f of r.profiles) {
        const top = topFunctions(f, 15, REPO);
        profiles.push({ file: relative(REPO, f), top });
        log(`\n# profile ${relative(REPO, f)} (self time)`);
        for (const h of top) log(`  ${h.selfPercent.toFixed(1).padStart(5)} %  ${h.name}  ${h.where}`);
      }
    }
  }

  const loadAfter = loadavg()[0]!;
  if (!a['no-results']) {
    const file = a.results ?? join(REPO, 'bench', 'RESULTS.md');
    writeFileSync(
      file,
      markdown({
        command,
        startedAt,
        finishedAt: new Date(),
        quick,
        runs,
        machine: mach,
        loadAfter,
        versions: vers,
        limits,
        scenarios: reports,
        failures,
        notes,
        profiles,
      }),
    );
    log(`\n# wrote ${relative(process.cwd(), file) || file}`);
  }
  if (a.keep || anyBroken) log(`# temp dir kept: ${root}`);
  else rmSync(root, { recursive: true, force: true });
  if (failures.length > 0) {
    log(`\n# FAILED (${failures.length}):`);
    for (const f of failures) log(`#  - ${f}`);
    return 1;
  }
  return 0;
}

process.once('SIGINT', () => {
  killAllTracked();
  process.exitCode = 130;
  process.kill(process.pid, 'SIGTERM');
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killAllTracked();
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
