// One run of one contender on one scenario: fresh dirs and ports, the daemons started in order and
// waited for, the load sent, the output watched until every line is there (or it stalls), CPU and
// peak RSS read from /proc at that moment, the daemons stopped by pid, the output checked line by
// line. Never throws for a daemon's failure: the run's result says what went wrong.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort, isListening } from '../../test/helpers/peers/index.js';
import { launchSpec, type Contender } from './daemons.js';
import type { GenDone, GenSpec } from './gen.js';
import { startGenerator, type Generator } from './generator.js';
import { checkOutput, OutputWatcher, RunClock, type CheckResult } from './output.js';
import { cpuSeconds, Daemon, machineBusySeconds, statusKb, type DaemonSpec } from './proc.js';
import { configPath, isStrict, render, type Scenario } from './scenario.js';

export interface RunContext {
  /** The harness' temp root; each run gets a folder under it. */
  root: string;
  logshipMain: string;
  quick: boolean;
  keep: boolean;
  /** What the logship build under test supports (template lines `#?NAME …`). */
  caps: Record<string, boolean>;
  /** Where logship's .cpuprofile files go (undefined: no profiling). */
  cpuProfDir: string | undefined;
  /** More node flags for logship's measured processes (--node-flags). */
  nodeFlags: readonly string[];
  log: (line: string) => void;
}

export interface RunResult {
  scenario: string;
  contender: string;
  kind: Contender['kind'];
  run: number;
  expected: number;
  /** Seconds from "go" to the last line written (throughput scenarios). */
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  /** utime+stime of the measured daemon processes during the load (idle: during the window). */
  cpuSec: number;
  /** Peak RSS (VmHWM) per measured role, MB (2^20 bytes). */
  rssMb: Record<string, number>;
  idleCpuPercent?: number;
  /** Other work on the machine during the run, in cores: busy CPU time of the whole machine minus
   *  that of the daemons, the generator and the harness, ÷ the run's wall time. */
  otherCores: number;
  check?: CheckResult;
  /** Problems: a daemon died, not ready, stalled, unclean exit, file count… (empty: clean). */
  problems: string[];
  /** A problem that voids the run's figures (the harness or a daemon broke). */
  broken: boolean;
  profiles: string[];
}

const POLL_MS = 20;
const READY_TIMEOUT_MS = 20_000;
/** UDP: the run is over when the generator is done and nothing was written for this long. */
const UDP_QUIET_MS = 2_000;
/** The same where a peer may lose lines over TCP (an outage): long enough for its reconnects. */
const LOSSY_QUIET_MS = 8_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Date.now() − performance.now(), read at the edge of a wall-clock millisecond (a spin of at most
 * 1 ms): maps the output files' mtimes onto the run's clock to within microseconds.
 */
function wallOffsetMs(): number {
  const d0 = Date.now();
  let d = d0;
  while (d === d0) d = Date.now();
  return d - performance.now();
}

const slug = (s: string): string => s.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

async function waitReady(d: Daemon, tcp: number[], udp: number[], timeoutMs: number): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (!d.alive) return `${d.name} exited during start: ${d.logTail()}`;
    let ok = true;
    for (const p of tcp) if (!(await isListening('tcp', p))) ok = false;
    for (const p of udp) if (!(await isListening('udp', p))) ok = false;
    if (ok) return undefined;
    if (Date.now() > end) return `${d.name} not listening on ${[...tcp, ...udp].join(', ')} after ${timeoutMs} ms: ${d.logTail()}`;
    await sleep(50);
  }
}

function hostName(pattern: string, n: number): string {
  return pattern.replace('{n}', String(n).padStart(2, '0'));
}

function genSpec(s: Scenario, lines: number, ports: Record<string, number>, inDir: string): GenSpec | undefined {
  const l = s.load;
  switch (l.type) {
    case 'tcp':
      return {
        mode: 'tcp',
        port: ports[l.port]!,
        kind: l.framing,
        count: lines,
        size: l.size,
        hosts: Array.from({ length: l.connections }, (_, k) => hostName(l.host, k + 1)),
      };
    case 'udp':
      return { mode: 'udp', port: ports[l.port]!, count: lines, size: l.size, host: hostName(l.host, 1), rate: l.rate };
    case 'file':
      return { mode: 'file', path: join(inDir, l.file), count: lines, size: l.size, host: hostName(l.host, 1) };
    case 'idle':
      return undefined;
  }
}

export async function runOne(ctx: RunContext, s: Scenario, c: Contender, run: number, lines: number): Promise<RunResult> {
  const dir = join(ctx.root, `${s.name}-${slug(c.label)}-${run}`);
  const inDir = join(dir, 'in');
  const outDir = join(dir, 'out');
  mkdirSync(inDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const result: RunResult = {
    scenario: s.name,
    contender: c.label,
    kind: c.kind,
    run,
    expected: lines,
    seconds: 0,
    msgsPerSec: 0,
    mbPerSec: 0,
    cpuSec: 0,
    rssMb: {},
    otherCores: NaN,
    problems: [],
    broken: false,
    profiles: [],
  };
  const fail = (msg: string): RunResult => {
    result.problems.push(msg);
    result.broken = true;
    return result;
  };

  const ports: Record<string, number> = {};
  for (const name of s.ports) ports[name] = await freeLoopbackPort();
  const vars: Record<string, string> = { IN: inDir, OUT: outDir, FSYNC: String(c.fsync) };
  for (const [name, port] of Object.entries(ports)) vars[`PORT_${name.toUpperCase()}`] = String(port);

  if (s.load.type === 'file') writeFileSync(join(inDir, s.load.file), '');
  if (s.load.type === 'idle') {
    for (let i = 0; i < s.load.files; i++) {
      writeFileSync(join(inDir, `app-${String(i).padStart(4, '0')}.log`), `${new Date().toISOString()} started, file ${i}\n`);
    }
  }

  /** One started process. After an outage `d` is its second incarnation; the carries hold what the
   *  first one used (its CPU time at the stop, its peak RSS). */
  interface Slot {
    d: Daemon;
    role: string;
    measured: boolean;
    dir: string;
    spec: DaemonSpec;
    tcp: number[];
    udp: number[];
    cpuCarry: number;
    hwmCarryKb: number;
  }
  const daemons: Slot[] = [];
  let gen: Generator | undefined;
  let watcher: OutputWatcher | undefined;
  try {
    // --- start, servers first -------------------------------------------------------------------
    for (const p of s.processes) {
      const pdir = join(dir, p.role);
      mkdirSync(pdir, { recursive: true });
      const file = configPath(s, c.kind, p.role);
      const text = render(readFileSync(file, 'utf8'), { ...vars, DIR: pdir, ROLE: p.role }, file, ctx.caps);
      const nodeArgs = c.kind === 'logship' && p.measured ? [...ctx.nodeFlags] : [];
      if (c.kind === 'logship' && ctx.cpuProfDir !== undefined && p.measured) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${pdir}`);
      const spec = launchSpec({ kind: c.kind, name: `${c.label} ${p.role}`, dir: pdir, configText: text, logshipMain: ctx.logshipMain, nodeArgs });
      const d = Daemon.start(spec);
      const slot: Slot = { d, role: p.role, measured: p.measured, dir: pdir, spec, tcp: p.ready.tcp.map((n) => ports[n]!), udp: p.ready.udp.map((n) => ports[n]!), cpuCarry: 0, hwmCarryKb: 0 };
      daemons.push(slot);
      const notReady = await waitReady(d, slot.tcp, slot.udp, READY_TIMEOUT_MS);
      if (notReady !== undefined) return fail(notReady);
      if (p.ready.delay_ms > 0) await sleep(p.ready.delay_ms);
      if (!d.alive) return fail(`${d.name} exited after its start: ${d.logTail()}`);
    }
    const measured = daemons.filter((x) => x.measured);
    const cpuNow = (): number | undefined => {
      let sum = 0;
      for (const x of measured) {
        const v = cpuSeconds(x.d.pid);
        if (v === undefined) return undefined;
        sum += x.cpuCarry + v;
      }
      return sum;
    };
    /** CPU seconds of everything the benchmark runs, to tell other work apart (see otherCores). */
    let genCpu0 = 0;
    let genCpuLast = 0;
    let genPid = -1;
    const ownCpu = (): number => {
      const me = process.cpuUsage();
      let sum = (me.user + me.system) / 1e6;
      for (const x of daemons) sum += x.cpuCarry + (cpuSeconds(x.d.pid) ?? 0);
      if (genPid > 0) {
        const g = cpuSeconds(genPid);
        if (g !== undefined) genCpuLast = g;
      }
      return sum + genCpuLast - genCpu0;
    };
    let own0 = 0;
    let busy0 = 0;
    const startOther = (): void => {
      own0 = ownCpu();
      busy0 = machineBusySeconds();
    };
    const endOther = (wallSec: number): void => {
      const other = machineBusySeconds() - busy0 - (ownCpu() - own0);
      result.otherCores = Math.max(0, other / wallSec);
    };
    const readRss = (): void => {
      for (const x of measured) result.rssMb[x.role] = Math.max(x.hwmCarryKb, statusKb(x.d.pid, 'VmHWM') ?? 0) / 1024;
    };
    /** Stops a process for a while and starts it again on the same config and state dir. */
    const outage = async (x: Slot, seconds: number): Promise<string | undefined> => {
      x.cpuCarry += cpuSeconds(x.d.pid) ?? 0;
      x.hwmCarryKb = Math.max(x.hwmCarryKb, statusKb(x.d.pid, 'VmHWM') ?? 0);
      const exit = await x.d.stop();
      if (exit.code !== 0) result.problems.push(`${x.d.name} exit ${exit.code ?? exit.signal} on SIGTERM (outage)`);
      await sleep(seconds * 1000);
      x.d = Daemon.start(x.spec);
      return waitReady(x.d, x.tcp, x.udp, READY_TIMEOUT_MS);
    };

    // --- idle: CPU over a window, no traffic -----------------------------------------------------
    if (s.load.type === 'idle') {
      // Settled: the one line of each file has been read and forwarded, then settle_seconds more.
      watcher = new OutputWatcher(outDir);
      const until = performance.now() + READY_TIMEOUT_MS;
      while (watcher.poll() < s.load.files && performance.now() < until) await sleep(POLL_MS * 10);
      if (watcher.lines < s.load.files) result.problems.push(`${watcher.lines} of the ${s.load.files} files' lines reached the output before the window`);
      await sleep(s.load.settle_seconds * 1000);
      const seconds = ctx.quick ? s.load.quick_seconds : s.load.seconds;
      const cpu0 = cpuNow();
      startOther();
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const cpu1 = cpuNow();
      const wall = (performance.now() - t0) / 1000;
      endOther(wall);
      if (cpu0 === undefined || cpu1 === undefined) return fail(`a daemon exited during the idle window: ${daemons.map((x) => x.d.logTail(500)).join('\n')}`);
      readRss();
      result.cpuSec = cpu1 - cpu0;
      result.seconds = wall;
      result.idleCpuPercent = (100 * result.cpuSec) / wall;
      return result;
    }

    // --- load ------------------------------------------------------------------------------------
    const spec = genSpec(s, lines, ports, inDir)!;
    gen = await startGenerator(spec);
    const out = new OutputWatcher(outDir);
    watcher = out;
    const cpu0 = cpuNow();
    if (cpu0 === undefined) return fail('a daemon exited before the load started');
    genPid = gen.pid;
    genCpu0 = genCpuLast = cpuSeconds(genPid) ?? 0;
    startOther();
    const wall = wallOffsetMs();
    const t0 = performance.now();
    // When the run ended: the last write the watcher saw (an output file's mtime; the kernel stamps
    // it to within its 4 ms tick or better), not the poll that noticed it, 0–20 ms later.
    const endAt = (polled: number): number => Math.min(polled, Math.max(t0, out.lastWriteMs - wall));
    let genDone: GenDone | undefined;
    let genError: string | undefined;
    const hardMs = 60_000 + lines * 0.25;
    void gen.go(hardMs).then(
      (d) => (genDone = d),
      (err: unknown) => (genError = err instanceof Error ? err.message : String(err)),
    );
    const stallMs = ctx.quick ? 15_000 : 30_000;
    // Where losses are allowed (UDP; peers without acknowledgements across an outage) the run ends
    // once the sender is done and nothing new was written for a while; else only at a stall.
    const strict = isStrict(s, c.kind);
    const quietMs = s.load.type === 'udp' ? UDP_QUIET_MS : LOSSY_QUIET_MS;
    const clock = new RunClock(t0, stallMs / 2);
    let tDone = 0;
    let cpu1: number | undefined;
    let outageDone = s.outage === undefined;
    for (;;) {
      await sleep(POLL_MS);
      const g = cpuSeconds(genPid); // the generator's last figure before it exits
      if (g !== undefined) genCpuLast = g;
      // The output is read (its lines counted) only at a poll that found it no longer growing, so
      // the watcher does not compete with the daemons for the two cores while they write; the
      // outage, which starts at a fraction of the lines, needs the count as they come (RunClock).
      const grew = watcher.look();
      let now = performance.now();
      const read = clock.looked(now, grew, !outageDone);
      const cpuBefore = read ? cpuNow() : undefined; // the daemons' CPU as the run ended, before the read
      if (read) clock.counted(now, watcher.count());
      const n = clock.lines;
      if (!outageDone && s.outage && n >= s.outage.at_fraction * lines) {
        outageDone = true;
        const secs = ctx.quick ? s.outage.quick_seconds : s.outage.seconds;
        ctx.log(`  outage: ${s.outage.role} stopped at ${n} lines for ${secs} s`);
        const notReady = await outage(daemons.find((x) => x.role === s.outage!.role)!, secs);
        if (notReady !== undefined) {
          result.problems.push(`after the outage: ${notReady}`);
          result.broken = true;
          tDone = endAt(clock.lastGrowth);
          break;
        }
        now = performance.now();
        clock.restart(now); // the stall clock starts again with the restart
      }
      if (n >= lines) {
        tDone = endAt(now);
        cpu1 = cpuBefore;
        readRss();
        break;
      }
      const dead = daemons.find((x) => !x.d.alive);
      if (dead) {
        result.problems.push(`${dead.d.name} exited during the run: ${dead.d.logTail()}`);
        result.broken = true;
        tDone = endAt(clock.lastGrowth);
        break;
      }
      if (genError !== undefined) {
        result.problems.push(`generator: ${genError}`);
        result.broken = true;
        tDone = endAt(clock.lastGrowth);
        break;
      }
      if (!strict && genDone !== undefined && now - clock.lastGrowth > quietMs) {
        tDone = endAt(clock.lastGrowth);
        cpu1 = cpuBefore ?? cpuNow();
        readRss();
        break;
      }
      const stalled = now - clock.lastLines > stallMs;
      if (stalled || now - t0 > hardMs) {
        cpu1 = cpuBefore ?? cpuNow();
        const seen = watcher.count();
        result.problems.push(
          stalled
            ? `stalled: ${seen} of ${lines} lines written, no new line for ${Math.round((now - clock.lastLines) / 1000)} s`
            : `not done within ${Math.round(hardMs / 1000)} s: ${seen} of ${lines} lines written`,
        );
        tDone = endAt(clock.lastGrowth);
        readRss();
        break;
      }
    }
    result.seconds = Math.max(1e-6, (tDone - t0) / 1000);
    endOther((performance.now() - t0) / 1000);
    if (cpu1 !== undefined) result.cpuSec = cpu1 - cpu0;
    // --- stop (clients first), then check ---------------------------------------------------------
    gen.kill();
    gen = undefined;
    for (const x of [...daemons].reverse()) {
      const exit = await x.d.stop();
      if (exit.code !== 0) result.problems.push(`${x.d.name} exit ${exit.code ?? exit.signal} on SIGTERM`);
    }
    watcher.close();
    watcher = undefined;
    const check = checkOutput(outDir, lines, s.output.per_sender && s.load.type === 'tcp' ? Math.ceil(lines / s.load.connections) : 0);
    result.check = check;
    result.msgsPerSec = check.unique / result.seconds;
    const bytesPerMsg = s.load.type === 'tcp' && s.load.framing === 'octet-counting' ? s.load.size + String(s.load.size).length + 1 : s.load.size;
    result.mbPerSec = (result.msgsPerSec * bytesPerMsg) / 1e6;
    if (s.output.files !== undefined && check.files !== s.output.files) {
      result.problems.push(`${check.files} output files, expected ${s.output.files}`);
    }
    if (check.foreign > 0) result.problems.push(`${check.foreign} lines without a sequence number, e.g. ${JSON.stringify(check.foreignExample)}`);
    if (check.misrouted > 0) result.problems.push(`${check.misrouted} lines in another sender's file`);
    return result;
  } catch (err) {
    return fail(`harness: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    gen?.kill();
    watcher?.close();
    for (const x of [...daemons].reverse()) {
      const exit = await x.d.stop();
      if (s.load.type === 'idle' && exit.code !== 0) result.problems.push(`${x.d.name} exit ${exit.code ?? exit.signal} on SIGTERM`);
    }
    if (ctx.cpuProfDir !== undefined) {
      for (const x of daemons) {
        for (const f of readdirSync(x.dir).filter((n) => n.endsWith('.cpuprofile'))) {
          const dest = join(ctx.cpuProfDir, `${s.name}-${slug(c.label)}-${run}-${x.role}.cpuprofile`);
          copyFileSync(join(x.dir, f), dest);
          result.profiles.push(dest);
        }
      }
    }
    if (result.broken || ctx.keep) {
      if (result.broken) ctx.log(`  kept for inspection: ${dir}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
