// Real peers → logship: util-linux logger, rsyslog (omfwd) and syslog-ng (network(), syslog(),
// loggen) send to a logship process's syslog-udp, syslog-tcp and unix-dgram sources; every field
// of what arrived (facility, severity, host, program, pid, timestamp, message) is checked in the
// file logship wrote. Peers run as the test's own processes (bash .ci/install-peers.sh).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawnLogship, type LogshipProcess } from '../helpers/logship.js';
import { freeLoopbackPort, isListening, runLoggen, runLogger, startRsyslogSender, startSyslogNgSender } from '../helpers/peers/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Line {
  pri: number;
  time: string;
  host: string;
  program: string;
  pid: string;
  message: string;
}

let dir = '';
let udpPort = 0;
let tcpPort = 0;
let sock = '';
let logship: LogshipProcess;
const cleanups: Array<() => unknown> = [];

before(async () => {
  dir = await tmpDir({ after: (fn: () => unknown) => cleanups.push(fn) }, 'logship-interop-in-');
  udpPort = await freeLoopbackPort();
  tcpPort = await freeLoopbackPort();
  sock = join(dir, 'log.sock');
  const config = join(dir, 'collector.yaml');
  await writeFile(
    config,
    `node: { name: collector, state_dir: ${join(dir, 'state')} }
log: { level: warn }
sources:
  udp: { type: syslog-udp, listen: "udp:127.0.0.1:${udpPort}", receive_buffer_bytes: 4194304 }
  tcp: { type: syslog-tcp, listen: "tcp:127.0.0.1:${tcpPort}" }
  local: { type: unix-dgram, listen: "unix+dgram:${sock}" }
destinations:
  all:
    type: file
    base_dir: ${join(dir, 'out')}
    path: all.log
    template: "\${PRI}|\${ISODATE}|\${host}|\${program}|\${PID}|\${MESSAGE}"
    fsync: false
paths:
  - { from: [udp, tcp, local], to: [all] }
`,
  );
  logship = spawnLogship(['run', '--config', config]);
  await waitFor('logship to listen', async () => (await isListening('tcp', tcpPort)) && (await isListening('udp', udpPort)), 15_000);
});

after(async () => {
  await logship?.stop('SIGTERM');
  for (const c of cleanups.reverse()) await c();
});

async function lines(): Promise<Line[]> {
  const text = await readFile(join(dir, 'out', 'all.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [pri, time, host, program, pid, ...msg] = l.split('|');
      return { pri: Number(pri), time: time!, host: host!, program: program!, pid: pid!, message: msg.join('|') };
    });
}

/** The lines whose message contains `token`, once `n` of them arrived (bounded wait). */
async function arrived(token: string, n = 1, timeoutMs = 15_000): Promise<Line[]> {
  return waitFor(
    `${n} line(s) with ${token}`,
    async () => {
      const got = (await lines()).filter((l) => l.message.includes(token));
      return got.length >= n ? got : undefined;
    },
    timeoutMs,
    50,
  );
}

function assertRecent(time: string): void {
  const t = Date.parse(time);
  assert.ok(Math.abs(Date.now() - t) < 60_000, `timestamp ${time} is not now`);
}

const PRI = (facility: number, severity: number): number => facility * 8 + severity;
const LOCAL3 = 19;

for (const [name, args] of [
  ['logger → UDP, RFC 5424', ['-d', '--rfc5424']],
  ['logger → UDP, RFC 3164', ['-d', '--rfc3164']],
  ['logger → TCP newline framing, RFC 5424', ['-T', '--rfc5424']],
  ['logger → TCP octet counting, RFC 5424', ['-T', '--octet-count', '--rfc5424']],
  ['logger → TCP newline framing, RFC 3164', ['-T', '--rfc3164']],
] as const) {
  test(name, async () => {
    const token = `tok-${name.replace(/\W+/g, '-')}`;
    const port = args[0] === '-d' ? udpPort : tcpPort;
    const r = await runLogger(['-n', '127.0.0.1', '-P', String(port), ...args, '-p', 'local3.warning', '-t', 'myapp', '--id=4242', `hello ${token}`]);
    assert.equal(r.code, 0, r.stderr);
    const [l] = await arrived(token);
    assert.equal(l!.pri, PRI(LOCAL3, 4));
    assert.equal(l!.host, hostname());
    assert.equal(l!.program, 'myapp');
    assert.equal(l!.pid, '4242');
    assert.equal(l!.message, `hello ${token}`);
    assertRecent(l!.time);
  });
}

test('logger → unix-dgram socket (the local format has no hostname: the node name is used)', async () => {
  const token = 'tok-unix-dgram';
  const r = await runLogger(['-u', sock, '-p', 'local3.err', '-t', 'sockapp', '--id=77', `hello ${token}`]);
  assert.equal(r.code, 0, r.stderr);
  const [l] = await arrived(token);
  assert.equal(l!.pri, PRI(LOCAL3, 3));
  assert.equal(l!.host, 'collector');
  assert.equal(l!.program, 'sockapp');
  assert.equal(l!.pid, '77');
  assert.equal(l!.message, `hello ${token}`);
  assertRecent(l!.time);
});

// A fixed, past timestamp: both peers and logship give a year-less RFC 3164 date the current year.
const year = new Date().getFullYear();
const FIXED = `${year}-11-03T01:02:03.000Z`;
const fixedLine = (host: string, token: string): string => `<134>Nov  3 01:02:03 ${host} app[123]: hello ${token}`;

function assertFixed(l: Line, host: string, token: string): void {
  assert.equal(l.pri, PRI(16, 6)); // local0.info
  assert.equal(l.host, host);
  assert.equal(l.program, 'app');
  assert.equal(l.pid, '123');
  assert.equal(l.message, `hello ${token}`);
  if (new Date(FIXED).getTime() < Date.now()) assert.equal(l.time, new Date(FIXED.replace('Z', '')).toISOString());
}

for (const [name, target] of [
  ['rsyslog omfwd → TCP newline framing', { transport: 'tcp', framing: 'newline' }],
  ['rsyslog omfwd → TCP octet counting', { transport: 'tcp', framing: 'octet-counted' }],
  ['rsyslog omfwd → UDP', { transport: 'udp' }],
] as const) {
  test(name, async (t) => {
    const token = `tok-${name.replace(/\W+/g, '-')}`;
    const port = target.transport === 'udp' ? udpPort : tcpPort;
    const sender = await startRsyslogSender(t, { target: { ...target, port } });
    await sender.send([fixedLine('rshost', token)]);
    const [l] = await arrived(token, 1, 20_000);
    assertFixed(l!, 'rshost', token);
  });
}

test('rsyslog omfwd → TCP, RFC 5424 (RSYSLOG_SyslogProtocol23Format, octet counting)', async (t) => {
  const token = 'tok-rsyslog-5424';
  const sender = await startRsyslogSender(t, {
    target: { transport: 'tcp', framing: 'octet-counted', port: tcpPort },
    template: 'RSYSLOG_SyslogProtocol23Format',
  });
  await sender.send([fixedLine('rshost5424', token)]);
  const [l] = await arrived(token, 1, 20_000);
  assert.equal(l!.pri, PRI(16, 6));
  assert.equal(l!.host, 'rshost5424');
  assert.equal(l!.program, 'app');
  assert.equal(l!.pid, '123');
  // rsyslog forwards a 3164 message as 5424 keeping the space after the tag in MSG.
  assert.equal(l!.message.trim(), `hello ${token}`);
  if (new Date(FIXED).getTime() < Date.now()) assert.equal(l!.time, new Date(FIXED.replace('Z', '')).toISOString());
});

for (const [name, target] of [
  ['syslog-ng network() → TCP (RFC 3164, newline framing)', { transport: 'tcp', driver: 'network' }],
  ['syslog-ng network() → UDP', { transport: 'udp', driver: 'network' }],
  ['syslog-ng syslog() → TCP (RFC 5424, octet counting)', { transport: 'tcp', driver: 'syslog' }],
] as const) {
  test(name, async (t) => {
    const token = `tok-${name.replace(/\W+/g, '-')}`;
    const port = target.transport === 'udp' ? udpPort : tcpPort;
    const sender = await startSyslogNgSender(t, { target: { ...target, port } });
    await sender.send([fixedLine('nghost', token)]);
    const [l] = await arrived(token, 1, 20_000);
    assertFixed(l!, 'nghost', token);
  });
}

test('loggen → TCP: every message arrives once, with its fields', async (t) => {
  const before = (await lines()).length;
  const r = await runLoggen(t, { port: tcpPort, proto: 'tcp', count: 2000, size: 200 });
  assert.equal(r.count, 2000, r.stderr);
  const got = await waitFor(
    '2000 loggen lines',
    async () => {
      const all = (await lines()).slice(before).filter((l) => l.program.startsWith('prg'));
      return all.length >= 2000 ? all : undefined;
    },
    30_000,
    100,
  );
  assert.equal(got.length, 2000);
  const seqs = new Set(got.map((l) => /seq: (\d+)/.exec(l.message)?.[1]));
  assert.equal(seqs.size, 2000);
  for (const l of got.slice(0, 5)) {
    assert.equal(l.pri, 38); // loggen: auth.info
    assert.equal(l.host, 'localhost');
    assert.equal(l.pid, '1234');
    assert.match(l.message, /^seq: \d{10}, thread: \d{4}, runid: \d+, stamp: \S+ (PADD)+$/);
    assertRecent(l.time);
  }
});

test('loggen -P → TCP (RFC 5424, octet counting, BOM before the message)', async (t) => {
  const before = (await lines()).length;
  const r = await runLoggen(t, { port: tcpPort, proto: 'tcp', count: 500, size: 200, syslogProto: true });
  assert.equal(r.count, 500, r.stderr);
  const got = await waitFor(
    '500 loggen -P lines',
    async () => {
      const all = (await lines()).slice(before).filter((l) => l.program.startsWith('prg'));
      return all.length >= 500 ? all : undefined;
    },
    30_000,
    100,
  );
  assert.equal(got.length, 500);
  assert.ok(got.every((l) => l.message.startsWith('seq: ')), JSON.stringify(got[0]));
  for (const l of got.slice(0, 5)) {
    assert.equal(l.pri, 38);
    assert.equal(l.host, 'localhost');
    assertRecent(l.time);
  }
});
