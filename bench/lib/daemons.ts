// How each contender is started: logship from a snapshot of the built dist/ (so a rebuild during the
// run cannot pull files from under it), rsyslogd and syslog-ng in the foreground with their own
// pid/persist/control files in the process' temp dir. Paths of the peers come from
// test/helpers/peers/ (installed by .ci/install-peers.sh), and syslog-ng's command line too.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerPaths, syslogNgArgs } from '../../test/helpers/peers/index.js';
import type { DaemonSpec } from './proc.js';
import type { DaemonKind } from './scenario.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One contender of a scenario: a daemon kind, and for logship the fsync setting it runs with. */
export interface Contender {
  label: string;
  kind: DaemonKind;
  fsync: boolean;
}

export function contenders(kinds: readonly DaemonKind[], fsyncVariants: boolean): Contender[] {
  const out: Contender[] = [];
  for (const kind of kinds) {
    if (kind === 'logship' && fsyncVariants) {
      out.push({ label: 'logship fsync', kind, fsync: true });
      out.push({ label: 'logship no-fsync', kind, fsync: false });
    } else {
      out.push({ label: kind, kind, fsync: kind === 'logship' });
    }
  }
  return out;
}

/**
 * The order the contenders run in round `run` (1-based): as given in odd rounds, reversed in even
 * ones (ABBA), so that none always runs first or last in a round (a fixed order favoured the later
 * position by a few percent here, docs/decisions/0005).
 */
export function roundOrder<T>(cs: readonly T[], run: number): readonly T[] {
  return run % 2 === 1 ? cs : [...cs].reverse();
}

/** Copies `from`/dist and package.json into `root` and links node_modules, so the daemons run a
 *  frozen build. `from` is the repo, or another checkout's folder holding a built dist/ (to compare
 *  builds). Returns the path of main.js, and source files newer than the build (`from`/src). */
export function snapshotLogship(root: string, from = REPO): { main: string; stale: string[] } {
  const dist = join(from, 'dist');
  const main = join(dist, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does)`);
  const built = statSync(main).mtimeMs;
  const stale: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && statSync(p).mtimeMs > built) stale.push(p.slice(from.length + 1));
    }
  };
  if (existsSync(join(from, 'src'))) walk(join(from, 'src'));
  const snap = join(root, 'logship');
  mkdirSync(snap, { recursive: true });
  cpSync(dist, join(snap, 'dist'), { recursive: true });
  // The native addons (build/Release/*.node: UDP receiver, TCP reader, header reader, line writer); without them logship falls back.
  const addons = join(from, 'build', 'Release');
  if (existsSync(addons)) {
    for (const f of readdirSync(addons)) if (f.endsWith('.node')) cpSync(join(addons, f), join(snap, 'build', 'Release', f));
  }
  cpSync(join(existsSync(join(from, 'package.json')) ? from : REPO, 'package.json'), join(snap, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(snap, 'node_modules'));
  // The command operators run (it sizes libuv's thread pool before dist/main.js loads); a build
  // from before it had only dist/main.js.
  const bin = join(from, 'bin', 'logship.cjs');
  if (!existsSync(bin)) return { main: join(snap, 'dist', 'main.js'), stale };
  cpSync(bin, join(snap, 'bin', 'logship.cjs'));
  return { main: join(snap, 'bin', 'logship.cjs'), stale };
}

export interface LaunchOptions {
  kind: DaemonKind;
  name: string;
  /** The process' own dir: config, pid, persist and state files, log. */
  dir: string;
  configText: string;
  logshipMain: string;
  /** logship only: extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

const CONFIG_FILE: Record<DaemonKind, string> = { logship: 'logship.yaml', rsyslog: 'rsyslog.conf', 'syslog-ng': 'syslog-ng.conf' };

/** Writes the config into the process' dir and returns how to start the process. */
export function launchSpec(o: LaunchOptions): DaemonSpec {
  const cfg = join(o.dir, CONFIG_FILE[o.kind]);
  writeFileSync(cfg, o.configText);
  const logFile = join(o.dir, 'daemon.log');
  switch (o.kind) {
    case 'logship':
      return {
        name: o.name,
        cmd: process.execPath,
        args: [...(o.nodeArgs ?? []), o.logshipMain, 'run', '--config', cfg],
        cwd: o.dir,
        logFile,
      };
    case 'rsyslog':
      return { name: o.name, cmd: peerPaths().rsyslogd, args: ['-n', '-f', cfg, '-i', join(o.dir, 'rsyslogd.pid')], cwd: o.dir, logFile };
    case 'syslog-ng': {
      const p = peerPaths();
      const ld = process.env['LD_LIBRARY_PATH'];
      return {
        name: o.name,
        cmd: p.syslogNg,
        args: syslogNgArgs(p, o.dir, cfg),
        env: { ...process.env, LD_LIBRARY_PATH: ld ? `${p.syslogNgLib}:${ld}` : p.syslogNgLib },
        cwd: o.dir,
        logFile,
      };
    }
  }
}

/** Versions of the contenders, for the report. */
export function versions(logshipDir = REPO): Record<DaemonKind | 'node', string> {
  const p = peerPaths();
  const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
  };
  const pkg = JSON.parse(run('cat', [join(existsSync(join(logshipDir, 'package.json')) ? logshipDir : REPO, 'package.json')])) as { version?: string };
  const rs = /rsyslogd\s+(\S+)/.exec(run(p.rsyslogd, ['-v']));
  const sng = /Installer-Version:\s*(\S+)/.exec(
    run(p.syslogNg, ['--version'], { ...process.env, LD_LIBRARY_PATH: p.syslogNgLib }),
  );
  // Which code was measured: the commit, and how many files of src/ differ from it (read-only git).
  let build = '';
  const head = run('git', ['-C', logshipDir, 'rev-parse', '--short', 'HEAD']).trim();
  if (/^[0-9a-f]{6,}$/.test(head)) {
    const changed = run('git', ['-C', logshipDir, 'status', '--porcelain', '--', 'src']).split('\n').filter((l) => l.trim() !== '').length;
    build = ` (commit ${head}${changed > 0 ? ` + ${changed} uncommitted change(s) in src/` : ''})`;
  }
  return {
    logship: `${pkg.version ?? '?'}${build}`,
    rsyslog: rs?.[1] ?? '?',
    'syslog-ng': sng?.[1] ?? '?',
    node: process.version,
  };
}

/** Config probes: capability name → a config that `logship check-config` accepts only when the
 *  build has it. */
const PROBES: Record<string, string> = {
  // The relay's disk spool on the ship listener (issue 4).
  SPOOL: [
    'node: { name: probe, state_dir: STATE }',
    'sources:',
    '  in: { type: ship-listener, listen: "tcp:127.0.0.1:0", spool: { fsync: true } }',
    'destinations:',
    '  out: { type: blackhole }',
    'paths:',
    '  - { from: [in], to: [out] }',
    '',
  ].join('\n'),
};

/** Which optional features the build under test has (check-config on a probe config each). */
export function probeCapabilities(main: string, dir: string): Record<string, boolean> {
  const caps: Record<string, boolean> = {};
  for (const [name, text] of Object.entries(PROBES)) {
    const file = join(dir, `probe-${name.toLowerCase()}.yaml`);
    writeFileSync(file, text.replace('STATE', join(dir, 'probe-state')));
    const r = spawnSync(process.execPath, [main, 'check-config', '--quiet', file], { encoding: 'utf8', timeout: 30_000 });
    caps[name] = r.status === 0;
  }
  return caps;
}
