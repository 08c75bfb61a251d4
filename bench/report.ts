// Turns run results into tables: one line per run as it finishes, medians per contender with the
// ratio of logship to the faster peer, the targets of issue 5 marked met or missed, and
// bench/RESULTS.md (machine, versions, limits, command, settings, tables). Formatting only: no
// processes, no measuring.

import type { Contender } from './lib/daemons.js';
import type { Limits } from './lib/limits.js';
import type { Machine } from './lib/machine.js';
import type { HotFunction } from './lib/profile.js';
import type { RunResult } from './lib/runner.js';
import type { Scenario } from './lib/scenario.js';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary {
  scenario: string;
  contender: string;
  kind: Contender['kind'];
  runs: number;
  broken: number;
  msgsPerSec: number;
  mbPerSec: number;
  cpuSec: number;
  /** CPU seconds per million lines delivered. */
  cpuPerM: number;
  /** Median over runs of each role's peak RSS (MB). */
  rssMb: Record<string, number>;
  /** The worst run. */
  lost: number;
  duplicated: number;
  expected: number;
  idleCpuPercent?: number;
}

export function summarize(results: RunResult[]): Summary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const k = `${r.scenario}\u0000${r.contender}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: Summary[] = [];
  for (const rs of groups.values()) {
    const ok = rs.filter((r) => !r.broken);
    const first = rs[0]!;
    const roles = [...new Set(ok.flatMap((r) => Object.keys(r.rssMb)))];
    const rssMb: Record<string, number> = {};
    for (const role of roles) rssMb[role] = median(ok.map((r) => r.rssMb[role] ?? 0));
    const s: Summary = {
      scenario: first.scenario,
      contender: first.contender,
      kind: first.kind,
      runs: rs.length,
      broken: rs.length - ok.length,
      msgsPerSec: median(ok.map((r) => r.msgsPerSec)),
      mbPerSec: median(ok.map((r) => r.mbPerSec)),
      cpuSec: median(ok.map((r) => r.cpuSec)),
      cpuPerM: median(ok.filter((r) => (r.check?.unique ?? 0) > 0).map((r) => r.cpuSec / (r.check!.unique / 1e6))),
      rssMb,
      lost: Math.max(0, ...rs.map((r) => r.check?.lost ?? 0)),
      duplicated: Math.max(0, ...rs.map((r) => r.check?.duplicated ?? 0)),
      expected: first.expected,
    };
    const idle = ok.filter((r) => r.idleCpuPercent !== undefined).map((r) => r.idleCpuPercent!);
    if (idle.length > 0) s.idleCpuPercent = median(idle);
    out.push(s);
  }
  return out;
}

// --- numbers ------------------------------------------------------------------------------------

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fix = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '—');
const rssText = (rss: Record<string, number>): string => {
  const roles = Object.keys(rss);
  if (roles.length === 0) return '—';
  if (roles.length === 1) return fix(rss[roles[0]!]!, 1);
  return roles.map((r) => `${r} ${fix(rss[r]!, 1)}`).join(', ');
};

/** The faster of the peers (by median msg/s; idle: the lower CPU %), or undefined. */
function bestPeer(sums: Summary[], idle: boolean): Summary | undefined {
  const peers = sums.filter((s) => s.kind !== 'logship' && s.broken < s.runs);
  if (peers.length === 0) return undefined;
  return peers.reduce((a, b) => (idle ? (b.idleCpuPercent! < a.idleCpuPercent! ? b : a) : b.msgsPerSec > a.msgsPerSec ? b : a));
}

export function formatRunLine(r: RunResult): string {
  const head = `${r.scenario} run ${r.run} ${r.contender.padEnd(17)}`;
  if (r.broken) return `${head} BROKEN: ${r.problems.join('; ').slice(0, 600)}`;
  const rss = rssText(r.rssMb);
  const other = `other load ${fix(r.otherCores, 2)} cores`;
  if (r.idleCpuPercent !== undefined) {
    return `${head} idle CPU ${fix(r.idleCpuPercent, 2)} % of a core over ${fix(r.seconds, 1)} s, RSS ${rss} MB, ${other}`;
  }
  const c = r.check!;
  const extra = r.problems.length > 0 ? `  !! ${r.problems.join('; ').slice(0, 400)}` : '';
  return (
    `${head} ${int(r.msgsPerSec).padStart(10)} msg/s ${fix(r.mbPerSec, 1).padStart(7)} MB/s  CPU ${fix(r.cpuSec, 2).padStart(6)} s` +
    `  RSS ${rss} MB  lost ${c.lost}${c.lost > 0 ? ` (${c.lostRanges})` : ''} dup ${c.duplicated}  ${fix(r.seconds, 2)} s  ${other}${extra}`
  );
}

// --- tables ---------------------------------------------------------------------------------------

export interface ScenarioReport {
  scenario: Scenario;
  lines: number;
  summaries: Summary[];
  results: RunResult[];
}

function isIdle(sr: ScenarioReport): boolean {
  return sr.scenario.load.type === 'idle';
}

function ratioText(s: Summary, best: Summary | undefined, sc: Scenario): string {
  if (sc.outage || s.kind !== 'logship' || !best || !(best.msgsPerSec > 0)) return '';
  return `${fix(s.msgsPerSec / best.msgsPerSec, 2)}×`;
}

function medianRows(sr: ScenarioReport, limits: Limits | undefined): string[][] {
  const best = bestPeer(sr.summaries, isIdle(sr));
  if (isIdle(sr)) {
    return sr.summaries.map((s) => [s.contender, `${s.runs - s.broken}/${s.runs}`, fix(s.idleCpuPercent ?? NaN, 2), fix(s.cpuSec, 2), rssText(s.rssMb)]);
  }
  return sr.summaries.map((s) => [
    s.contender,
    `${s.runs - s.broken}/${s.runs}`,
    int(s.msgsPerSec),
    fix(s.mbPerSec, 1),
    limits ? `${fix((100 * s.mbPerSec) / limits.loopbackMBps, 1)} %` : '—',
    fix(s.cpuSec, 2),
    fix(s.cpuPerM, 2),
    rssText(s.rssMb),
    s.lost === 0 ? '0' : `${s.lost} (${fix((100 * s.lost) / s.expected, 1)} %)`,
    String(s.duplicated),
    ratioText(s, best, sr.scenario),
  ]);
}

const MEDIAN_HEAD = ['contender', 'runs ok', 'msg/s', 'MB/s', 'of loopback', 'CPU s', 'CPU s / M lines', 'peak RSS MB', 'lost (worst run)', 'dup', 'logship ÷ faster peer'];
const IDLE_HEAD = ['contender', 'runs ok', 'CPU % of one core', 'CPU s in window', 'peak RSS MB'];

function runRows(sr: ScenarioReport): string[][] {
  return sr.results.map((r) => {
    if (r.broken) return [String(r.run), r.contender, 'broken', '', '', '', '', '', r.problems.join('; ').slice(0, 200).replace(/\|/g, '/').replace(/\n/g, ' ')];
    if (r.idleCpuPercent !== undefined) {
      return [String(r.run), r.contender, `${fix(r.idleCpuPercent, 2)} % CPU`, '', fix(r.cpuSec, 2), rssText(r.rssMb), '', fix(r.otherCores, 2), r.problems.join('; ')];
    }
    const c = r.check!;
    return [
      String(r.run),
      r.contender,
      int(r.msgsPerSec),
      fix(r.mbPerSec, 1),
      fix(r.cpuSec, 2),
      rssText(r.rssMb),
      `${c.lost}/${c.duplicated}`,
      fix(r.otherCores, 2),
      r.problems.join('; ').slice(0, 200).replace(/\|/g, '/').replace(/\n/g, ' '),
    ];
  });
}
const RUN_HEAD = ['run', 'contender', 'msg/s', 'MB/s', 'CPU s', 'peak RSS MB', 'lost/dup', 'other load (cores)', 'notes'];

/** Runs during which other work used more than this many cores are "noisy". */
export const NOISY_CORES = 0.25;

function textTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function mdTable(head: string[], rows: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function consoleSummary(sr: ScenarioReport, limits: Limits | undefined): string {
  const head = isIdle(sr) ? IDLE_HEAD : MEDIAN_HEAD;
  return `\n== ${sr.scenario.name}: ${sr.scenario.title} (${isIdle(sr) ? 'idle' : `${sr.lines.toLocaleString('en-US')} lines`}), medians ==\n${textTable(head, medianRows(sr, limits))}\n${targetLines(sr).map((t) => `  ${t}`).join('\n')}`;
}

// --- targets --------------------------------------------------------------------------------------

/** Issue 5's targets for this scenario, each "met" or "MISSED" with the figures. */
export function targetLines(sr: ScenarioReport): string[] {
  const t = sr.scenario.targets;
  const out: string[] = [];
  const best = bestPeer(sr.summaries, isIdle(sr));
  const ours = sr.summaries.filter((s) => s.kind === 'logship');
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  for (const s of ours) {
    if (s.broken === s.runs) {
      out.push(`${s.contender}: every run broke — no figures`);
      continue;
    }
    const peers = sr.summaries.filter((p) => p.kind !== 'logship' && p.broken < p.runs);
    if (t.ratio !== undefined && best) {
      const r = s.msgsPerSec / best.msgsPerSec;
      out.push(`${s.contender}: msg/s ${fix(r, 2)}× ${best.contender} (target ≥ ${t.ratio}×): ${mark(r >= t.ratio)}`);
    }
    if (sr.scenario.strict !== false && !isIdle(sr)) {
      out.push(`${s.contender}: lost ${s.lost}, duplicated ${s.duplicated} (target 0): ${mark(s.lost === 0 && s.duplicated === 0)}`);
    }
    if (t.ratio !== undefined && sr.scenario.strict !== false && peers.length > 0) {
      const leanest = peers.reduce((a, b) => (b.cpuPerM < a.cpuPerM ? b : a));
      out.push(`${s.contender}: CPU ${fix(s.cpuPerM, 2)} s per M lines vs ${leanest.contender} ${fix(leanest.cpuPerM, 2)}, the leaner peer (target ≤): ${mark(s.cpuPerM <= leanest.cpuPerM)}`);
    }
    if (sr.scenario.strict === false && peers.length > 0) {
      const peersLost = Math.min(...peers.map((p) => p.lost));
      out.push(`${s.contender}: lost ${s.lost} vs the peers' best ${peersLost} (target ≤): ${mark(s.lost <= peersLost)}`);
    }
    for (const [role, max] of Object.entries(t.rss_mb ?? {})) {
      const v = s.rssMb[role];
      if (v !== undefined) out.push(`${s.contender}: ${role} peak RSS ${fix(v, 1)} MB (target < ${max}): ${mark(v < max)}`);
    }
    if (t.cpu_percent !== undefined && s.idleCpuPercent !== undefined) {
      out.push(`${s.contender}: idle CPU ${fix(s.idleCpuPercent, 2)} % of a core (target < ${t.cpu_percent} %): ${mark(s.idleCpuPercent < t.cpu_percent)}`);
    }
  }
  return out;
}

// --- RESULTS.md -------------------------------------------------------------------------------------

export interface ReportDoc {
  command: string;
  startedAt: Date;
  finishedAt: Date;
  quick: boolean;
  runs: number;
  machine: Machine;
  loadAfter: number;
  versions: Record<string, string>;
  limits: Limits | undefined;
  scenarios: ScenarioReport[];
  failures: string[];
  notes: string[];
  profiles: Array<{ file: string; top: HotFunction[] }>;
}

const SETTINGS = `- **Load.** Our generator (\`bench/lib/gen.ts\`, its own process, so its CPU is never the daemon's)
  sends loggen's message layout, 200 bytes: \`<38>Nov 23 12:04:31 HOST prg00000[1234]: seq: NNNNNNNNNN, thread: …,
  runid: …, stamp: … PADD…\` + LF for newline framing and UDP; RFC 5424 (\`<38>1 ISOTIME HOST prg00000 1234 - - BOM seq: …\`)
  as "200 MSG" for octet counting, as \`loggen -P\` does. The 3164 header has a BSD timestamp where loggen puts an ISO time
  without zone, which rsyslog's parser rejects (it then files messages under the sender's IP, not their HOSTNAME).
  loggen itself tops out near 620,000 msg/s into a bare socket here, below what the scenarios must measure.
  File scenarios append 200-byte lines (\`ISOTIME HOST app[1234]: seq: …\`) in 1 MiB writes as fast as the disk takes them.
- **Timing.** From "go" to the last write of the last line: the watcher stats the output files every 20 ms and counts
  their lines once they stop growing (reading them while the daemon writes would take a core from it; the outage
  scenario counts as they come), and the run ends at the newest mtime of the growth it saw (the kernel's file times,
  within its 4 ms tick), not at the poll that noticed (UDP, and a peer that lost lines in the outage scenario: the last
  write once the sender is done and nothing new came). CPU = utime+stime from /proc/PID/stat of every measured daemon
  process (all threads) from "go" to that poll; peak RSS = VmHWM of each process at that moment.
- **Checking.** After the daemons are stopped (SIGTERM, by pid), every output line is read; the 10-digit sequence
  number is counted per value: missing = lost, seen twice = duplicated; lines without one are reported.
  S4 also checks that every file holds one sender's lines and that there are 50 files.
- **Durability.** logship's file destination fsyncs (fdatasync) before it acknowledges by default (\`fsync: true\`);
  it is measured both ways, labelled "logship fsync" and "logship no-fsync". rsyslog's omfile and syslog-ng's file()
  run with their defaults: buffered, asynchronous writes with no fsync, so "logship no-fsync" is the like-for-like
  comparison and "logship fsync" gives a stronger guarantee than either peer. Between tiers logship acknowledges
  each batch once the next tier holds it (the server's files, or a relay's disk spool, synced per the same
  setting), and a client re-reads what was not acknowledged; rsyslog's omfwd and syslog-ng's network() have no
  application-level acknowledgements.
- **No-loss settings for the peers.** syslog-ng runs its log paths with \`flags(flow-control)\` (otherwise it
  drops when its output queue fills) and reconnects after 1 s (\`time_reopen(1)\`); rsyslog keeps its default
  in-memory queues (it throttles imtcp when they fill) and its omfwd actions retry every second, forever
  (\`action.resumeInterval="1" action.resumeRetryCount="-1"\`). UDP receive buffers are 4 MiB for all three
  (the kernel's rmem_max here). Otherwise every daemon runs with its defaults: no tuning of threads, batch or
  queue sizes for anyone.
- **Configs** are in \`bench/scenarios/<name>/\`: \`logship*.yaml\`, \`rsyslog*.conf\`, \`syslog-ng*.conf\` (templates;
  \`{{OUT}}\`, \`{{PORT_…}}\` etc. are filled in per run), state in a fresh temp dir per run, high loopback ports.`;

export function markdown(doc: ReportDoc): string {
  const L: string[] = [];
  L.push('# Benchmark results');
  L.push('');
  L.push('<!-- Generated by bench/run.ts (npm run bench). Do not edit: run it again. -->');
  L.push('');
  if (doc.quick) {
    L.push('> **Quick run (`--quick`)**: small line counts and one run per contender, as CI runs it. These figures');
    L.push('> show that the harness and every contender work end to end; they are not the full-size comparison.');
    L.push('');
  }
  const all = doc.scenarios.flatMap((sr) => sr.results);
  const noisy = all.filter((r) => r.otherCores > NOISY_CORES);
  if (doc.machine.load1 >= 0.5 || noisy.length > 0) {
    const worst = Math.max(0, ...all.map((r) => (Number.isFinite(r.otherCores) ? r.otherCores : 0)));
    L.push(`> **Noisy machine**: load average ${doc.machine.load1.toFixed(2)} at the start; other work used more than`);
    L.push(`> ${NOISY_CORES} of a core during ${noisy.length} of ${all.length} runs (up to ${worst.toFixed(2)} cores, column "other load" below).`);
    L.push('> Read those figures as rough.');
    L.push('');
  }
  L.push(`Command: \`${doc.command}\`  `);
  L.push(`Date: ${doc.startedAt.toISOString()} – ${doc.finishedAt.toISOString()}  `);
  L.push(`Runs per contender: ${doc.runs}, alternating within each scenario, the order reversed every other round (A B C … C B A …).`);
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(
    mdTable(
      ['', ''],
      [
        ['CPUs (nproc)', String(doc.machine.nproc)],
        ['model', doc.machine.model],
        ['kernel', doc.machine.kernel],
        ['memory', `${doc.machine.memGB.toFixed(1)} GiB`],
        ['load average (1 min) at start / end', `${doc.machine.load1.toFixed(2)} / ${doc.loadAfter.toFixed(2)}`],
        ['Node.js', doc.versions['node'] ?? '?'],
        ['logship', doc.versions['logship'] ?? '?'],
        ['rsyslog', doc.versions['rsyslog'] ?? '?'],
        ['syslog-ng', doc.versions['syslog-ng'] ?? '?'],
      ],
    ),
  );
  L.push('');
  L.push('## Limits of this machine (same run)');
  L.push('');
  if (doc.limits) {
    const l = doc.limits;
    L.push(
      mdTable(
        ['limit', 'value', 'how'],
        [
          ['loopback TCP', `${fix(l.loopbackMBps, 0)} MB/s (${int((l.loopbackMBps * 1e6) / 200)} msg/s of 200 B)`, `best of 3: one connection, ${l.loopbackBytes / 2 ** 20} MiB in 1 MiB writes, Node sender process → Node receiver`],
          ['disk, sequential + fsync', `${fix(l.diskSeqMBps, 0)} MB/s`, `best of 2: ${l.diskBytes / 2 ** 20} MiB in 1 MiB writes, then fsync, in the run's temp dir`],
          ['disk, 64 KiB append + fdatasync', `${fix(l.diskSyncsPerSec, 0)} syncs/s`, 'best of 2: each append synced before the next'],
        ],
      ),
    );
  } else {
    L.push('Not measured (`--no-limits`).');
  }
  L.push('');
  L.push('## Summary (medians)');
  L.push('');
  L.push('MB = 10^6 bytes of messages as sent (S1–S5); "of loopback" = MB/s ÷ the loopback limit above. CPU s = daemon');
  L.push('CPU seconds over the run, summed over the scenario\'s daemon processes. Peak RSS in MiB, per process role.');
  L.push('');
  for (const sr of doc.scenarios) {
    const idle = isIdle(sr);
    L.push(`### ${sr.scenario.name}: ${sr.scenario.title}`);
    L.push('');
    L.push(sr.scenario.description.trim());
    L.push('');
    const o = sr.scenario.outage;
    const outage = o ? ` The ${o.role} was stopped for ${doc.quick ? o.quick_seconds : o.seconds} s in each run.` : '';
    L.push(idle ? `${sr.scenario.load.type === 'idle' ? sr.scenario.load.files : 0} files watched.` : `${sr.lines.toLocaleString('en-US')} lines per run.${outage}`);
    L.push('');
    L.push(mdTable(idle ? IDLE_HEAD : MEDIAN_HEAD, medianRows(sr, doc.limits)));
    L.push('');
    const targets = targetLines(sr);
    if (targets.length > 0) {
      L.push('Targets (issue 5):');
      L.push('');
      for (const t of targets) L.push(`- ${t}`);
      L.push('');
      const a = sr.scenario.analysis;
      if (a !== undefined && targets.some((t) => t.endsWith(': MISSED'))) {
        L.push(`Missed: the profile, the causes found and the changes measured are in [\`${a}\`](../${a}).`);
        L.push('');
      }
    }
  }
  L.push('## Every run');
  L.push('');
  for (const sr of doc.scenarios) {
    L.push(`### ${sr.scenario.name}`);
    L.push('');
    L.push(mdTable(RUN_HEAD, runRows(sr)));
    L.push('');
  }
  L.push('## Settings and fairness');
  L.push('');
  L.push(SETTINGS);
  L.push('');
  if (doc.profiles.length > 0) {
    L.push('## Where logship spends its time (node --cpu-prof, self time)');
    L.push('');
    for (const p of doc.profiles) {
      L.push(`\`${p.file}\``);
      L.push('');
      L.push(mdTable(['% of samples', 'function', 'where'], p.top.map((h) => [fix(h.selfPercent, 1), h.name, h.where])));
      L.push('');
    }
  }
  if (doc.notes.length > 0 || doc.failures.length > 0) {
    L.push('## Notes');
    L.push('');
    for (const n of doc.notes) L.push(`- ${n}`);
    for (const f of doc.failures) L.push(`- **Failure:** ${f}`);
    L.push('');
  }
  return L.join('\n');
}
