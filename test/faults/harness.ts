// Fault-test harness: real `logship` processes (the built bin/logship.cjs) as client, relay(s) and
// server on 127.0.0.1, a paced writer of sequence-numbered lines, fault injection at seeded random
// moments, process probes (RSS, spool bytes, client checkpoints) and the wait for the end state.
// The verdict is test/helpers/checker.ts's. Nothing here mocks logship: it only starts, kills and
// watches processes and reads the files they write.
//
//   writer ──► in/F00.log … F19.log ──► client ──ship──► relay-1 [spool] ──ship──► server ──► out/<host>/<program>.log
//                                             └─ship──► relay-2 [spool] ──┘  (failover scenario)
//   syslog sender ──tcp──► relay-1 syslog-tcp [spool] ──┘                       (syslog scenario)
//
// Sizes from the environment (defaults are CI size):
//   FAULT_LINES (100000) lines over FAULT_FILES (20) files, written at FAULT_RATE lines/s (10000,
//   or FAULT_LINES / 40 when that is more: the full-size run writes for 40 s per scenario);
//   FAULT_OUTAGE_MS: the server outage (5000; 30000 when FAULT_LINES >= 1000000);
//   FAULT_SEED: replays a run (printed by every test);
//   FAULT_SPOOL=off runs the relays without a spool (to tell spool bugs from the rest);
//   FAULT_BIN: the logship entry point to run (default bin/logship.cjs; a private build keeps a
//   concurrent `npm run build` from pulling the binary away under a running test);
//   LOGSHIP_KEEP_TMP=1 keeps the directories (test/helpers/tmp.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { checkSequences, formatReport, isExactlyOnce, isOnceInAnyOrder, outputBytes, type SequenceReport } from '../helpers/checker.js';
import { parseSegmentName } from '../../src/spool/format.js';
import { BIN, freePort, REPO } from '../helpers/logship.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { fileIds, SeqWriter } from './writer.js';

// ---------------------------------------------------------------------------------------------
// Settings and randomness

export interface FaultSettings {
  readonly lines: number;
  readonly files: number;
  readonly perFile: number;
  /** Lines per second the writer keeps to. */
  readonly rate: number;
  readonly outageMs: number;
  readonly seed: number;
  readonly spool: boolean;
}

function envInt(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${v}: expected an integer >= ${min}`);
  return n;
}

export function faultSettings(): FaultSettings {
  const lines = envInt('FAULT_LINES', 100_000, 100);
  const files = envInt('FAULT_FILES', 20, 1);
  return {
    lines,
    files,
    perFile: Math.floor(lines / files),
    rate: envInt('FAULT_RATE', Math.max(10_000, Math.ceil(lines / 40)), 100),
    outageMs: envInt('FAULT_OUTAGE_MS', lines >= 1_000_000 ? 30_000 : 5_000, 0),
    seed: envInt('FAULT_SEED', Math.floor(Math.random() * 0x7fffffff), 0),
    spool: process.env['FAULT_SPOOL'] !== 'off',
  };
}

/** mulberry32: small, seeded, good enough to pick moments. */
export class Prng {
  private _s: number;
  constructor(seed: number) {
    this._s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this._s = (this._s + 0x6d2b79f5) >>> 0;
    let t = this._s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** `n` sorted fractions in [lo, hi), at least `gap` apart when they can be. */
  moments(n: number, lo: number, hi: number, gap = 0): number[] {
    const slot = (hi - lo) / n;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(lo + slot * i + Math.min(gap / 2, slot / 4) + this.next() * Math.max(0, slot - Math.min(gap, slot / 2)));
    return out;
  }
}

/** A per-scenario generator: replaying FAULT_SEED replays every scenario, whichever runs alone. */
export function scenarioPrng(seed: number, scenario: string): Prng {
  let h = seed >>> 0;
  for (let i = 0; i < scenario.length; i++) h = Math.imul(h ^ scenario.charCodeAt(i), 0x01000193) >>> 0;
  return new Prng(h);
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface SpoolSpec {
  readonly max_bytes?: number;
  readonly when_full?: 'block' | 'drop-oldest';
  readonly fsync?: boolean;
  readonly segment_bytes?: number;
}

export interface LogEvent {
  readonly event?: string;
  readonly msg?: string;
  readonly [k: string]: unknown;
}

const LOGSHIP_BIN = process.env['FAULT_BIN'] ?? BIN;

/** One run of a node: the child process, what it wrote, and its exit. */
interface Run {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  out: string;
}

function spawnRun(config: string): Run {
  const proc = spawn(process.execPath, [LOGSHIP_BIN, 'run', '--config', config], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { proc, exited: new Promise<void>((r) => proc.once('exit', () => r())), out: '' };
  proc.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (run.out += d.toString()));
  return run;
}

const alive = (r: Run | null): boolean => r !== null && r.proc.exitCode === null && r.proc.signalCode === null;

/** One logship node: its config, its state dir, and its process across restarts. */
export class LogshipNode {
  readonly name: string;
  readonly config: string;
  readonly stateDir: string;
  starts: number;
  kills: number;
  private _run: Run | null;
  private _past: string;

  constructor(name: string, config: string, stateDir: string) {
    this.name = name;
    this.config = config;
    this.stateDir = stateDir;
    this.starts = 0;
    this.kills = 0;
    this._run = null;
    this._past = '';
  }

  get running(): boolean {
    return alive(this._run);
  }

  get pid(): number | undefined {
    return this._run !== null && alive(this._run) ? this._run.proc.pid : undefined;
  }

  /** Starts the process and waits (bounded) until it logged that it runs. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this._run !== null) this._past += this._run.out;
    const run = spawnRun(this.config);
    this._run = run;
    this.starts++;
    await waitFor(
      `${this.name} to start`,
      () => {
        if (!alive(run)) throw new Error(`${this.name} exited at start:\n${run.out.slice(-3000)}`);
        return run.out.includes('"msg":"logship started."');
      },
      timeoutMs,
      20,
    );
  }

  /** kill -9, and wait for the exit. */
  async kill(): Promise<void> {
    const run = this._run;
    if (run === null || !alive(run)) return;
    this.kills++;
    run.proc.kill('SIGKILL');
    await run.exited;
  }

  /** SIGSTOP: the process stops reading and writing (its peers' connections stay open). */
  pause(): void {
    if (this._run !== null && alive(this._run)) this._run.proc.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (this._run !== null && alive(this._run)) this._run.proc.kill('SIGCONT');
  }

  /** SIGTERM (graceful), wait for the exit (kill -9 after `timeoutMs`); returns the exit code or signal. */
  async stop(timeoutMs = 20_000): Promise<number | string> {
    const run = this._run;
    if (run === null) return 0;
    if (alive(run)) {
      run.proc.kill('SIGTERM');
      const t = setTimeout(() => run.proc.kill('SIGKILL'), timeoutMs);
      await run.exited;
      clearTimeout(t);
    }
    return run.proc.exitCode ?? run.proc.signalCode ?? -1;
  }

  /** Everything every run of this node wrote on stdout and stderr. */
  output(): string {
    return this._past + (this._run?.out ?? '');
  }

  /** Log lines (JSON) of every run with this `event`. */
  events(name: string): LogEvent[] {
    const out: LogEvent[] = [];
    for (const l of this.output().split('\n')) {
      if (!l.startsWith('{') || !l.includes(`"event":"${name}"`)) continue;
      try {
        out.push(JSON.parse(l) as LogEvent);
      } catch {
        // a torn last line of a killed process
      }
    }
    return out;
  }

  /** The last part of the output, for failure messages. */
  tail(chars = 4000): string {
    const o = this.output();
    return o.length > chars ? `…${o.slice(-chars)}` : o;
  }
}

export interface ClusterOptions {
  /** Relays in front of the server (the client lists them all, in order). Default 1. */
  readonly relays?: number;
  /** The relays' spool (every relay source gets one); null: no spool. Default {} (the defaults). */
  readonly spool?: SpoolSpec | null;
  /** Give relay-1 a syslog-tcp source too. */
  readonly syslog?: boolean;
  /** The server's file destination reorder_wait_ms (default: the option's default). */
  readonly reorderWaitMs?: number;
}

export interface Cluster {
  readonly dir: string;
  readonly input: string;
  readonly out: string;
  readonly client: LogshipNode;
  readonly relays: readonly LogshipNode[];
  readonly server: LogshipNode;
  /** relay-1's syslog-tcp port (0 without `syslog`). */
  readonly syslogPort: number;
  /** Each relay's ship-listener address as the client names it ("127.0.0.1:PORT"), in `relays` order. */
  readonly relayAddresses: readonly string[];
  /** A relay's spool directory for one of its sources. */
  spoolDir(relay: LogshipNode, source: 'clients' | 'syslog'): string;
  /** Starts the writer on the client's input files (stopped when the test ends). */
  writer(perFile?: number, rate?: number): SeqWriter;
}

function spoolYaml(s: SpoolSpec | null): string {
  if (s === null) return '';
  const keys = Object.entries(s).map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return `, spool: { ${keys.join(', ')} }`;
}

/** Writes the configs of client, relays and server in a temp dir; starts nothing. */
/** Starts every node, servers first: the server, each relay in order, then the client. */
export async function startCluster(c: Cluster): Promise<void> {
  await c.server.start();
  for (const r of c.relays) await r.start();
  await c.client.start();
}

export async function createCluster(t: TestContext, s: FaultSettings, opts: ClusterOptions = {}): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'logship-faults-'));
  const writers: SeqWriter[] = [];
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  await mkdir(input, { recursive: true });
  const nRelays = opts.relays ?? 1;
  const spool = s.spool ? (opts.spool === undefined ? {} : opts.spool) : null;
  const serverPort = await freePort();
  const relayPorts: number[] = [];
  for (let i = 0; i < nRelays; i++) relayPorts.push(await freePort());
  const syslogPort = opts.syslog === true ? await freePort() : 0;

  const serverCfg = join(dir, 'server.yaml');
  await writeFile(
    serverCfg,
    `node: { name: server, state_dir: ${join(dir, 'server-state')} }
log: { level: info }
sources:
  in: { type: ship-listener, listen: "tcp:127.0.0.1:${serverPort}" }
destinations:
  files: { type: file, base_dir: ${out}, path: "\${host}/\${program}.log", template: raw${opts.reorderWaitMs === undefined ? '' : `, reorder_wait_ms: ${opts.reorderWaitMs}`} }
paths:
  - { from: [in], to: [files] }
`,
  );
  const relays: LogshipNode[] = [];
  for (let i = 0; i < nRelays; i++) {
    const name = `relay-${i + 1}`;
    const cfg = join(dir, `${name}.yaml`);
    const withSyslog = i === 0 && opts.syslog === true;
    await writeFile(
      cfg,
      `node: { name: ${name}, state_dir: ${join(dir, `${name}-state`)} }
log: { level: info }
sources:
  clients: { type: ship-listener, listen: "tcp:127.0.0.1:${relayPorts[i]}"${spoolYaml(spool)} }
${withSyslog ? `  syslog: { type: syslog-tcp, listen: "tcp:127.0.0.1:${syslogPort}"${spoolYaml(spool)} }\n` : ''}destinations:
  up: { type: ship, upstreams: ["127.0.0.1:${serverPort}"], backoff_min_ms: 50, backoff_max_ms: 500 }
paths:
  - { from: [clients${withSyslog ? ', syslog' : ''}], to: [up] }
`,
    );
    relays.push(new LogshipNode(name, cfg, join(dir, `${name}-state`)));
  }
  const clientCfg = join(dir, 'client.yaml');
  await writeFile(
    clientCfg,
    `node: { name: client-1, state_dir: ${join(dir, 'client-state')} }
log: { level: info }
sources:
  app: { type: file, include: ["${input}/*.log"], start_at: beginning, poll_interval_ms: 200 }
destinations:
  up: { type: ship, upstreams: [${relayPorts.map((p) => `"127.0.0.1:${p}"`).join(', ')}], backoff_min_ms: 50, backoff_max_ms: 500 }
paths:
  - { from: [app], to: [up] }
`,
  );
  const client = new LogshipNode('client', clientCfg, join(dir, 'client-state'));
  const server = new LogshipNode('server', serverCfg, join(dir, 'server-state'));
  const all = [client, ...relays, server];
  // One hook, in this order: no more writing, no more processes, then the directory.
  t.after(async () => {
    for (const w of writers) await w.stop();
    for (const n of all) await n.kill();
    if (process.env['LOGSHIP_KEEP_TMP'] === '1') process.stderr.write(`# kept: ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    input,
    out,
    client,
    relays,
    server,
    syslogPort,
    relayAddresses: relayPorts.map((p) => `127.0.0.1:${p}`),
    spoolDir: (relay, source) => join(relay.stateDir, 'spool', source),
    writer: (perFile, rate) => {
      const w = new SeqWriter(input, fileIds(s.files), perFile ?? s.perFile, rate ?? s.rate);
      writers.push(w);
      return w;
    },
  };
}

/** The relay the client last connected to (its last ship_connected event), if any. */
export function clientUpstream(c: Cluster): LogshipNode | undefined {
  const last = c.client.events('ship_connected').at(-1);
  const i = last === undefined ? -1 : c.relayAddresses.indexOf(String(last['upstream']));
  return i < 0 ? undefined : c.relays[i];
}

// ---------------------------------------------------------------------------------------------
// Faults

/**
 * Runs `fault(i)` at `count` seeded moments while the writer runs: moment i is when the writer has
 * written a fraction of its lines drawn in [lo, hi). Returns when every fault has run.
 */
export async function atRandomMoments(prng: Prng, writer: SeqWriter, count: number, fault: (i: number) => Promise<void>, lo = 0.1, hi = 0.9): Promise<number[]> {
  const at = prng.moments(count, lo, hi, 0.05);
  for (let i = 0; i < at.length; i++) {
    await writer.reach(at[i]!);
    await fault(i);
  }
  return at;
}

/** kill -9, stay down `downMs`, start again. */
export async function crash(node: LogshipNode, downMs: number): Promise<void> {
  await node.kill();
  await sleep(downMs);
  await node.start();
}

// ---------------------------------------------------------------------------------------------
// Probes

/** VmRSS of a process in bytes (undefined when it is gone). */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Samples a node's RSS every `everyMs` until stop(); `peak` is the highest seen. */
export class RssSampler {
  peak: number;
  samples: number;
  private _stopped: boolean;
  private readonly _loop: Promise<void>;

  constructor(node: LogshipNode, everyMs = 100) {
    this.peak = 0;
    this.samples = 0;
    this._stopped = false;
    this._loop = this._run(node, everyMs);
  }

  private async _run(node: LogshipNode, everyMs: number): Promise<void> {
    while (!this._stopped) {
      const pid = node.pid;
      const v = pid === undefined ? undefined : await rssBytes(pid);
      if (v !== undefined) {
        this.samples++;
        if (v > this.peak) this.peak = v;
      }
      await sleep(everyMs);
    }
  }

  async stop(): Promise<number> {
    this._stopped = true;
    await this._loop;
    return this.peak;
  }
}

/** Bytes of the files under a directory (recursive; 0 when it does not exist). */
export async function dirBytes(dir: string): Promise<number> {
  return outputBytes(dir);
}

/** Bytes of a spool's segment files, what its max_bytes caps (not its cursor.json); 0 when it does not exist. */
export async function segmentBytes(dir: string): Promise<number> {
  return outputBytes(dir, (name) => parseSegmentName(name) !== undefined);
}

/** Sum of the acknowledged offsets in the client's checkpoint files (what the file source may forget). */
export async function checkpointBytes(stateDir: string): Promise<number> {
  const dir = join(stateDir, 'checkpoints');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const doc = JSON.parse(await readFile(join(dir, n), 'utf8')) as { files?: { offset?: number }[] };
      for (const f of doc.files ?? []) total += f.offset ?? 0;
    } catch {
      // being replaced (write-temp-then-rename makes this rare)
    }
  }
  return total;
}

/** Waits (bounded) until the size of `dir` has not changed for `quietMs`. */
export async function quiet(dir: string, quietMs: number, timeoutMs = 30_000): Promise<number> {
  let last = -1;
  let since = Date.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await dirBytes(dir);
    if (b !== last) {
      last = b;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return b;
    if (Date.now() > deadline) throw new Error(`${dir} kept changing for ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The end state

export interface Settled {
  readonly bytes: number;
  /** True when the output reached the expected size; false when it stopped growing first. */
  readonly complete: boolean;
  readonly waitedMs: number;
}

/**
 * Waits until the server's files hold `expectedBytes` (then `graceMs` more, so a late duplicate
 * shows), or until they stopped growing for `stallMs`. Never throws: the checker says what is wrong.
 */
export async function settle(out: string, expectedBytes: number, stallMs = 30_000, graceMs = 1_000): Promise<Settled> {
  const t0 = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const b = await outputBytes(out);
    if (b >= expectedBytes) {
      await sleep(graceMs);
      return { bytes: await outputBytes(out), complete: true, waitedMs: Date.now() - t0 };
    }
    if (b !== last) {
      last = b;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      return { bytes: b, complete: false, waitedMs: Date.now() - t0 };
    }
    await sleep(200);
  }
}

/** Checks the server's files and prints the report as a test diagnostic. */
export async function verdict(t: TestContext, out: string, expected: ReadonlyMap<string, number>): Promise<SequenceReport> {
  const r = await checkSequences(out, expected);
  for (const l of formatReport(r).split('\n')) t.diagnostic(l);
  return r;
}

/** A line for the test's diagnostics (TAP comment) and the run log. */
export function note(t: TestContext, msg: string): void {
  t.diagnostic(msg);
}

export const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------
// Scenario plumbing

/** A bound for one scenario: thrice the writing time, the outage, the extra, and two minutes. */
export function scenarioTimeoutMs(s: FaultSettings, extraMs = 0): number {
  return Math.ceil((s.lines / s.rate) * 1000) * 3 + s.outageMs + extraMs + 120_000;
}

/** The seed and sizes, first thing in every scenario's output. */
export function announce(t: TestContext, s: FaultSettings, scenario: string): Prng {
  note(t, `${scenario}: FAULT_SEED=${s.seed} FAULT_LINES=${s.lines} FAULT_FILES=${s.files} FAULT_RATE=${s.rate}${s.spool ? '' : ' FAULT_SPOOL=off'}`);
  return scenarioPrng(s.seed, scenario);
}

/** The warnings and errors a node logged (the last `n`), for failure messages. */
export function problems(node: LogshipNode, n = 15): string {
  const lines = node
    .output()
    .split('\n')
    .filter((l) => /"level":(40|50|60)/.test(l) || (l !== '' && !l.startsWith('{')));
  const shown = lines.slice(-n).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
  return `--- ${node.name} (${node.starts} starts, ${node.kills} kills): ${lines.length} warnings/errors${lines.length > n ? `, last ${n}` : ''}\n${shown.join('\n')}`;
}

export function clusterProblems(c: Cluster): string {
  return [c.client, ...c.relays, c.server]
    .filter((n) => n.starts > 0)
    .map((n) => problems(n))
    .join('\n');
}

/**
 * Waits for the end state (bounded), runs the checker and fails the test with the full report
 * (and every node's warnings) unless every line arrived exactly once, in order.
 */
export function expectExactlyOnce(t: TestContext, c: Cluster, expected: ReadonlyMap<string, number>, expectedBytes: number, stallMs = 30_000): Promise<SequenceReport> {
  return expectOutput(t, c, expected, expectedBytes, stallMs, isExactlyOnce);
}

/** expectExactlyOnce, but lines of a source may arrive out of order (late lines filling holes). */
export function expectOnceInAnyOrder(t: TestContext, c: Cluster, expected: ReadonlyMap<string, number>, expectedBytes: number, stallMs = 30_000): Promise<SequenceReport> {
  return expectOutput(t, c, expected, expectedBytes, stallMs, isOnceInAnyOrder);
}

async function expectOutput(
  t: TestContext,
  c: Cluster,
  expected: ReadonlyMap<string, number>,
  expectedBytes: number,
  stallMs: number,
  ok: (r: SequenceReport) => boolean,
): Promise<SequenceReport> {
  const st = await settle(c.out, expectedBytes, stallMs);
  note(t, `server files: ${mb(st.bytes)} of ${mb(expectedBytes)} ${st.complete ? 'reached' : 'STALLED'} ${st.waitedMs} ms after the writing ended`);
  const r = await verdict(t, c.out, expected);
  if (!ok(r)) throw new Error(`not exactly once:\n${formatReport(r)}\n${clusterProblems(c)}`);
  return r;
}
