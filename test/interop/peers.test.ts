// Interop infrastructure check (issue 3 item 7): the real peers installed by .ci/install-peers.sh
// start, send and receive on this machine, independent of logship. Plain Node sockets are the other
// end. The exact frames asserted here are the wire formats recorded in test/fixtures/peer-wire-formats.md
// (LOGSHIP_PEER_WIRE_DUMP=<file> appends every captured frame to <file> to regenerate it).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  freeLoopbackPort,
  peerPaths,
  runLoggen,
  runLogger,
  startRsyslog,
  startRsyslogReceiver,
  startRsyslogSender,
  startSyslogNg,
  startSyslogNgReceiver,
  startSyslogNgSender,
  type ReceivedRecord,
} from '../helpers/peers/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const HOST = hostname();
const T = { timeout: 30_000 };

// RFC 3164 lines fed to the senders' inputs. The senders keep their PRI, timestamp, host and tag.
const LINES_3164 = [
  '<134>Nov  3 01:02:03 peerhost app[123]: hello one',
  '<11>Dec 24 23:59:59 host-2 prog2: second message: with a colon',
  '<189>Jan 15 12:00:00 h3 cron[7]: third',
];

// ----- capture servers ------------------------------------------------------------------------

interface TcpCapture {
  port: number;
  /** Bytes received, one Buffer per connection, in the order connections were accepted. */
  conns: Buffer[][];
  bytes(): Buffer;
}

async function captureTcp(t: TestContext): Promise<TcpCapture> {
  const conns: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((c) => {
    const chunks: Buffer[] = [];
    conns.push(chunks);
    sockets.add(c);
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => {});
    c.on('close', () => sockets.delete(c));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    srv.close();
    await once(srv, 'close');
  });
  return {
    port: (srv.address() as { port: number }).port,
    conns,
    bytes: () => Buffer.concat(conns.flat()),
  };
}

interface UdpCapture {
  port: number;
  datagrams: Buffer[];
}

async function captureUdp(t: TestContext): Promise<UdpCapture> {
  const datagrams: Buffer[] = [];
  // loggen sends a burst while this process may be busy (spawning it): the default 208 KiB receive
  // buffer holds 256 small datagrams, so take a bigger one (rmem_max here is 4 MiB).
  const sock = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  sock.on('message', (m) => datagrams.push(m));
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  t.after(() => new Promise<void>((r) => sock.close(() => r())));
  return { port: sock.address().port, datagrams };
}

// ----- framing (RFC 6587) -----------------------------------------------------------------------

/** Newline-framed frames; every frame must end with LF (a partial tail is returned as `rest`). */
function splitNewline(buf: Buffer): { frames: string[]; rest: string } {
  const text = buf.toString('utf8');
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  return { frames: parts, rest };
}

/** Octet-counted frames: `MSG-LEN SP SYSLOG-MSG` (RFC 6587 §3.4.1). Throws on a bad count. */
function splitOctet(buf: Buffer): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let at = 0;
  while (at < buf.length) {
    const sp = buf.indexOf(0x20, at);
    if (sp === -1) break;
    const lenText = buf.toString('latin1', at, sp);
    assert.match(lenText, /^[1-9][0-9]*$/, `octet count at byte ${at}`);
    const len = Number(lenText);
    if (sp + 1 + len > buf.length) break;
    frames.push(buf.toString('utf8', sp + 1, sp + 1 + len));
    at = sp + 1 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

// ----- wire dump for test/fixtures/peer-wire-formats.md -----------------------------------------

/** Appends frames (as JSON strings: LF and BOM visible) or, with `asIs`, lines as they are. */
function dump(label: string, frames: Array<string | Buffer>, asIs = false): void {
  const file = process.env['LOGSHIP_PEER_WIRE_DUMP'];
  if (!file) return;
  const show = (f: string): string => (asIs ? f : JSON.stringify(f).replaceAll('\uFEFF', '\\ufeff'));
  const lines = frames.map((f) => show(typeof f === 'string' ? f : f.toString('utf8')));
  appendFileSync(file, `### ${label}\n${lines.join('\n')}\n\n`);
}

async function tcpFrames(what: string, cap: TcpCapture, framing: 'newline' | 'octet', n: number): Promise<string[]> {
  return waitFor(`${n} ${framing} frames from ${what}`, () => {
    const b = cap.bytes();
    const { frames } = framing === 'newline' ? splitNewline(b) : splitOctet(b);
    return frames.length >= n ? frames : undefined;
  });
}

async function datagrams(what: string, cap: UdpCapture, n: number): Promise<string[]> {
  await waitFor(`${n} datagrams from ${what}`, () => cap.datagrams.length >= n).catch((err: unknown) => {
    throw new Error(`${String(err)} (got ${cap.datagrams.length})`);
  });
  return cap.datagrams.map((d) => d.toString('utf8'));
}

function assertRecentIso(ts: string, before: number, after: number): void {
  const ms = Date.parse(ts);
  assert.ok(Number.isFinite(ms), `timestamp ${JSON.stringify(ts)} parses`);
  // 3164 timestamps have whole seconds; allow a second of slack each side.
  assert.ok(ms >= before - 1000 && ms <= after + 1000, `timestamp ${ts} within the send window`);
}

// ------------------------------------------------------------------------------------------------

test('peers are installed (run `bash .ci/install-peers.sh` otherwise)', () => {
  const p = peerPaths();
  assert.ok(p.rsyslogd.endsWith('rsyslogd'));
  assert.ok(p.syslogNg.includes('.ci/peers/syslog-ng'));
});

test('a peer with a bad config fails fast with its output', async (t) => {
  await assert.rejects(startRsyslog(t, { config: 'action(type="omfile" fil="/nonexistent")' }), { code: 'PEER_BAD_CONFIG' });
  await assert.rejects(startSyslogNg(t, { config: 'source s { nosuchdriver(); };' }), { code: 'PEER_EXITED' });
});

test('a peer that never gets ready is refused within the bound; stop() ends a peer by its pid', T, async (t) => {
  const unused = await freeLoopbackPort();
  const started = Date.now();
  await assert.rejects(
    startRsyslog(t, {
      config: 'ruleset(name="r") { action(type="omfile" file="/dev/null") }',
      ready: { listening: [{ transport: 'tcp', port: unused }] },
      timeoutMs: 500,
    }),
    { code: 'PEER_NOT_READY' },
  );
  assert.ok(Date.now() - started < 5000);
  for (const rx of [await startRsyslogReceiver(t), await startSyslogNgReceiver(t)]) {
    assert.equal(process.kill(rx.pid, 0), true);
    assert.equal(await rx.stop(), 0, `${rx.name} exits 0 on SIGTERM`);
    assert.throws(() => process.kill(rx.pid, 0), { code: 'ESRCH' });
  }
});

// ----- rsyslog as a sender (omfwd) --------------------------------------------------------------

test('rsyslog omfwd → TCP, newline framing (RSYSLOG_TraditionalForwardFormat)', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startRsyslogSender(t, { target: { port: cap.port, transport: 'tcp' } });
  await tx.send(LINES_3164);
  const frames = await tcpFrames('rsyslog', cap, 'newline', 3);
  dump('rsyslog omfwd tcp, newline framing, default template (fed RFC 3164 lines)', frames);
  // The traditional forward format is `<PRI>TIMESTAMP HOSTNAME TAG MSG`: what came in, byte for byte.
  assert.deepEqual(frames, LINES_3164);
});

test('rsyslog omfwd → TCP, octet-counted framing', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startRsyslogSender(t, { target: { port: cap.port, transport: 'tcp', framing: 'octet-counted' } });
  await tx.send(LINES_3164);
  const frames = await tcpFrames('rsyslog', cap, 'octet', 3);
  dump('rsyslog omfwd tcp, TCP_Framing="octet-counted", default template', [cap.bytes()]);
  // No LF inside or after the counted bytes with the traditional template.
  assert.deepEqual(frames, LINES_3164);
  assert.equal(splitOctet(cap.bytes()).rest.length, 0);
});

test('rsyslog omfwd → UDP', T, async (t) => {
  const cap = await captureUdp(t);
  const tx = await startRsyslogSender(t, { target: { port: cap.port, transport: 'udp' } });
  await tx.send(LINES_3164);
  const got = await datagrams('rsyslog', cap, 3);
  dump('rsyslog omfwd udp, default template', got);
  assert.deepEqual(got, LINES_3164); // one message per datagram, no trailing LF
});

test('rsyslog omfwd → TCP octet-counted, RFC 5424 (RSYSLOG_SyslogProtocol23Format)', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startRsyslogSender(t, {
    target: { port: cap.port, transport: 'tcp', framing: 'octet-counted' },
    template: 'RSYSLOG_SyslogProtocol23Format',
  });
  const in5424 =
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event';
  await tx.send([in5424, LINES_3164[0]!]);
  const frames = await tcpFrames('rsyslog', cap, 'octet', 2);
  dump('rsyslog omfwd tcp octet-counted, RSYSLOG_SyslogProtocol23Format (fed one 5424 and one 3164 line)', [cap.bytes()]);
  // The template ends with LF, which is inside the counted bytes.
  assert.equal(
    frames[0],
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event\n',
  );
  // A 3164 input gains this year and the local offset; its MSG keeps the space after the TAG:
  // "65 <134>1 2026-11-03T01:02:03+00:00 peerhost app 123 - -  hello one\n"
  assert.match(frames[1]!, /^<134>1 \d{4}-11-03T01:02:03(Z|[+-]\d\d:\d\d) peerhost app 123 - - {2}hello one\n$/);
});

test('rsyslog imfile → omfwd TCP: facility, severity, host, program from the input', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startRsyslogSender(t, {
    target: { port: cap.port, transport: 'tcp' },
    template: 'RSYSLOG_SyslogProtocol23Format',
    input: { type: 'file', program: 'fileapp', facility: 'local5', severity: 'info' },
    localHostname: 'rsyslog-peer',
  });
  const before = Date.now();
  await tx.send(['a file line', 'second file line']);
  const frames = await tcpFrames('rsyslog imfile', cap, 'newline', 2);
  const after = Date.now();
  dump('rsyslog imfile → omfwd tcp newline, RSYSLOG_SyslogProtocol23Format', frames);
  // "<174>1 2026-11-23T11:35:24.839754+00:00 rsyslog-peer fileapp - - - a file line" (local5.info = 21*8+6)
  const re = /^<174>1 (\S+) rsyslog-peer fileapp - - - (.*)$/;
  const m0 = re.exec(frames[0]!);
  const m1 = re.exec(frames[1]!);
  assert.ok(m0 && m1, `frames ${JSON.stringify(frames)}`);
  assert.equal(m0[2], 'a file line');
  assert.equal(m1[2], 'second file line');
  assertRecentIso(m0[1]!, before, after);
});

// ----- syslog-ng as a sender -------------------------------------------------------------------

test('syslog-ng network() → TCP, newline-framed RFC 3164', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startSyslogNgSender(t, { target: { port: cap.port, transport: 'tcp' } });
  await tx.send(LINES_3164);
  const frames = await tcpFrames('syslog-ng', cap, 'newline', 3);
  dump('syslog-ng network() tcp (fed RFC 3164 lines)', frames);
  // syslog-ng re-renders the header from what it parsed: here identical to the input.
  assert.deepEqual(frames, [
    '<134>Nov  3 01:02:03 peerhost app[123]: hello one',
    '<11>Dec 24 23:59:59 host-2 prog2: second message: with a colon',
    '<189>Jan 15 12:00:00 h3 cron[7]: third',
  ]);
});

test('syslog-ng network() → UDP, RFC 3164 with a trailing LF per datagram', T, async (t) => {
  const cap = await captureUdp(t);
  const tx = await startSyslogNgSender(t, { target: { port: cap.port, transport: 'udp' } });
  await tx.send(LINES_3164);
  const got = await datagrams('syslog-ng', cap, 3);
  dump('syslog-ng network() udp', got);
  assert.deepEqual(got, LINES_3164.map((l) => `${l}\n`));
});

test('syslog-ng syslog() → TCP, octet-counted RFC 5424', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startSyslogNgSender(t, { target: { port: cap.port, transport: 'tcp', driver: 'syslog' } });
  await tx.send(LINES_3164);
  const frames = await tcpFrames('syslog-ng', cap, 'octet', 3);
  dump('syslog-ng syslog() tcp (octet-counted; fed RFC 3164 lines)', [cap.bytes()]);
  // The count includes the trailing LF. 3164 input gains this year and the local offset:
  // "64 <134>1 2026-11-03T01:02:03+00:00 peerhost app 123 - - hello one\n80 <11>1 2026-12-24T23:59:59+00:00 host-2 prog2 - - - second …"
  const year = '\\d{4}';
  const off = '(Z|[+-]\\d\\d:\\d\\d)';
  assert.match(frames[0]!, new RegExp(`^<134>1 ${year}-11-03T01:02:03${off} peerhost app 123 - - hello one\\n$`));
  assert.match(frames[1]!, new RegExp(`^<11>1 ${year}-12-24T23:59:59${off} host-2 prog2 - - - second message: with a colon\\n$`));
  assert.match(frames[2]!, new RegExp(`^<189>1 ${year}-01-15T12:00:00${off} h3 cron 7 - - third\\n$`));
  assert.equal(splitOctet(cap.bytes()).rest.length, 0);
});

test('syslog-ng syslog() → UDP, RFC 5424 with a trailing LF', T, async (t) => {
  const cap = await captureUdp(t);
  const tx = await startSyslogNgSender(t, { target: { port: cap.port, transport: 'udp', driver: 'syslog' } });
  await tx.send([LINES_3164[0]!]);
  const got = await datagrams('syslog-ng', cap, 1);
  dump('syslog-ng syslog() udp', got);
  assert.match(got[0]!, /^<134>1 \d{4}-11-03T01:02:03(Z|[+-]\d\d:\d\d) peerhost app 123 - - hello one\n$/);
});

test('syslog-ng network(flags(syslog-protocol)) → TCP, newline-framed RFC 5424; file() input', T, async (t) => {
  const cap = await captureTcp(t);
  const tx = await startSyslogNgSender(t, {
    target: { port: cap.port, transport: 'tcp', syslogProtocol: true },
    input: { type: 'file', program: 'fileapp', facility: 'local5', severity: 'info' },
    localHostname: 'sng-peer',
    fracDigits: 3,
  });
  const before = Date.now();
  await tx.send(['a file line', 'second file line']);
  const frames = await tcpFrames('syslog-ng', cap, 'newline', 2);
  const after = Date.now();
  dump('syslog-ng file() → network(flags(syslog-protocol)) tcp, frac_digits(3)', frames);
  // Messages read from a file carry syslog-ng's [meta sequenceId] structured data:
  // "<174>1 2026-11-23T11:36:08.787+00:00 sng-peer fileapp - - [meta sequenceId=\"1\"] a file line"
  const re = /^<174>1 (\S+) sng-peer fileapp - - \[meta sequenceId="(\d+)"\] (.*)$/;
  const m0 = re.exec(frames[0]!);
  const m1 = re.exec(frames[1]!);
  assert.ok(m0 && m1, `frames ${JSON.stringify(frames)}`);
  assert.deepEqual([m0[2], m0[3], m1[2], m1[3]], ['1', 'a file line', '2', 'second file line']);
  assert.match(m0[1]!, /\.\d{3}(Z|[+-]\d\d:\d\d)$/);
  assertRecentIso(m0[1]!, before, after);
});

test('syslog-ng network() with frac_digits(6): RFC 3164 timestamps gain microseconds', T, async (t) => {
  const cap = await captureUdp(t);
  const tx = await startSyslogNgSender(t, {
    target: { port: cap.port, transport: 'udp' },
    input: { type: 'file', program: 'fileapp', facility: 'local5', severity: 'info' },
    localHostname: 'sng-peer',
    fracDigits: 6,
  });
  await tx.send(['a file line']);
  const got = await datagrams('syslog-ng', cap, 1);
  dump('syslog-ng file() → network() udp, frac_digits(6)', got);
  // e.g. "<174>Nov 23 11:25:41.747567 sng-peer fileapp: a file line\n" (a 3164 variant parsers meet)
  assert.match(got[0]!, /^<174>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d\.\d{6} sng-peer fileapp: a file line\n$/);
});

// ----- loggen ------------------------------------------------------------------------------------

test('loggen → TCP newline framing: the count it reports arrives, in order', T, async (t) => {
  const cap = await captureTcp(t);
  const r = await runLoggen(t, { port: cap.port, proto: 'tcp', count: 2000, size: 200 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.count, 2000);
  // "<38>2026-11-23T11:36:09 localhost prg00000[1234]: seq: 0000000000, thread: 0000, runid: 1795433769, stamp: 2026-11-23T11:36:09 PADDPADD…"
  const frames = await tcpFrames('loggen', cap, 'newline', 2000);
  dump('loggen -i -S -s 200 (tcp, RFC 3164-ish, newline)', frames.slice(0, 2));
  assert.equal(frames.length, 2000);
  frames.forEach((f, i) => {
    assert.equal(Buffer.byteLength(f) + 1, 200, 'size counts the LF');
    assert.match(f, new RegExp(`^<38>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d localhost prg00000\\[1234\\]: seq: ${String(i).padStart(10, '0')}, thread: 0000, runid: \\d+, stamp: \\S+ (PADD)+P?A?D?D?$`));
  });
});

test('loggen -P → TCP octet-counted RFC 5424 (count includes the LF)', T, async (t) => {
  const cap = await captureTcp(t);
  const r = await runLoggen(t, { port: cap.port, proto: 'tcp', count: 500, size: 200, syslogProto: true });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.count, 500);
  // "200 <38>1 2026-11-23T11:36:09+00:00 localhost prg00000 1234 - - \ufeffseq: 0000000000, thread: 0000, … PADD\n200 <38>1 …"
  const frames = await tcpFrames('loggen', cap, 'octet', 500);
  dump('loggen -i -S -P -s 200 (tcp, RFC 5424, octet-counted)', [Buffer.concat(cap.conns[0]!).subarray(0, 420)]);
  assert.equal(frames.length, 500);
  frames.forEach((f, i) => {
    assert.equal(Buffer.byteLength(f), 200);
    assert.match(f, new RegExp(`^<38>1 \\S+ localhost prg00000 1234 - - \uFEFFseq: ${String(i).padStart(10, '0')}, `));
    assert.ok(f.endsWith('\n'));
  });
});

test('loggen → UDP: one message per datagram', T, async (t) => {
  const cap = await captureUdp(t);
  const r = await runLoggen(t, { port: cap.port, proto: 'udp', count: 1000, size: 150, rate: 100_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.count, 1000);
  // "<38>2026-11-23T11:36:10 localhost prg00000[1234]: seq: 0000000000, … PADDPA\n" (one datagram each, LF included)
  const got = await datagrams('loggen', cap, 1000);
  dump('loggen -i -D -s 150 (udp)', got.slice(0, 2));
  assert.equal(got.length, 1000);
  for (const d of got) assert.match(d, /^<38>\S+ localhost prg00000\[1234\]: seq: \d{10}, .*\n$/);
});

// ----- util-linux logger ---------------------------------------------------------------------------

test('logger → UDP (RFC 5424 by default with -n, RFC 3164 with --rfc3164)', T, async (t) => {
  const cap = await captureUdp(t);
  const base = ['-n', '127.0.0.1', '-P', String(cap.port), '-d', '-p', 'local3.warning', '-t', 'myprog'];
  assert.equal((await runLogger([...base, 'udp default'])).code, 0);
  assert.equal((await runLogger([...base, '--rfc3164', '--id=42', 'udp 3164'])).code, 0);
  const got = await datagrams('logger', cap, 2);
  dump('logger -n -d (udp): default RFC 5424, then --rfc3164 --id=42', got);
  // "<156>1 2026-11-23T11:36:10.819840+00:00 vm myprog - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] udp default"
  // "<156>Nov 23 11:36:10 vm myprog[42]: udp 3164"
  const h = HOST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(got[0]!, new RegExp(`^<156>1 \\S+ ${h} myprog - - \\[timeQuality tzKnown="1" isSynced="[01]"( syncAccuracy="\\d+")?\\] udp default$`));
  assert.match(got[1]!, new RegExp(`^<156>[A-Z][a-z]{2} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d ${h} myprog\\[42\\]: udp 3164$`));
});

test('logger → TCP newline and octet-counted framing', T, async (t) => {
  const cap = await captureTcp(t);
  const base = ['-n', '127.0.0.1', '-P', String(cap.port), '-T', '-p', 'user.err', '-t', 'tcpprog'];
  assert.equal((await runLogger([...base, '--rfc3164', 'tcp newline'])).code, 0);
  assert.equal((await runLogger([...base, '--octet-count', '--rfc5424=notq', '--msgid', 'M1', 'tcp octet'])).code, 0);
  await waitFor('two logger connections', () => cap.conns.length === 2 && cap.conns[1]!.length > 0);
  const nl = splitNewline(Buffer.concat(cap.conns[0]!));
  await waitFor('octet frame', () => splitOctet(Buffer.concat(cap.conns[1]!)).frames.length === 1);
  const oc = splitOctet(Buffer.concat(cap.conns[1]!));
  dump('logger -T --rfc3164 (tcp newline), then -T --octet-count --rfc5424=notq --msgid M1', [
    Buffer.concat(cap.conns[0]!),
    Buffer.concat(cap.conns[1]!),
  ]);
  // "<11>Nov 23 11:36:10 vm tcpprog: tcp newline\n", then "66 <11>1 2026-11-23T11:36:10.838026+00:00 vm tcpprog - M1 - tcp octet"
  const h = HOST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.equal(nl.frames.length, 1);
  assert.equal(nl.rest, '');
  assert.match(nl.frames[0]!, new RegExp(`^<11>[A-Z][a-z]{2} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d ${h} tcpprog: tcp newline$`));
  assert.equal(oc.rest.length, 0);
  assert.match(oc.frames[0]!, new RegExp(`^<11>1 \\S+ ${h} tcpprog - M1 - tcp octet$`));
});

test('logger → unix stream socket (-u, -T): no hostname, newline or octet-counted', T, async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, 'log.sock');
  const conns: Buffer[][] = [];
  const srv = createServer((c) => {
    const chunks: Buffer[] = [];
    conns.push(chunks);
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => {});
  });
  srv.listen(path);
  await once(srv, 'listening');
  t.after(() => srv.close());
  const base = ['-u', path, '-T', '-p', 'daemon.notice', '-t', 'sockprog'];
  assert.equal((await runLogger([...base, 'via unix stream'])).code, 0);
  assert.equal((await runLogger([...base, '--octet-count', '--id=77', 'octet on unix'])).code, 0);
  await waitFor('two connections with bytes', () => conns.length === 2 && conns[1]!.length > 0 && conns[0]!.length > 0);
  await waitFor('whole octet frame', () => splitOctet(Buffer.concat(conns[1]!)).frames.length === 1);
  const nl = Buffer.concat(conns[0]!).toString('utf8');
  const oc = splitOctet(Buffer.concat(conns[1]!));
  dump('logger -u <unix stream socket> -T (local format), then --octet-count --id=77', [nl, Buffer.concat(conns[1]!)]);
  // To a local socket logger writes RFC 3164 without the hostname, as libc's syslog() does:
  // "<29>Nov 23 11:36:10 sockprog: via unix stream\n", then "47 <29>Nov 23 11:36:10 sockprog[77]: octet on unix"
  assert.match(nl, /^<29>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d sockprog: via unix stream\n$/);
  assert.equal(oc.rest.length, 0);
  assert.match(oc.frames[0]!, /^<29>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d sockprog\[77\]: octet on unix$/);
});

// ----- rsyslog and syslog-ng as receivers, fed by logger ---------------------------------------------

function assertRecord(r: ReceivedRecord | undefined, want: Partial<ReceivedRecord>): void {
  assert.ok(r, 'record present');
  const got: Partial<ReceivedRecord> = {};
  for (const k of Object.keys(want) as Array<keyof ReceivedRecord>) (got as Record<string, unknown>)[k] = r[k];
  assert.deepEqual(got, want, `record ${JSON.stringify(r.fields)}`);
}

test('rsyslog receiver (imtcp both framings, imudp) writes every field', T, async (t) => {
  const rx = await startRsyslogReceiver(t, { listen: ['tcp', 'udp'] });
  const [tcp, udp] = rx.ports as [number, number];
  const before = Date.now();
  const send = async (args: string[]): Promise<void> => assert.equal((await runLogger(args)).code, 0);
  await send(['-n', '127.0.0.1', '-P', String(tcp), '-T', '--rfc3164', '-p', 'local3.warning', '-t', 'prog-a', '--id=42', 'tcp newline 3164']);
  await rx.waitForRecords(1);
  await send(['-n', '127.0.0.1', '-P', String(tcp), '-T', '--octet-count', '--rfc5424=notq', '--msgid', 'MID7', '--sd-id', 'x@1', '--sd-param', 'a="b"', '-p', 'user.err', '-t', 'prog-b', 'tcp octet 5424']);
  await rx.waitForRecords(2);
  await send(['-n', '127.0.0.1', '-P', String(udp), '-d', '--rfc3164', '-p', 'mail.info', '-t', 'prog-c', 'udp 3164']);
  const recs = await rx.waitForRecords(3);
  const after = Date.now();
  dump('rsyslog receiver: %jsonmesg% of logger tcp-3164 / tcp-octet-5424 / udp-3164', recs.map((r) => JSON.stringify(r.fields)), true);
  assertRecord(recs[0], { facility: 19, severity: 4, host: HOST, program: 'prog-a', pid: '42', message: 'tcp newline 3164' });
  assertRecord(recs[1], { facility: 1, severity: 3, host: HOST, program: 'prog-b', pid: '-', msgid: 'MID7', sd: '[x@1 a="b"]', message: 'tcp octet 5424' });
  assertRecord(recs[2], { facility: 2, severity: 6, host: HOST, program: 'prog-c', message: 'udp 3164' });
  for (const r of recs) assertRecentIso(r.timestamp, before, after);
  assert.ok(recs[1]!.raw.startsWith('<11>1 '));
});

test('syslog-ng receiver (network() tcp/udp, syslog() tcp) writes every field', T, async (t) => {
  const rx = await startSyslogNgReceiver(t, {
    listen: [
      { driver: 'network', transport: 'tcp' },
      { driver: 'network', transport: 'udp' },
      { driver: 'syslog', transport: 'tcp' },
    ],
  });
  const [ntcp, nudp, stcp] = rx.ports as [number, number, number];
  const before = Date.now();
  const send = async (args: string[]): Promise<void> => assert.equal((await runLogger(args)).code, 0);
  await send(['-n', '127.0.0.1', '-P', String(ntcp), '-T', '--rfc3164', '-p', 'local3.warning', '-t', 'prog-a', '--id=42', 'tcp newline 3164']);
  await rx.waitForRecords(1);
  await send(['-n', '127.0.0.1', '-P', String(nudp), '-d', '--rfc3164', '-p', 'mail.info', '-t', 'prog-c', 'udp 3164']);
  await rx.waitForRecords(2);
  await send(['-n', '127.0.0.1', '-P', String(stcp), '-T', '--octet-count', '--rfc5424=notq', '--msgid', 'MID7', '--sd-id', 'x@1', '--sd-param', 'a="b"', '-p', 'user.err', '-t', 'prog-b', 'tcp octet 5424']);
  const recs = await rx.waitForRecords(3);
  const after = Date.now();
  dump('syslog-ng receiver: format-json of logger tcp-3164 (network) / udp-3164 (network) / tcp-octet-5424 (syslog)', recs.map((r) => JSON.stringify(r.fields)), true);
  assertRecord(recs[0], { facility: 19, severity: 4, host: HOST, program: 'prog-a', pid: '42', message: 'tcp newline 3164' });
  assertRecord(recs[1], { facility: 2, severity: 6, host: HOST, program: 'prog-c', pid: '', message: 'udp 3164' });
  assertRecord(recs[2], { facility: 1, severity: 3, host: HOST, program: 'prog-b', pid: '', msgid: 'MID7', sd: '[x@1 a="b"]', message: 'tcp octet 5424' });
  for (const r of recs) assertRecentIso(r.timestamp, before, after);
});
