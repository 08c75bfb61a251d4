// Syslog parser benchmark: logship's codec/syslog against the syslog-parse package on the same
// 1,000,000 messages (a seeded mix of the RFC 3164 and RFC 5424 forms that logger, rsyslog,
// syslog-ng and loggen send), in the same run. Reports messages/s and, against the known truth of
// every message, how many got a wrong host, program, severity, time or message.
//
//   node --expose-gc --import tsx bench/parser/run.ts [--lines N] [--runs R] [--batch B] [--seed S] [--only ours|theirs] [--mix all|rfc3164|rfc5424]
//
// Inputs are built in one Buffer; the strings syslog-parse needs are cut from it before timing
// (flat strings, not ropes: see ECOSYSTEM.md pitfall 5), so its time is parsing only.

import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import syslogParse from 'syslog-parse';
import { parseSyslogRecords } from '../../src/codec/syslog/parse.js';
import { Batch, type BatchMeta } from '../../src/core/batch.js';
import { RECORD_FLAG, type RecordFields } from '../../src/core/records.js';
import { prng } from '../../test/helpers/prng.js';

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '42' },
    only: { type: 'string' },
    mix: { type: 'string', default: 'all' },
  },
});
const LINES = Number(args.lines);
const RUNS = Number(args.runs);
const BATCH = Number(args.batch);

const rand = prng(Number(args.seed)); // seeded: every run parses the same messages
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const NOW = Date.now();
const META: BatchMeta = { host: 'relay-1', program: 'syslog', facility: 1, severity: 5, timeMs: NOW, format: 'syslog' };
const HOSTS = Array.from({ length: 40 }, (_, k) => (k % 3 === 0 ? `web-${k}.prod.example.com` : `db-${k}`));
const PROGRAMS = ['sshd', 'nginx', 'systemd', 'CRON', 'postfix/smtpd', 'kernel', 'dockerd', 'app-worker', 'sudo', 'rsyslogd'];
const WORDS = ['connection', 'from', '10.0.3.17', 'port', '52144', 'accepted', 'user=deploy', 'GET', '/api/v1/orders?id=7781',
  'HTTP/1.1', '200', 'latency_ms=12', 'session', 'opened', 'for', 'root', 'by', '(uid=0)', 'queue', 'flushed', 'retry', 'in',
  '5s', 'disk', '/dev/nvme0n1p2', 'usage', '81%', 'worker', 'pid', 'exited', 'status', '0'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

function bsd(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
function iso(d: Date, us: number, frac: boolean): string {
  const off = -d.getTimezoneOffset();
  const z = `${off < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  const f = frac ? `.${String(us).padStart(6, '0')}` : '';
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${f}${z}`;
}
function message(target: number): string {
  let s = pick(WORDS);
  while (s.length < target) s += ' ' + pick(WORDS);
  return s;
}

/** The known truth of one message, in columns (1M small objects would tax the GC of both runs). */
const HOST_DEFAULT = -1;
const T_HOST = new Int16Array(LINES);
const T_PROGRAM = new Uint8Array(LINES);
const T_SEVERITY = new Uint8Array(LINES);
const T_SEC = new Float64Array(LINES);
/** Where the message text starts in its line (it ends with the line). */
const T_MSG = new Uint16Array(LINES);

/** Message i of the mix. The shares follow what a relay typically receives. */
function generate(i: number): string {
  const hi = Math.floor(rand() * HOSTS.length);
  const host = HOSTS[hi]!;
  const gi = Math.floor(rand() * PROGRAMS.length);
  const program = PROGRAMS[gi]!;
  const pid = 100 + Math.floor(rand() * 60000);
  const fac = pick([1, 3, 4, 10, 16, 17, 23]);
  const sev = Math.floor(rand() * 8);
  const pri = fac * 8 + sev;
  const ms = NOW - Math.floor(rand() * 3_600_000);
  const d = new Date(ms);
  const us = (ms % 1000) * 1000 + Math.floor(rand() * 1000);
  const msg = message(110 + Math.floor(rand() * 60));
  T_HOST[i] = hi;
  T_PROGRAM[i] = gi;
  T_SEVERITY[i] = sev;
  T_SEC[i] = Math.floor(ms / 1000);
  let head: string;
  // The 3164 family takes [0, 0.6), RFC 5424 [0.6, 1): --mix keeps one of them.
  const r = args.mix === 'rfc3164' ? rand() * 0.6 : args.mix === 'rfc5424' ? 0.6 + rand() * 0.4 : rand();
  if (r < 0.3) head = `<${pri}>${bsd(d)} ${host} ${program}[${pid}]: `; // logger --rfc3164 -n, rsyslog's default omfwd
  else if (r < 0.42) {
    head = `<${pri}>${bsd(d)} ${program}[${pid}]: `; // logger and libc syslog() to /dev/log: no host
    T_HOST[i] = HOST_DEFAULT;
  } else if (r < 0.47) head = `<${pri}>${bsd(d)} ${host} ${program}: `; // no pid
  else if (r < 0.55) head = `<${pri}>${iso(d, us, true)} ${host} ${program}[${pid}]: `; // RSYSLOG_ForwardFormat
  else if (r < 0.6) head = `<${pri}>${bsd(d)} ${host} ${program}[${pid}] `; // rsyslog forwarding a 5424 message: no colon
  else if (r < 0.8) head = `<${pri}>1 ${iso(d, us, true)} ${host} ${program} ${pid} - [timeQuality tzKnown="1" isSynced="0"] `; // logger --rfc5424
  else if (r < 0.9) head = `<${pri}>1 ${iso(d, 0, false)} ${host} ${program} ${pid} - - `; // syslog-ng syslog()
  else if (r < 0.95)
    head = `<${pri}>1 ${iso(d, us, true)} ${host} ${program} ${pid} ID47 [exampleSDID@32473 iut="3" eventSource="App\\]x"][origin ip="10.0.0.1"] `;
  else head = `<${pri}>1 ${iso(d, 0, false)} ${host} ${program} 1234 - - \uFEFF`; // loggen -P: BOM before MSG
  T_MSG[i] = Buffer.byteLength(head);
  return head + msg;
}

// ---- build the input -------------------------------------------------------------------------

const data = Buffer.allocUnsafe(LINES * 320);
const ends = new Uint32Array(LINES);
let off = 0;
for (let i = 0; i < LINES; i++) {
  off += data.write(generate(i), off, 'utf8');
  data[off++] = 0x0a;
  ends[i] = off;
}
const input = data.subarray(0, off);
const batches: Batch[] = [];
for (let s = 0; s < LINES; s += BATCH) {
  const n = Math.min(BATCH, LINES - s);
  const base = s === 0 ? 0 : ends[s - 1]!;
  const be = new Uint32Array(n);
  for (let k = 0; k < n; k++) be[k] = ends[s + k]! - base;
  batches.push(new Batch(input.subarray(base, ends[s + n - 1]), be, META, { origin: 'bench', stream: 's', offset: base }));
}
const lineStart = (i: number): number => (i === 0 ? 0 : ends[i - 1]!);
const expectedHost = (i: number): string => (T_HOST[i] === HOST_DEFAULT ? META.host : HOSTS[T_HOST[i]!]!);
const expectedMsg = (i: number): string => input.toString('utf8', lineStart(i) + T_MSG[i]!, ends[i]! - 1);

// ---- correctness -----------------------------------------------------------------------------

interface Wrong {
  host: number;
  program: number;
  severity: number;
  time: number;
  msg: number;
  unparsed: number;
}
const noWrong = (): Wrong => ({ host: 0, program: 0, severity: 0, time: 0, msg: 0, unparsed: 0 });

function checkOurs(results: RecordFields[]): Wrong {
  const w = noWrong();
  let i = 0;
  for (let b = 0; b < batches.length; b++) {
    const f = results[b]!;
    const bd = batches[b]!.data;
    for (let k = 0; k < f.count; k++, i++) {
      if ((f.flags[k]! & RECORD_FLAG.MALFORMED) !== 0) w.unparsed++;
      if (f.host[k] !== expectedHost(i)) w.host++;
      if (f.program[k] !== PROGRAMS[T_PROGRAM[i]!]) w.program++;
      if (f.severity(k) !== T_SEVERITY[i]) w.severity++;
      if (Math.floor(f.timeMs[k]! / 1000) !== T_SEC[i]) w.time++;
      if (bd.toString('utf8', f.msgStart[k]!, f.msgEnd[k]!) !== expectedMsg(i)) w.msg++;
    }
  }
  return w;
}

type SyslogParseResult = ReturnType<typeof syslogParse>;
function checkTheirs(results: SyslogParseResult[]): Wrong {
  const w = noWrong();
  for (let i = 0; i < LINES; i++) {
    const r = results[i];
    if (r === undefined) {
      w.unparsed++;
      w.host++;
      w.program++;
      w.severity++;
      w.time++;
      w.msg++;
      continue;
    }
    // Its '' for "no host" gets the same default ours gets.
    if ((r.host === '' ? META.host : r.host) !== expectedHost(i)) w.host++;
    if (r.process !== PROGRAMS[T_PROGRAM[i]!]) w.program++;
    if (r.severityCode !== T_SEVERITY[i]) w.severity++;
    if (Math.floor(r.time.getTime() / 1000) !== T_SEC[i]) w.time++;
    if (r.message !== expectedMsg(i)) w.msg++;
  }
  return w;
}

// ---- timing ----------------------------------------------------------------------------------

/** With --expose-gc every run starts from a collected heap (for both parsers alike). */
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// Timed runs keep only the last result (a pipeline drops a batch's fields once it is delivered);
// correctness is checked on a separate, untimed pass.
let sink = 0;

function timeOurs(): { rates: number[]; last: RecordFields[] } {
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    gc();
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < batches.length; b++) sink += parseSyslogRecords(batches[b]!).count;
    const ns = Number(process.hrtime.bigint() - t0);
    if (r > 0) rates.push(LINES / (ns / 1e9)); // run 0 warms up
  }
  return { rates, last: batches.map((b) => parseSyslogRecords(b)) };
}

function timeTheirs(): { rates: number[]; last: SyslogParseResult[] } {
  const strings: string[] = new Array<string>(LINES);
  for (let i = 0; i < LINES; i++) strings[i] = input.toString('utf8', lineStart(i), ends[i]! - 1);
  const rates: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    gc();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) if (syslogParse(strings[i]!) !== undefined) sink++;
    const ns = Number(process.hrtime.bigint() - t0);
    if (r > 0) rates.push(LINES / (ns / 1e9));
  }
  return { rates, last: strings.map((x) => syslogParse(x)) };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = input.length / 1e6;
console.log(`# syslog parser benchmark — ${fmt(LINES)} messages (mix: ${args.mix}), ${mb.toFixed(1)} MB (avg ${(input.length / LINES).toFixed(0)} B), batches of ${BATCH}, ${RUNS} timed runs after 1 warm-up`);
console.log(`# node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, TZ=${Intl.DateTimeFormat().resolvedOptions().timeZone}`);
console.log('');
const rows: [string, number[], Wrong][] = [];
if (args.only !== 'theirs') {
  const ours = timeOurs();
  rows.push(['logship codec/syslog', ours.rates, checkOurs(ours.last)]);
}
if (args.only !== 'ours') {
  const theirs = timeTheirs();
  rows.push(['syslog-parse@2.0.0', theirs.rates, checkTheirs(theirs.last)]);
}
if (sink === 0) throw new Error('nothing parsed');
console.log('| parser | msg/s (median) | min–max | MB/s | unparsed | wrong host | wrong program | wrong severity | wrong time | wrong message |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, rates, w] of rows) {
  const m = median(rates);
  console.log(
    `| ${name} | ${fmt(m)} | ${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))} | ${((m * input.length) / LINES / 1e6).toFixed(0)} | ${fmt(w.unparsed)} | ${fmt(w.host)} | ${fmt(w.program)} | ${fmt(w.severity)} | ${fmt(w.time)} | ${fmt(w.msg)} |`,
  );
}
