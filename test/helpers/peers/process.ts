// Peer processes: a daemon started in its own temp dir with its own config and pid file, ready when
// its pid file, ports and files say so, stopped by its own pid; and one-shot commands run to their end.
// Every wait is bounded; every process is stopped by `t.after` (and killed if the test process dies).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../wait.js';
import { PeerError, type AfterHost, type Transport } from './common.js';
import { isListening } from './ports.js';

const OUTPUT_KEEP = 64 * 1024;
export const DEFAULT_READY_MS = 10_000;
const DEFAULT_STOP_MS = 5_000;

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PeerProcess {
  readonly name: string;
  readonly pid: number;
  /** Its own temp dir: config, pid file, state; removed after the test (kept with LOGSHIP_KEEP_TMP=1). */
  readonly dir: string;
  readonly configPath: string;
  /** Its stdout and stderr so far (the last 64 KiB). */
  readonly output: () => string;
  readonly exited: Promise<PeerExit>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code or signal name. Idempotent. */
  readonly stop: (timeoutMs?: number) => Promise<number | string>;
}

export interface ReadySpec {
  /** Ports the peer must listen on (TCP) or be bound to (UDP) before the start resolves. */
  listening?: Array<{ transport: Transport; port: number }>;
  /** Files that must exist before the start resolves. */
  files?: string[];
}

/** A peer's config body, or a function of the peer's own dir returning it. */
export type PeerConfig = string | ((dir: string) => string);

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test process that dies without its after-hooks must not leave peers behind.
    process.once('exit', () => {
      for (const p of live) p.kill('SIGKILL');
    });
  }
}

/** Signals our own child by its pid; a child that has just exited (ESRCH) is not an error. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function peerDir(name: string): Promise<{ dir: string; keep: boolean }> {
  const dir = await mkdtemp(join(tmpdir(), `logship-peer-${name}-`));
  const keep = process.env['LOGSHIP_KEEP_TMP'] === '1';
  if (keep) process.stderr.write(`# kept: ${dir}\n`);
  return { dir, keep };
}

/** What every daemon's start takes. */
export interface PeerStartOptions {
  /** The body of its config, which the daemon's helper wraps in its own header. */
  config: PeerConfig;
  ready?: ReadySpec;
  timeoutMs?: number;
}

/** A daemon to run in the foreground from its own temp dir. */
export interface DaemonSpec {
  /** Its name in messages, and the prefix of its temp dir. */
  name: string;
  cmd: string;
  /** Names of its config and pid files in its dir. */
  configFile: string;
  pidFile: string;
  /** The whole config file, given the peer's dir and the body of PeerStartOptions.config. */
  wrap: (dir: string, body: string) => string;
  /** Checks the written config before the start: resolves with why it is refused, or undefined. */
  check?: (configPath: string) => Promise<string | undefined>;
  args: (f: { dir: string; configPath: string; pidFile: string }) => string[];
  env?: NodeJS.ProcessEnv;
}

/** Writes the daemon's config in a fresh temp dir, checks it, starts the daemon and waits until it is ready. */
export async function startDaemon(t: AfterHost, opts: PeerStartOptions, d: DaemonSpec): Promise<PeerProcess> {
  const { dir, keep } = await peerDir(d.name);
  const configPath = join(dir, d.configFile);
  const pidFile = join(dir, d.pidFile);
  await writeFile(configPath, d.wrap(dir, typeof opts.config === 'function' ? opts.config(dir) : opts.config));
  const refused = await d.check?.(configPath);
  if (refused !== undefined) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw new PeerError('PEER_BAD_CONFIG', refused);
  }
  return spawnPeer(t, {
    name: d.name,
    cmd: d.cmd,
    args: d.args({ dir, configPath, pidFile }),
    env: d.env,
    dir,
    keep,
    configPath,
    pidFile,
    ready: opts.ready ?? {},
    timeoutMs: opts.timeoutMs ?? DEFAULT_READY_MS,
  });
}

interface SpawnSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  dir: string;
  keep: boolean;
  configPath: string;
  pidFile: string;
  ready: ReadySpec;
  timeoutMs: number;
}

async function spawnPeer(t: AfterHost, s: SpawnSpec): Promise<PeerProcess> {
  const proc = spawn(s.cmd, s.args, { cwd: s.dir, env: s.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc);
  let out = '';
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<PeerExit>((r) => {
    proc.once('exit', (code, signal) => r({ code, signal }));
    proc.once('error', (err) => {
      onData(Buffer.from(`spawn error: ${String(err)}\n`));
      r({ code: null, signal: null });
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));

  let stopping: Promise<number | string> | undefined;
  const stop = (timeoutMs = DEFAULT_STOP_MS): Promise<number | string> => {
    stopping ??= (async () => {
      if (!gone && proc.pid !== undefined) {
        signalPid(proc.pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (!gone && proc.pid !== undefined) signalPid(proc.pid, 'SIGKILL');
        }, timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      const r = await exited;
      return r.code ?? r.signal ?? -1;
    })();
    return stopping;
  };
  t.after(async () => {
    await stop();
    if (!s.keep) await rm(s.dir, { recursive: true, force: true });
  });

  const peer: PeerProcess = {
    name: s.name,
    pid: proc.pid ?? -1,
    dir: s.dir,
    configPath: s.configPath,
    output: () => out.slice(-OUTPUT_KEEP),
    exited,
    stop,
  };
  await waitReady(peer, () => gone, s);
  return peer;
}

async function waitReady(peer: PeerProcess, gone: () => boolean, s: SpawnSpec): Promise<void> {
  const deadline = Date.now() + s.timeoutMs;
  const pending: Array<{ what: string; check: () => Promise<boolean> }> = [
    {
      what: `pid file ${s.pidFile}`,
      check: async () => (await readFile(s.pidFile, 'utf8').catch(() => '')).trim() === String(peer.pid),
    },
    ...(s.ready.listening ?? []).map((l) => ({ what: `${l.transport} port ${l.port}`, check: () => isListening(l.transport, l.port) })),
    ...(s.ready.files ?? []).map((f) => ({ what: `file ${f}`, check: () => readFile(f).then(() => true, () => false) })),
  ];
  while (pending.length > 0) {
    if (gone()) {
      const r = await peer.exited;
      throw new PeerError('PEER_EXITED', `${s.name} exited (code ${r.code}, signal ${r.signal}) before it was ready:\n${peer.output()}`);
    }
    if (await pending[0]!.check()) {
      pending.shift();
      continue;
    }
    if (Date.now() > deadline) {
      await peer.stop();
      throw new PeerError('PEER_NOT_READY', `${s.name} not ready after ${s.timeoutMs} ms (waiting for ${pending[0]!.what}):\n${peer.output()}`);
    }
    await sleep(20);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, killing it after `timeoutMs`. */
export async function runToEnd(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer; timeoutMs: number; after?: AfterHost },
): Promise<RunResult> {
  const proc = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(proc);
  // A test that ends (or times out) while this runs kills it.
  opts.after?.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  proc.stdin.on('error', () => {}); // a command that does not read its stdin
  proc.stdin.end(opts.stdin ?? '');
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => {
    proc.once('close', (c, sig) => r([c, sig])); // after its output is read to the end
    proc.once('error', (err) => {
      stderr += `spawn error: ${String(err)}\n`;
      r([null, null]);
    });
  });
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}
