// Real syslog peers for the interop tier: rsyslog, syslog-ng, loggen and util-linux logger, each run
// by the test as its own foreground process with its own config and state in a temp dir, on high
// loopback ports, stopped by its own pid. Knows nothing of logship. Installed by .ci/install-peers.sh.
// Every wait is bounded; every process is stopped by `t.after` (and killed if the test process dies).
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, constants as fsc, writeFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, waitFor } from './wait.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where .ci/install-peers.sh unpacks syslog-ng-core (it conflicts with rsyslog as a Debian package). */
export const SYSLOG_NG_DIR = join(REPO, '.ci', 'peers', 'syslog-ng');
const SYSLOG_NG_CONFIG_VERSION = '3.38';
const OUTPUT_KEEP = 64 * 1024;
const DEFAULT_READY_MS = 10_000;
const DEFAULT_STOP_MS = 5_000;

/** A node:test TestContext, or anything with its `after`. */
export type AfterHost = { after(fn: () => unknown): void };

export type Transport = 'tcp' | 'udp';
/** RFC 6587: newline ("non-transparent", §3.4.2) or octet counting (§3.4.1). */
export type Framing = 'newline' | 'octet-counted';

/** Signals errors of this helper; `code` says which. */
export class PeerError extends Error {
  readonly code: 'PEER_NOT_INSTALLED' | 'PEER_EXITED' | 'PEER_NOT_READY' | 'PEER_BAD_CONFIG' | 'PEER_BAD_OPTION';
  constructor(code: PeerError['code'], message: string) {
    super(message);
    this.name = 'PeerError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Paths

export interface PeerPaths {
  rsyslogd: string;
  syslogNg: string;
  loggen: string;
  logger: string;
  /** syslog-ng's shared libraries (LD_LIBRARY_PATH) and modules (--module-path). */
  syslogNgLib: string;
  syslogNgModules: string;
  /** SYSLOGNG_PREFIX for loggen, which finds its plugins under it. */
  syslogNgPrefix: string;
}

let cachedPaths: PeerPaths | undefined;

/** Where the peers' binaries are, or a PEER_NOT_INSTALLED error saying how to install them. */
export function peerPaths(): PeerPaths {
  if (cachedPaths) return cachedPaths;
  const prefix = join(SYSLOG_NG_DIR, 'usr');
  const lib = join(prefix, 'lib', 'syslog-ng');
  const p: PeerPaths = {
    rsyslogd: '/usr/sbin/rsyslogd',
    syslogNg: join(prefix, 'sbin', 'syslog-ng'),
    loggen: join(prefix, 'bin', 'loggen'),
    logger: '/usr/bin/logger',
    syslogNgLib: lib,
    syslogNgModules: join(lib, SYSLOG_NG_CONFIG_VERSION),
    syslogNgPrefix: prefix,
  };
  const missing = [p.rsyslogd, p.syslogNg, p.loggen, p.logger].filter((f) => {
    try {
      accessSync(f, fsc.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new PeerError(
      'PEER_NOT_INSTALLED',
      `syslog peers missing (${missing.join(', ')}): run \`bash .ci/install-peers.sh\` as root first (it installs logger, rsyslog and an unpacked syslog-ng-core)`,
    );
  }
  cachedPaths = p;
  return p;
}

function syslogNgEnv(p: PeerPaths): NodeJS.ProcessEnv {
  const ld = process.env['LD_LIBRARY_PATH'];
  return { ...process.env, LD_LIBRARY_PATH: ld ? `${p.syslogNgLib}:${ld}` : p.syslogNgLib, SYSLOGNG_PREFIX: p.syslogNgPrefix };
}

// ---------------------------------------------------------------------------------------------
// Ports and readiness

/** A loopback port that was free for both TCP and UDP a moment ago (from the ephemeral range). */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    if (udpFree) await new Promise<void>((r) => udp.close(() => r()));
    else udp.close();
    srv.close();
    await once(srv, 'close');
    if (udpFree) return port;
  }
  throw new PeerError('PEER_NOT_READY', 'no loopback port free for both TCP and UDP after 50 tries');
}

/** True when some socket of this host listens on (TCP) or is bound to (UDP) `port` on 127.0.0.1 or any address. */
export async function isListening(transport: Transport, port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = new Set([`0100007F:${hexPort}`, `00000000:${hexPort}`]);
  const state = transport === 'tcp' ? '0A' : '07'; // TCP_LISTEN, TCP_CLOSE (an unconnected UDP socket)
  for (const file of transport === 'tcp' ? ['/proc/net/tcp', '/proc/net/tcp6'] : ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = await readFile(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== state) continue;
      if (wanted.has(local) || local.endsWith(`00000000000000000000000000000000:${hexPort}`)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Processes

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

/** Runs a command to its end, killing it after `timeoutMs`. */
async function runToEnd(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer; timeoutMs: number; after?: AfterHost },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
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

/** A string literal for rsyslog's RainerScript and syslog-ng's config (both take C-style escapes). */
const q = (s: string): string => JSON.stringify(s);

// ---------------------------------------------------------------------------------------------
// rsyslog

export interface RsyslogStartOptions {
  /** The rsyslog.conf body (RainerScript): modules, inputs, rulesets, actions; or a function of the
   *  peer's own dir returning it. The helper prepends `global(workDirectory=<dir> net.enableDNS="off" …)`;
   *  it loads no module (no imuxsock, no imklog). Bind inputs to a ruleset so rsyslog's own messages
   *  (which go to the default ruleset) stay out of the test's output. */
  config: string | ((dir: string) => string);
  /** global(localHostname): the HOSTNAME rsyslog puts on messages it makes itself (imfile). */
  localHostname?: string;
  /** global(maxMessageSize) in bytes (rsyslog's default: 8096). */
  maxMessageSize?: number;
  ready?: ReadySpec;
  timeoutMs?: number;
}

/** Starts `rsyslogd -n -f <dir>/rsyslog.conf -i <dir>/rsyslogd.pid` after validating the config (-N1). */
export async function startRsyslog(t: AfterHost, opts: RsyslogStartOptions): Promise<PeerProcess> {
  const p = peerPaths();
  const { dir, keep } = await peerDir('rsyslog');
  const configPath = join(dir, 'rsyslog.conf');
  const pidFile = join(dir, 'rsyslogd.pid');
  const global = [`workDirectory=${q(dir)}`, 'net.enableDNS="off"'];
  if (opts.localHostname !== undefined) global.push(`localHostname=${q(opts.localHostname)}`);
  if (opts.maxMessageSize !== undefined) global.push(`maxMessageSize=${q(String(opts.maxMessageSize))}`);
  const body = typeof opts.config === 'function' ? opts.config(dir) : opts.config;
  await writeFile(configPath, `# written by test/helpers/peers.ts\nglobal(${global.join(' ')})\n${body}\n`);
  const check = await runToEnd(p.rsyslogd, ['-N1', '-f', configPath], { timeoutMs: 10_000 });
  if (check.code !== 0) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw new PeerError('PEER_BAD_CONFIG', `rsyslog rejects its config (rsyslogd -N1 exit ${check.code}):\n${check.stderr}${check.stdout}`);
  }
  return spawnPeer(t, {
    name: 'rsyslog',
    cmd: p.rsyslogd,
    args: ['-n', '-f', configPath, '-i', pidFile],
    dir,
    keep,
    configPath,
    pidFile,
    ready: opts.ready ?? {},
    timeoutMs: opts.timeoutMs ?? DEFAULT_READY_MS,
  });
}

// ---------------------------------------------------------------------------------------------
// syslog-ng

export interface SyslogNgStartOptions {
  /** The syslog-ng.conf body: sources, destinations, log paths; or a function of the peer's own dir
   *  returning it. The helper prepends `@version` and `options { … }` (no DNS, keep_hostname,
   *  time_reopen(1), no stats); another options block may follow. */
  config: string | ((dir: string) => string);
  ready?: ReadySpec;
  timeoutMs?: number;
}

const SYSLOG_NG_BASE_OPTIONS =
  'options { use_dns(no); dns_cache(no); keep_hostname(yes); chain_hostnames(no); time_reopen(1); stats_freq(0); mark_freq(0); };';

/** Starts `syslog-ng -F` from the unpacked folder with its own pid, persist and control files. */
export async function startSyslogNg(t: AfterHost, opts: SyslogNgStartOptions): Promise<PeerProcess> {
  const p = peerPaths();
  const { dir, keep } = await peerDir('syslog-ng');
  const configPath = join(dir, 'syslog-ng.conf');
  const pidFile = join(dir, 'syslog-ng.pid');
  const body = typeof opts.config === 'function' ? opts.config(dir) : opts.config;
  await writeFile(configPath, `@version: ${SYSLOG_NG_CONFIG_VERSION}\n# written by test/helpers/peers.ts\n${SYSLOG_NG_BASE_OPTIONS}\n${body}\n`);
  return spawnPeer(t, {
    name: 'syslog-ng',
    cmd: p.syslogNg,
    args: [
      '-F',
      '-e',
      '--no-caps',
      `--cfgfile=${configPath}`,
      `--module-path=${p.syslogNgModules}`,
      `--persist-file=${join(dir, 'syslog-ng.persist')}`,
      `--pidfile=${pidFile}`,
      `--control=${join(dir, 'syslog-ng.ctl')}`,
    ],
    env: syslogNgEnv(p),
    dir,
    keep,
    configPath,
    pidFile,
    ready: opts.ready ?? {},
    timeoutMs: opts.timeoutMs ?? DEFAULT_READY_MS,
  });
}

// ---------------------------------------------------------------------------------------------
// Receivers: network in → one JSON object per line in a file → ReceivedRecord

/** One message as a receiver stored it, fields as the peer parsed them. */
export interface ReceivedRecord {
  facility: number;
  severity: number;
  host: string;
  /** APP-NAME (5424) or the TAG's program part (3164). */
  program: string;
  /** PROCID, or the [pid] of a 3164 TAG; '' or '-' when absent (as the peer says it). */
  pid: string;
  msgid: string;
  /** STRUCTURED-DATA as text; '' or '-' when absent. */
  sd: string;
  /** The sender's timestamp as the peer renders it (ISO 8601 with offset). */
  timestamp: string;
  /** The MSG part. For RFC 3164 input rsyslog keeps the space after the TAG: one is removed here. */
  message: string;
  /** The received message as it came off the wire, without framing. */
  raw: string;
  /** Everything the peer wrote, for fields not listed above. */
  fields: Record<string, unknown>;
}

export interface PeerReceiver extends PeerProcess {
  /** The ports listened on, in the order of `listen`. */
  readonly ports: number[];
  /** The file the receiver writes (one JSON object per message). */
  readonly outFile: string;
  records(): Promise<ReceivedRecord[]>;
  /** Waits (bounded) until at least `n` records were written. */
  waitForRecords(n: number, timeoutMs?: number): Promise<ReceivedRecord[]>;
}

function receiverOf(
  peer: PeerProcess,
  ports: number[],
  outFile: string,
  parse: (o: Record<string, unknown>) => ReceivedRecord,
): PeerReceiver {
  const records = async (): Promise<ReceivedRecord[]> => {
    const text = await readFile(outFile, 'utf8').catch(() => '');
    const out: ReceivedRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        out.push(parse(JSON.parse(line) as Record<string, unknown>));
      } catch {
        break; // a line being written: the next poll sees it whole
      }
    }
    return out;
  };
  return {
    name: peer.name,
    pid: peer.pid,
    dir: peer.dir,
    configPath: peer.configPath,
    output: peer.output,
    exited: peer.exited,
    stop: peer.stop,
    ports,
    outFile,
    records,
    waitForRecords: async (n, timeoutMs = DEFAULT_READY_MS) => {
      try {
        return await waitFor(`${n} records in ${outFile}`, async () => {
          const r = await records();
          return r.length >= n ? r : undefined;
        }, timeoutMs);
      } catch (err) {
        const got = (await records()).length;
        throw new PeerError('PEER_NOT_READY', `${peer.name} wrote ${got} of ${n} records: ${String(err)}\n${peer.output()}`);
      }
    },
  };
}

// A field of a peer's JSON output: the templates write scalars.
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v as number | boolean));

export interface RsyslogReceiverOptions {
  /** One input per entry: imtcp (newline and octet-counted framing, detected per frame) or imudp. */
  listen?: Transport[];
  maxMessageSize?: number;
  timeoutMs?: number;
}

/** rsyslog: imtcp/imudp on 127.0.0.1 → omfile with `%jsonmesg%` (every field, plus rawmsg). */
export async function startRsyslogReceiver(t: AfterHost, opts: RsyslogReceiverOptions = {}): Promise<PeerReceiver> {
  const listen = opts.listen ?? ['tcp', 'udp'];
  const ports: number[] = [];
  for (let i = 0; i < listen.length; i++) ports.push(await freeLoopbackPort());
  const mod = (tr: Transport): string => (tr === 'tcp' ? 'imtcp' : 'imudp');
  const start: RsyslogStartOptions = {
    config: (dir) =>
      [
        ...[...new Set(listen)].map((tr) => `module(load="${mod(tr)}")`),
        'template(name="logship_all" type="string" string="%jsonmesg%\\n")',
        `ruleset(name="receive") { action(type="omfile" file=${q(join(dir, 'received.jsonl'))} template="logship_all") }`,
        ...listen.map((tr, i) => `input(type="${mod(tr)}" address="127.0.0.1" port="${ports[i]}" ruleset="receive")`),
      ].join('\n'),
    ready: { listening: listen.map((transport, i) => ({ transport, port: ports[i]! })) },
  };
  if (opts.maxMessageSize !== undefined) start.maxMessageSize = opts.maxMessageSize;
  if (opts.timeoutMs !== undefined) start.timeoutMs = opts.timeoutMs;
  const peer = await startRsyslog(t, start);
  return receiverOf(peer, ports, join(peer.dir, 'received.jsonl'), (o) => {
    const v0 = str(o['protocol-version']) === '0';
    const msg = str(o['msg']);
    return {
      facility: Number(o['syslogfacility']),
      severity: Number(o['syslogseverity']),
      host: str(o['hostname']),
      program: str(o['app-name']),
      pid: str(o['procid']),
      msgid: str(o['msgid']),
      sd: str(o['structured-data']),
      timestamp: str(o['timereported']),
      message: v0 && msg.startsWith(' ') ? msg.slice(1) : msg,
      raw: str(o['rawmsg']),
      fields: o,
    };
  });
}

/** A syslog-ng listener: `network()` is newline-framed RFC 3164 (RFC 5424 with `syslogProtocol`);
 *  `syslog()` is RFC 5424, octet-counted on TCP (a newline-framed frame is refused: "Invalid frame header"). */
export interface SyslogNgListen {
  driver: 'network' | 'syslog';
  transport: Transport;
  /** network() only: flags(syslog-protocol), i.e. parse RFC 5424 instead of RFC 3164. */
  syslogProtocol?: boolean;
}

export interface SyslogNgReceiverOptions {
  listen?: SyslogNgListen[];
  /** log_msg_size() in bytes (syslog-ng's default: 65536). */
  maxMessageSize?: number;
  timeoutMs?: number;
}

const SNG_FIELDS =
  'pri=int($PRI) facility=int($FACILITY_NUM) severity=int($LEVEL_NUM) host=$HOST program=$PROGRAM pid=$PID ' +
  'msgid=$MSGID sdata=$SDATA date=$S_ISODATE message=$MESSAGE raw=$RAWMSG source_ip=$SOURCEIP';

/** syslog-ng: network()/syslog() sources on 127.0.0.1 → file() with a `$(format-json …)` template
 *  (frac_digits(6) so sub-second timestamps survive; a 3164 time then shows `.000000`). */
export async function startSyslogNgReceiver(t: AfterHost, opts: SyslogNgReceiverOptions = {}): Promise<PeerReceiver> {
  const listen = opts.listen ?? [
    { driver: 'network', transport: 'tcp' },
    { driver: 'network', transport: 'udp' },
    { driver: 'syslog', transport: 'tcp' },
  ];
  const ports: number[] = [];
  for (let i = 0; i < listen.length; i++) ports.push(await freeLoopbackPort());
  const sources = listen.map((l, i) => {
    const flags = ['store-raw-message', ...(l.syslogProtocol === true ? ['syslog-protocol'] : [])];
    return `${l.driver}(transport("${l.transport}") ip("127.0.0.1") port(${ports[i]}) flags(${flags.join(', ')}));`;
  });
  const options = ['frac_digits(6);', ...(opts.maxMessageSize !== undefined ? [`log_msg_size(${opts.maxMessageSize});`] : [])];
  const start: SyslogNgStartOptions = {
    config: (dir) =>
      [
        `options { ${options.join(' ')} };`,
        `source s_receive { ${sources.join(' ')} };`,
        `destination d_received { file(${q(join(dir, 'received.jsonl'))} template("$(format-json ${SNG_FIELDS})\\n")); };`,
        'log { source(s_receive); destination(d_received); };',
      ].join('\n'),
    ready: { listening: listen.map((l, i) => ({ transport: l.transport, port: ports[i]! })) },
  };
  if (opts.timeoutMs !== undefined) start.timeoutMs = opts.timeoutMs;
  const peer = await startSyslogNg(t, start);
  return receiverOf(peer, ports, join(peer.dir, 'received.jsonl'), (o) => ({
    facility: Number(o['facility']),
    severity: Number(o['severity']),
    host: str(o['host']),
    program: str(o['program']),
    pid: str(o['pid']),
    msgid: str(o['msgid']),
    sd: str(o['sdata']),
    timestamp: str(o['date']),
    message: str(o['message']),
    raw: str(o['raw']),
    fields: o,
  }));
}

// ---------------------------------------------------------------------------------------------
// Senders: an input the test feeds → a syslog destination aimed at a target

/** What the sender reads: a TCP or UDP listener on loopback (fed whole syslog lines, RFC 3164 for
 *  syslog-ng), or a file (fed plain text lines, to which the sender adds the header). */
export type SenderInput =
  | { type: 'tcp' }
  | { type: 'udp' }
  | {
      type: 'file';
      /** The program name put on each line (rsyslog: tag "<program>:"; syslog-ng: program-override). */
      program?: string;
      /** Facility and severity names for each line (default local0 / notice). */
      facility?: string;
      severity?: string;
    };

export interface PeerSender extends PeerProcess {
  readonly input: SenderInput;
  /** The input's port (tcp/udp inputs), or 0. */
  readonly inputPort: number;
  /** The input's file (file input), or ''. */
  readonly inputFile: string;
  /** Feeds lines to the input: one TCP connection with newline framing, one datagram each, or
   *  appended to the file. */
  send(lines: readonly string[]): Promise<void>;
}

export interface SenderTarget {
  host?: string;
  port: number;
  transport: Transport;
}

export interface RsyslogSenderOptions {
  /** omfwd's target. `framing` is TCP only: newline (omfwd's default) or octet-counted. */
  target: SenderTarget & { framing?: Framing };
  /** omfwd's template: a built-in (RSYSLOG_TraditionalForwardFormat is omfwd's default,
   *  RSYSLOG_ForwardFormat, RSYSLOG_SyslogProtocol23Format) or one defined in `extraConfig`. */
  template?: string;
  input?: SenderInput;
  /** The HOSTNAME put on messages rsyslog makes itself (file input). */
  localHostname?: string;
  maxMessageSize?: number;
  /** More RainerScript, placed before the ruleset (e.g. template definitions). */
  extraConfig?: string;
  timeoutMs?: number;
}

async function senderInput(input: SenderInput): Promise<{ port: number }> {
  return { port: input.type === 'file' ? 0 : await freeLoopbackPort() };
}

function feeder(input: SenderInput, port: number, file: string): (lines: readonly string[]) => Promise<void> {
  return async (lines) => {
    if (input.type === 'file') {
      await appendFile(file, lines.map((l) => `${l}\n`).join(''));
    } else if (input.type === 'udp') {
      const sock = createSocket('udp4');
      try {
        for (const l of lines) {
          await new Promise<void>((res, rej) => sock.send(l, port, '127.0.0.1', (err) => (err ? rej(err) : res())));
        }
      } finally {
        sock.close();
      }
    } else {
      const sock = connect(port, '127.0.0.1');
      const timer = setTimeout(() => sock.destroy(new Error(`feeding 127.0.0.1:${port} took over 10 s`)), 10_000);
      try {
        await once(sock, 'connect');
        sock.end(lines.map((l) => `${l}\n`).join(''));
        await once(sock, 'close');
      } finally {
        clearTimeout(timer);
        sock.destroy();
      }
    }
  };
}

function senderOf(peer: PeerProcess, input: SenderInput, port: number, file: string): PeerSender {
  return {
    name: peer.name,
    pid: peer.pid,
    dir: peer.dir,
    configPath: peer.configPath,
    output: peer.output,
    exited: peer.exited,
    stop: peer.stop,
    input,
    inputPort: port,
    inputFile: file,
    send: feeder(input, port, file),
  };
}

/** rsyslog: imtcp/imudp/imfile → omfwd to the target (retrying every second while it is down). */
export async function startRsyslogSender(t: AfterHost, opts: RsyslogSenderOptions): Promise<PeerSender> {
  const input = opts.input ?? { type: 'tcp' };
  const { port } = await senderInput(input);
  const tgt = opts.target;
  if (tgt.framing === 'octet-counted' && tgt.transport !== 'tcp') {
    throw new PeerError('PEER_BAD_OPTION', 'octet-counted framing is for TCP only');
  }
  const fwd = [
    'type="omfwd"',
    `target=${q(tgt.host ?? '127.0.0.1')}`,
    `port="${tgt.port}"`,
    `protocol="${tgt.transport}"`,
    ...(tgt.framing === 'octet-counted' ? ['TCP_Framing="octet-counted"'] : []),
    ...(opts.template !== undefined ? [`template=${q(opts.template)}`] : []),
    'action.resumeInterval="1"',
    'action.resumeRetryCount="-1"',
  ];
  let file = '';
  const start: RsyslogStartOptions = {
    config: (dir) => {
      let inputLine: string;
      if (input.type === 'file') {
        file = join(dir, 'input.log');
        writeFileSync(file, ''); // imfile warns when a configured file is missing at start
        const params = [
          `file=${q(file)}`,
          `tag=${q(`${input.program ?? 'fileapp'}:`)}`,
          `facility=${q(input.facility ?? 'local0')}`,
          `severity=${q(input.severity ?? 'notice')}`,
        ];
        inputLine = `module(load="imfile")\ninput(type="imfile" ${params.join(' ')} ruleset="forward")`;
      } else {
        const m = input.type === 'tcp' ? 'imtcp' : 'imudp';
        inputLine = `module(load="${m}")\ninput(type="${m}" address="127.0.0.1" port="${port}" ruleset="forward")`;
      }
      return [opts.extraConfig ?? '', `ruleset(name="forward") { action(${fwd.join(' ')}) }`, inputLine].join('\n');
    },
    ready: input.type === 'file' ? {} : { listening: [{ transport: input.type, port }] },
  };
  if (opts.localHostname !== undefined) start.localHostname = opts.localHostname;
  if (opts.maxMessageSize !== undefined) start.maxMessageSize = opts.maxMessageSize;
  if (opts.timeoutMs !== undefined) start.timeoutMs = opts.timeoutMs;
  const peer = await startRsyslog(t, start);
  return senderOf(peer, input, port, file);
}

export interface SyslogNgSenderOptions {
  /** The destination: `network()` sends newline-framed RFC 3164 (RFC 5424 with `syslogProtocol`);
   *  `syslog()` sends RFC 5424, octet-counted on TCP. Default driver: network. */
  target: SenderTarget & { driver?: 'network' | 'syslog'; syslogProtocol?: boolean };
  input?: SenderInput;
  /** The HOSTNAME put on lines of a file input (host-override); network inputs keep theirs. */
  localHostname?: string;
  /** frac_digits(): sub-second digits in the timestamps it writes (default 0, as a stock install). */
  fracDigits?: number;
  /** More syslog-ng config, placed before the log path (e.g. an options block). */
  extraConfig?: string;
  timeoutMs?: number;
}

/** syslog-ng: network() listener or file() → network()/syslog() destination (reconnecting every second). */
export async function startSyslogNgSender(t: AfterHost, opts: SyslogNgSenderOptions): Promise<PeerSender> {
  const input = opts.input ?? { type: 'tcp' };
  const { port } = await senderInput(input);
  const tgt = opts.target;
  const driver = tgt.driver ?? 'network';
  if (tgt.syslogProtocol === true && driver !== 'network') {
    throw new PeerError('PEER_BAD_OPTION', 'syslogProtocol is a network() flag; syslog() always sends RFC 5424');
  }
  const destFlags = tgt.syslogProtocol === true ? ' flags(syslog-protocol)' : '';
  const dest = `${driver}(${q(tgt.host ?? '127.0.0.1')} transport("${tgt.transport}") port(${tgt.port})${destFlags})`;
  let file = '';
  const start: SyslogNgStartOptions = {
    config: (dir) => {
      let source: string;
      if (input.type === 'file') {
        file = join(dir, 'input.log');
        writeFileSync(file, '');
        const params = [
          'follow-freq(0.1)',
          'flags(no-parse)',
          `program-override(${q(input.program ?? 'fileapp')})`,
          ...(opts.localHostname !== undefined ? [`host-override(${q(opts.localHostname)})`] : []),
          `default-facility(${input.facility ?? 'local0'})`,
          `default-priority(${input.severity ?? 'notice'})`,
        ];
        source = `file(${q(file)} ${params.join(' ')})`;
      } else {
        source = `network(transport("${input.type}") ip("127.0.0.1") port(${port}))`;
      }
      return [
        `options { frac_digits(${opts.fracDigits ?? 0}); };`,
        `source s_feed { ${source}; };`,
        `destination d_forward { ${dest}; };`,
        opts.extraConfig ?? '',
        'log { source(s_feed); destination(d_forward); };',
      ].join('\n');
    },
    ready: input.type === 'file' ? {} : { listening: [{ transport: input.type, port }] },
  };
  if (opts.timeoutMs !== undefined) start.timeoutMs = opts.timeoutMs;
  const peer = await startSyslogNg(t, start);
  return senderOf(peer, input, port, file);
}

// ---------------------------------------------------------------------------------------------
// One-shot clients: loggen and logger

export interface LoggenOptions {
  host?: string;
  port: number;
  proto: Transport;
  /** Messages to send (-n). */
  count: number;
  /** Bytes per message (-s), default 200. loggen's minimum is 127 (140 with syslogProto): below it
   *  loggen drops the trailing newline, so this helper refuses it. */
  size?: number;
  /** Messages per second (-r). Default 1,000,000 (loggen's own default is 1000). */
  rate?: number;
  /** -P: RFC 5424 messages (octet-counted on TCP unless noFraming). */
  syslogProto?: boolean;
  /** -F: no octet counting with syslogProto. */
  noFraming?: boolean;
  timeoutMs?: number;
}

export interface LoggenResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The count in loggen's closing line ("average rate = …, count=N, …"), or -1 when absent. */
  count: number;
}

/** Runs loggen to its end (bounded). Its -I interval is set so that it never cuts the count short. */
export async function runLoggen(t: AfterHost, opts: LoggenOptions): Promise<LoggenResult> {
  const p = peerPaths();
  const size = opts.size ?? 200;
  const min = opts.syslogProto === true ? 140 : 127;
  if (size < min) throw new PeerError('PEER_BAD_OPTION', `loggen size ${size} < its minimum ${min}: it would drop the newline`);
  const rate = opts.rate ?? 1_000_000;
  const intervalS = Math.ceil((opts.count / rate) * 2) + 10;
  const args = ['-i', opts.proto === 'tcp' ? '-S' : '-D', '-Q', '-n', String(opts.count), '-s', String(size), '-r', String(rate), '-I', String(intervalS)];
  if (opts.syslogProto === true) args.push('-P');
  if (opts.noFraming === true) args.push('-F');
  args.push(opts.host ?? '127.0.0.1', String(opts.port));
  const r = await runToEnd(p.loggen, args, { env: syslogNgEnv(p), timeoutMs: opts.timeoutMs ?? (intervalS + 10) * 1000, after: t });
  const m = /count=(\d+)/.exec(r.stderr.split('\n').filter((l) => l.startsWith('average rate')).pop() ?? '');
  return { ...r, count: m ? Number(m[1]) : -1 };
}

/** Runs util-linux logger with `args` (e.g. `-n 127.0.0.1 -P <port> -T --octet-count -p local3.warning
 *  -t prog msg`, or `-u <socket> -d`) to its end (bounded). Note: `-n` defaults to RFC 5424 and `-T`
 *  to a datagram socket exits 0 and delivers nothing. */
export async function runLogger(
  args: readonly string[],
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const p = peerPaths();
  const run: { stdin?: string; timeoutMs: number } = { timeoutMs: opts.timeoutMs ?? 10_000 };
  if (opts.stdin !== undefined) run.stdin = opts.stdin;
  return runToEnd(p.logger, [...args], run);
}
