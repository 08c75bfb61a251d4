// One-shot clients run to their end (bounded): syslog-ng's loggen and util-linux logger.
import { PeerError, type AfterHost, type Transport } from './common.js';
import { peerPaths, syslogNgEnv } from './paths.js';
import { runToEnd, type RunResult } from './process.js';

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

export interface LoggenResult extends RunResult {
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
export async function runLogger(args: readonly string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const p = peerPaths();
  const run: { stdin?: string; timeoutMs: number } = { timeoutMs: opts.timeoutMs ?? 10_000 };
  if (opts.stdin !== undefined) run.stdin = opts.stdin;
  return runToEnd(p.logger, [...args], run);
}
