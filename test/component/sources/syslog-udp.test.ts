// Component tests of the syslog-udp source on real loopback sockets: util-linux `logger -d` checked
// field by field, raw datagrams (terminators, oversize, per-sender batches), burst accounting with a
// blocked pipeline (every datagram is delivered or counted as dropped, memory bounded), and stop.
// Run once per receiver: the native one (recvmmsg) here, node:dgram by syslog-udp-node.test.ts,
// which runs this file again with LOGSHIP_TEST_UDP_RECEIVER=node.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { hostname } from 'node:os';
import { test as nodeTest, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../src/core/records.js';
import { syslogUdpSource, SyslogUdpSource } from '../../../src/sources/syslog-udp/index.js';
import { MAX_UDP_SENDERS, OVERFLOW_HOST, type SyslogUdpInternals, type UdpReceiverKind } from '../../../src/sources/syslog-udp/source.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

const RECEIVER: UdpReceiverKind = process.env['LOGSHIP_TEST_UDP_RECEIVER'] === 'node' ? 'node' : 'native';
/** Each test's name says which receiver it ran with. */
const test = (name: string, fn: (t: TestContext) => Promise<void> | void): void => void nodeTest(`[${RECEIVER}] ${name}`, fn);

type Ctx = ReturnType<typeof testSourceContext>;

interface Started {
  source: SyslogUdpSource;
  ctx: Ctx;
  batches: Batch[];
  records: () => string[];
}

async function startSource(t: TestContext, opts: Record<string, unknown> = {}, onBatch?: (b: Batch) => void | Promise<void>): Promise<Started> {
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'udp-in' }, (b) => {
    batches.push(b);
    return onBatch?.(b);
  });
  const source = new SyslogUdpSource(syslogUdpSource.options.parse({ type: 'syslog-udp', listen: 'udp:127.0.0.1:0', ...opts }), { receiver: RECEIVER });
  await source.start(ctx);
  assert.equal(source.receiverKind, RECEIVER);
  t.after(() => source.stop());
  return { source, ctx, batches, records: () => batches.flatMap(texts) };
}

function texts(b: Batch): string[] {
  return Array.from({ length: b.count }, (_, i) => b.data.toString('latin1', b.recordStart(i), b.textEnd(i)));
}

async function sender(t: TestContext, address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind({ address, port: 0 }, () => resolve()));
  t.after(() => s.close());
  return s;
}

const send = (s: Socket, port: number, msg: string | Buffer): Promise<void> =>
  new Promise((resolve, reject) => s.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

for (const rfc of ['rfc3164', 'rfc5424'] as const) {
  test(`logger -d --${rfc}: facility, severity, host, program, message, timestamp`, async (t) => {
    const s = await startSource(t);
    const before = Date.now();
    const msg = `hello over udp ${rfc}`;
    await run('logger', ['-n', '127.0.0.1', '-P', String(s.source.port), '-d', `--${rfc}`, '-p', 'local3.warning', '-t', 'myapp', msg], { timeout: 5000 });
    await waitFor('the logger datagram', () => s.records().length === 1, 5000);
    const b = s.batches[0]!;
    const f = recordFields(b);
    assert.equal(b.data.toString('latin1', f.msgStart[0]!, f.msgEnd[0]!), msg);
    assert.equal(f.facility(0), 19);
    assert.equal(f.severity(0), 4);
    assert.equal(f.host[0], hostname());
    assert.equal(f.program[0], 'myapp');
    assert.equal(f.flags[0]! & RECORD_FLAG.MALFORMED, 0);
    assert.ok(f.flags[0]! & RECORD_FLAG.HAS_TIME);
    assert.ok(f.timeMs[0]! >= Math.floor(before / 1000) * 1000 - 1000 && f.timeMs[0]! <= Date.now() + 1000);
    assert.equal(b.meta.format, 'syslog');
    assert.equal(b.meta.host, '127.0.0.1');
  });
}

test('one message per datagram; trailing LF/CR/NUL stripped, inner LF flattened, NUL and bad UTF-8 kept', async (t) => {
  const s = await startSource(t);
  const c = await sender(t);
  await send(c, s.source.port, '<13>one\n');
  await send(c, s.source.port, '<13>two\r\n\0');
  await send(c, s.source.port, '<13>three\nstill three');
  await send(c, s.source.port, '\n\0'); // empty: skipped
  await send(c, s.source.port, Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0x00, 0xff, 0x41]));
  await waitFor('4 records', () => s.records().length >= 4, 5000);
  await sleep(50);
  assert.deepEqual(s.records(), ['<13>one', '<13>two', '<13>three still three', '<13>\u0000\u00ffA']);
  assert.equal(s.ctx.counters.get('logship_source_lines_total'), 4);
});

test('oversize datagrams: truncate vs split, counted', async (t) => {
  const long = `<13>${'a'.repeat(60)}${'b'.repeat(40)}`;
  const tr = await startSource(t, { max_message_bytes: 64 });
  const c = await sender(t);
  await send(c, tr.source.port, long);
  await waitFor('truncated record', () => tr.records().length === 1, 5000);
  assert.deepEqual(tr.records(), [long.slice(0, 64)]);
  assert.equal(tr.ctx.counters.get('logship_syslog_messages_truncated_total'), 1);

  const sp = await startSource(t, { max_message_bytes: 64, oversize: 'split' });
  await send(c, sp.source.port, long);
  await waitFor('split records', () => sp.records().length === 2, 5000);
  assert.deepEqual(sp.records(), [long.slice(0, 64), long.slice(64)]);
  assert.equal(sp.ctx.counters.get('logship_syslog_messages_split_total'), 1);
});

test('one batcher per sender address: records of two senders never share a batch, host is each sender', async (t) => {
  const s = await startSource(t, { listen: 'udp:0.0.0.0:0' });
  const a = await sender(t, '127.0.0.1');
  const b = await sender(t, '127.0.0.2');
  for (let i = 0; i < 5; i++) {
    await send(a, s.source.port, `<13>a ${i}`);
    await send(b, s.source.port, `<13>b ${i}`);
  }
  await waitFor('10 records', () => s.records().length === 10, 5000);
  for (const batch of s.batches) {
    const who = texts(batch).map((x) => x[4]);
    assert.equal(new Set(who).size, 1, 'a batch holds one sender');
    assert.equal(batch.meta.host, who[0] === 'a' ? '127.0.0.1' : '127.0.0.2');
  }
  const streams = new Set(s.batches.map((x) => x.pos.stream));
  assert.equal(streams.size, 2);
  assert.equal(s.source.senders, 2);
  // Records of one sender stay in order.
  assert.deepEqual(
    s.records().filter((x) => x.startsWith('<13>a')),
    Array.from({ length: 5 }, (_, i) => `<13>a ${i}`),
  );
});

test('review udp-churn: past the sender cap, new senders share one overflow flow: no flow, stream or one-record batch per datagram', async (t) => {
  const s = await startSource(t, { listen: 'udp:0.0.0.0:0' });
  const n = MAX_UDP_SENDERS + 44;
  // Each sender its own loopback address (127.0.1.x, 127.0.2.x …: all of 127/8 is loopback).
  const senders = await Promise.all(Array.from({ length: n }, (_, i) => sender(t, `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`)));
  const ROUNDS = 5;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < n; i++) {
      // Senders past the cap alternate: with a hostname of their own, and without one.
      const msg = i >= MAX_UDP_SENDERS && i % 2 === 1 ? `<13>app: no hostname ${i} ${round}` : `<13>Nov 22 10:00:00 web-${i} app: round ${round}`;
      await send(senders[i]!, s.source.port, msg);
      await new Promise((r) => setImmediate(r));
    }
  }
  await waitFor(`${n * ROUNDS} records`, () => s.records().length === n * ROUNDS, 10_000);
  assert.equal(s.source.senders, MAX_UDP_SENDERS);
  assert.equal(s.source.overflowing, true);
  // Before: every datagram evicted a flow and made a new one (a stream id per datagram).
  const streams = new Set(s.batches.map((b) => b.pos.stream));
  assert.ok(streams.size <= MAX_UDP_SENDERS + 1, `${streams.size} streams`);
  const overflow = s.batches.filter((b) => b.meta.host === OVERFLOW_HOST);
  assert.equal(new Set(overflow.map((b) => b.pos.stream)).size, 1, 'one overflow stream');
  const overflowRecords = overflow.reduce((k, b) => k + b.count, 0);
  assert.equal(overflowRecords, 44 * ROUNDS);
  assert.ok(overflow.length < overflowRecords, `${overflow.length} batches for ${overflowRecords} records: not one per datagram`);
  assert.equal(s.ctx.counters.get('logship_syslog_udp_overflow_datagrams_total'), 44 * ROUNDS);
  // Hosts: a message's own hostname wins; one without gets the overflow's.
  const hosts = new Map<string, string>();
  for (const b of overflow) {
    const f = recordFields(b);
    for (let k = 0; k < b.count; k++) hosts.set(texts(b)[k]!, f.host[k]!);
  }
  for (const [text, host] of hosts) {
    if (text.includes('no hostname')) assert.equal(host, OVERFLOW_HOST, text);
    else assert.match(host, /^web-\d+$/, text);
  }
  // The senders with a flow of their own still have their own address as host.
  const own = s.batches.find((b) => b.meta.host !== OVERFLOW_HOST)!;
  assert.match(own.meta.host, /^127\.0\.\d+\.\d+$/);
});

test('burst into a blocked pipeline: memory bounded by max_buffered_bytes, every datagram delivered or counted as dropped', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const s = await startSource(t, { max_buffered_bytes: 65_536, receive_buffer_bytes: 8 * 1024 * 1024 }, () => gate);
  const c = await sender(t);
  const total = 2000;
  const body = 'x'.repeat(200);
  let maxBacklog = 0;
  for (let i = 0; i < total; i++) {
    await send(c, s.source.port, `<13>app: ${i} ${body}`);
    maxBacklog = Math.max(maxBacklog, s.source.backlogBytes);
    if (i % 50 === 49) await sleep(2); // let the source read: kernel drops are not what this test counts
  }
  const dropped = (): number => s.ctx.counters.get('logship_syslog_udp_dropped_total');
  await waitFor('drops counted', () => dropped() > 0, 5000);
  await sleep(100);
  assert.ok(s.source.backlogBytes <= 65_536, `backlog ${s.source.backlogBytes}`);
  assert.ok(maxBacklog <= 65_536, `max backlog ${maxBacklog}`);
  const droppedNow = dropped();
  release();
  await waitFor('delivered + dropped = sent', () => s.records().length + droppedNow === total, 10_000);
  assert.equal(dropped(), droppedNow, 'nothing dropped once the pipeline takes batches');
  const logged = s.ctx.logs.find((l) => (l.obj as { event?: string }).event === 'syslog_udp_dropped');
  assert.equal(logged?.level, 'error');
  // What was kept is a prefix of what was sent (later datagrams were the ones dropped).
  const got = s.records();
  for (let i = 0; i < got.length; i++) assert.equal(got[i], `<13>app: ${i} ${body}`);
});

test('stop() closes the socket and pushes what was received', async (t) => {
  const s = await startSource(t);
  const c = await sender(t);
  const port = s.source.port;
  await send(c, port, '<13>before stop');
  await waitFor('received', () => s.source.backlogBytes > 0 || s.records().length > 0, 5000);
  await s.source.stop();
  assert.deepEqual(s.records(), ['<13>before stop']);
  // The port is free again: binding it works.
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind({ address: '127.0.0.1', port }, () => resolve());
  });
  again.close();
});

test('IPv6 and dual stack: the host of a batch is its sender, an IPv4 sender on a [::] socket by its IPv4 address', async (t) => {
  const v6 = await startSource(t, { listen: 'udp:[::1]:0' });
  const s6 = createSocket('udp6');
  t.after(() => s6.close());
  await new Promise<void>((resolve, reject) => s6.send('<13>over six', v6.source.port, '::1', (err) => (err ? reject(err) : resolve())));
  await waitFor('the IPv6 datagram', () => v6.records().length === 1, 5000);
  assert.equal(v6.batches[0]!.meta.host, '::1');

  const dual = await startSource(t, { listen: 'udp:[::]:0' });
  await send(await sender(t), dual.source.port, '<13>over four');
  await waitFor('the IPv4 datagram', () => dual.records().length === 1, 5000);
  assert.deepEqual(dual.records(), ['<13>over four']);
  assert.equal(dual.batches[0]!.meta.host, '127.0.0.1');
});

test('a port in use: start fails with LS_STARTUP naming the address and the reason', async (t) => {
  const first = await startSource(t);
  const second = new SyslogUdpSource(syslogUdpSource.options.parse({ type: 'syslog-udp', listen: `udp:127.0.0.1:${first.source.port}` }), { receiver: RECEIVER });
  const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'udp-in-2' }, () => undefined);
  await assert.rejects(second.start(ctx), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, new RegExp(`udp:127\\.0\\.0\\.1:${first.source.port}.*(EADDRINUSE|address already in use)`, 'i'));
    return true;
  });
});

if (RECEIVER === 'native') {
  /** A source with the receiver chosen by itself ('auto') that received one datagram. */
  const started = async (t: TestContext, listen: string, internals: SyslogUdpInternals = {}) => {
    const src = new SyslogUdpSource(syslogUdpSource.options.parse({ type: 'syslog-udp', listen }), internals);
    const batches: Batch[] = [];
    const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'udp-auto' }, (b) => void batches.push(b));
    await src.start(ctx);
    t.after(() => src.stop());
    await send(await sender(t), src.port, '<13>auto');
    await waitFor(`a datagram on ${listen}`, () => batches.length === 1, 5000);
    return { src, ctx };
  };
  const notBuilt = (): Error => new Error('native UDP receiver not built: Cannot find module build/Release/logship_udp.node');

  test('auto: the native receiver for a numeric address, node:dgram for a host name (resolved)', async (t) => {
    assert.equal((await started(t, 'udp:127.0.0.1:0')).src.receiverKind, 'native');
    assert.equal((await started(t, 'udp:localhost:0')).src.receiverKind, 'node');
  });

  test('auto without the addon built: node:dgram receives, and the fallback is logged once as a warning', async (t) => {
    const { src, ctx } = await started(t, 'udp:127.0.0.1:0', { binding: notBuilt });
    assert.equal(src.receiverKind, 'node');
    assert.equal(ctx.counters.get('logship_syslog_udp_fallbacks_total'), 1);
    assert.ok(ctx.logs.some((l) => l.level === 'warn' && (l.obj as { event?: string }).event === 'syslog_udp_fallback'));
  });

  test('receiver native without the addon built: start fails with LS_STARTUP saying it is not built', async (t) => {
    const src = new SyslogUdpSource(syslogUdpSource.options.parse({ type: 'syslog-udp', listen: 'udp:127.0.0.1:0' }), { receiver: 'native', binding: notBuilt });
    const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'udp-native' }, () => undefined);
    await assert.rejects(src.start(ctx), { code: 'LS_STARTUP', message: /not built/ });
  });
}

test('options: strict, udp scheme only, defaults', () => {
  const o = syslogUdpSource.options.parse({ type: 'syslog-udp', listen: 'udp:0.0.0.0:514' });
  assert.equal(o.max_message_bytes, 65_536);
  assert.equal(o.max_buffered_bytes, 4 * 1024 * 1024);
  assert.equal(o.receive_buffer_bytes, undefined);
  for (const bad of [{ listen: 'tcp:0.0.0.0:514' }, { listen: 'udp:0.0.0.0:514', max_connections: 3 }, { listen: 'udp:0.0.0.0:514', receive_buffer_bytes: 10 }, { listen: 'udp:0.0.0.0:514', receive_buffer_bytes: 2 ** 31 }]) {
    assert.equal(syslogUdpSource.options.safeParse({ type: 'syslog-udp', ...bad }).success, false, JSON.stringify(bad));
  }
});
