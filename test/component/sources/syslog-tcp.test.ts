// Component tests of the syslog-tcp source on real loopback sockets: util-linux `logger` (newline
// and octet-counted, RFC 3164 and 5424) checked field by field, and raw peers for chunking,
// framing detection and mixing, oversize, broken counts, limits, idle, backpressure and stop.
// Run once per reader of plain TCP connections: the native one here, node:net by
// syslog-tcp-node.test.ts, which runs this file again with LOGSHIP_TEST_TCP_READER=node.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { test as nodeTest, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../src/core/records.js';
import { CONN_BACKLOG_BYTES } from '../../../src/sources/syslog-tcp/conn.js';
import { NewlineDeframer } from '../../../src/codec/framing/newline.js';
import { syslogTcpServer, syslogTcpSource, type SyslogStreamServer, type TcpReaderKind } from '../../../src/sources/syslog-tcp/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

const READER: TcpReaderKind = process.env['LOGSHIP_TEST_TCP_READER'] === 'node' ? 'node' : 'native';
/** Each test's name says which reader it ran with. */
const test = (name: string, fn: (t: TestContext) => Promise<void> | void): void => void nodeTest(`[${READER}] ${name}`, fn);

type Ctx = ReturnType<typeof testSourceContext>;

interface Started {
  source: SyslogStreamServer;
  ctx: Ctx;
  batches: Batch[];
  /** Every record's text so far, in arrival order. */
  records: () => string[];
}

async function startSource(t: TestContext, opts: Record<string, unknown> = {}, onBatch?: (b: Batch) => void | Promise<void>): Promise<Started> {
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'in' }, (b) => {
    batches.push(b);
    return onBatch?.(b);
  });
  const source = syslogTcpServer(syslogTcpSource.options.parse({ type: 'syslog-tcp', listen: 'tcp:127.0.0.1:0', ...opts }), { reader: READER });
  await source.start(ctx);
  t.after(() => source.stop());
  return { source, ctx, batches, records: () => batches.flatMap(texts) };
}

function texts(b: Batch): string[] {
  return Array.from({ length: b.count }, (_, i) => b.data.toString('latin1', b.recordStart(i), b.textEnd(i)));
}

async function open(t: TestContext, port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  return socket;
}

const closedPromise = (s: Socket): Promise<void> => new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

async function waitRecords(s: Started, n: number, what = `${n} records`): Promise<string[]> {
  await waitFor(what, () => s.records().length >= n, 5000);
  return s.records();
}

/** The record with `msg` as its message, and its parsed fields. */
function findParsed(batches: Batch[], msg: string) {
  for (const b of batches) {
    const f = recordFields(b);
    for (let i = 0; i < b.count; i++) {
      if (b.data.toString('latin1', f.msgStart[i]!, f.msgEnd[i]!) === msg) {
        return {
          batch: b,
          facility: f.facility(i),
          severity: f.severity(i),
          host: f.host[i],
          program: f.program[i],
          timeMs: f.timeMs[i]!,
          flags: f.flags[i]!,
        };
      }
    }
  }
  return undefined;
}

/** The `cause` of every syslog_connection_closed event logged so far. */
function closeCauses(s: Started): string[] {
  return s.ctx.logs.filter((l) => (l.obj as { event?: string }).event === 'syslog_connection_closed').map((l) => (l.obj as { cause: string }).cause);
}

// ---- logger ----------------------------------------------------------------------------------

for (const framing of ['newline', 'octet-count'] as const) {
  for (const rfc of ['rfc3164', 'rfc5424'] as const) {
    test(`logger -T ${framing === 'octet-count' ? '--octet-count ' : ''}--${rfc}: facility, severity, host, program, message, timestamp`, async (t) => {
      const s = await startSource(t);
      const before = Date.now();
      const msg = `hello from logger ${framing} ${rfc}`;
      const args = ['-n', '127.0.0.1', '-P', String(s.source.port), '-T', `--${rfc}`, '-p', 'local3.warning', '-t', 'myapp'];
      if (framing === 'octet-count') args.push('--octet-count');
      await run('logger', [...args, msg], { timeout: 5000 });
      await waitFor('the logger message', () => findParsed(s.batches, msg), 5000);
      const r = findParsed(s.batches, msg)!;
      assert.equal(r.facility, 19); // local3
      assert.equal(r.severity, 4); // warning
      assert.equal(r.host, hostname());
      assert.equal(r.program, 'myapp');
      assert.equal(r.flags & RECORD_FLAG.MALFORMED, 0);
      assert.ok(r.flags & RECORD_FLAG.HAS_TIME);
      // RFC 3164 timestamps have whole seconds.
      assert.ok(r.timeMs >= Math.floor(before / 1000) * 1000 - 1000 && r.timeMs <= Date.now() + 1000, `timestamp ${new Date(r.timeMs).toISOString()}`);
      assert.equal(r.batch.meta.format, 'syslog');
      assert.equal(r.batch.meta.host, '127.0.0.1');
      assert.equal(s.source.connections().length <= 1, true);
      assert.ok(s.ctx.counters.get('logship_syslog_connections_total') >= 1);
      await waitFor('the connection closed', () => s.ctx.counters.get('logship_syslog_disconnections_total') >= 1, 5000);
    });
  }
}

// ---- raw peers: framing ----------------------------------------------------------------------

test('newline framing: many messages in one chunk, and one message across many chunks', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  c.write('<13>one\n<13>two\r\n\n<13>three\n');
  const long = `<14>${'x'.repeat(3000)} end`;
  for (let i = 0; i < long.length; i += 7) {
    c.write(long.slice(i, i + 7));
    if (i % 700 === 0) await sleep(1);
  }
  c.write('\n');
  const got = await waitRecords(s, 4);
  assert.deepEqual(got, ['<13>one', '<13>two', '<13>three', long]);
  assert.deepEqual(s.source.connections().map((x) => x.framing), ['newline']);
  assert.deepEqual(s.source.connections().map((x) => x.reader), [READER]);
  assert.equal(s.batches[0]!.meta.host, '127.0.0.1');
});

test('perf-hot: records kept as views of their chunks and records gathered across chunks come out intact, in order', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  // Each write ends inside a record, so the batch mixes views of chunks with records that spanned
  // two chunks (gathered in the deframer's carry buffer, which the next such record overwrites).
  const want = Array.from({ length: 300 }, (_, i) => `<13>rec ${i} ${'y'.repeat(i % 50)}`);
  const all = want.map((r) => `${r}\n`).join('');
  for (let i = 0; i < all.length; i += 97) {
    c.write(all.slice(i, i + 97));
    if (i % 970 === 0) await sleep(1);
  }
  assert.deepEqual(await waitRecords(s, want.length), want);
});

test('perf-hot: an octet-counted record gathered in the carry buffer is copied before the next one overwrites it', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  // Long frames hold an LF just where the short ones end, so a short frame gathered in the carry
  // buffer is followed there by a stale LF: it must still be copied, not kept as a view.
  const want: string[] = [];
  for (let i = 0; i < 40; i++) {
    const short = `<13>short ${String(i).padStart(3, '0')} ${'s'.repeat(14)}`;
    const long = `<13>long ${String(i).padStart(3, '0')} ${'l'.repeat(15)}${'\n'}${'L'.repeat(40)}`;
    assert.equal(long.indexOf('\n'), short.length);
    for (const m of [long, short]) {
      const f = `${m.length} ${m}`;
      c.write(f.slice(0, 10));
      await sleep(1);
      c.write(f.slice(10));
      await sleep(1);
      want.push(m.replace('\n', ' '));
    }
  }
  assert.deepEqual(await waitRecords(s, want.length), want);
});

test('octet counting: many frames in one chunk, and one frame across many chunks', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  const frame = (m: string): string => `${Buffer.byteLength(m)} ${m}`;
  c.write(frame('<13>one') + frame('<13>two') + frame('<13>three'));
  const long = frame(`<14>${'y'.repeat(5000)} end`);
  for (let i = 0; i < long.length; i += 11) {
    c.write(long.slice(i, i + 11));
    if (i % 1100 === 0) await sleep(1);
  }
  const got = await waitRecords(s, 4);
  assert.deepEqual(got, ['<13>one', '<13>two', '<13>three', `<14>${'y'.repeat(5000)} end`]);
  assert.deepEqual(s.source.connections().map((x) => x.framing), ['octet-counting']);
  assert.deepEqual(s.source.connections().map((x) => x.reader), [READER]);
});

test('an octet-counted connection may switch to LF-terminated messages and back (as rsyslog allows)', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  c.write('7 <13>one<13>two by newline\n9 <13>three<13>four\n8 <13>five');
  assert.deepEqual(await waitRecords(s, 5), ['<13>one', '<13>two by newline', '<13>three', '<13>four', '<13>five']);
  assert.equal(s.ctx.counters.get('logship_syslog_framing_errors_total'), 0);
});

test('a newline connection keeps digit-leading messages as text (no switch to octet counting)', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  c.write('<13>first\n12:00:01 no PRI, starts with digits\n5 looks like a count\n');
  assert.deepEqual(await waitRecords(s, 3), ['<13>first', '12:00:01 no PRI, starts with digits', '5 looks like a count']);
  assert.equal(s.ctx.counters.get('logship_syslog_framing_errors_total'), 0);
  // Neither PRI-less line is syslog (no date in the timestamp): kept whole, counted malformed.
  await waitFor('malformed counted', () => s.ctx.counters.get('logship_syslog_malformed_total') === 2, 2000);
});

test('LF inside an octet-counted frame becomes a space; NUL and invalid UTF-8 are kept as bytes', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  const body = Buffer.concat([Buffer.from('<13>app: line1\nline2 '), Buffer.from([0x00, 0xff, 0xfe, 0x41])]);
  c.write(Buffer.concat([Buffer.from(`${body.length} `), body, Buffer.from('3 end')]));
  await waitRecords(s, 2);
  const b = s.batches[0]!;
  assert.deepEqual(
    b.data.subarray(b.recordStart(0), b.textEnd(0)),
    Buffer.concat([Buffer.from('<13>app: line1 line2 '), Buffer.from([0x00, 0xff, 0xfe, 0x41])]),
  );
  assert.equal(s.records()[1], 'end');
  // Every record is exactly one line of the batch.
  for (const batch of s.batches) assert.equal(batch.data.filter((x) => x === 0x0a).length, batch.count);
});

for (const framing of ['newline', 'octet'] as const) {
  test(`oversize (${framing}): truncate keeps the first max_message_bytes, split keeps every piece; both counted`, async (t) => {
    const long = `<13>${'a'.repeat(60)}${'b'.repeat(40)}`; // 104 bytes
    const wire = (m: string): string => (framing === 'newline' ? `${m}\n` : `${m.length} ${m}`);
    const tr = await startSource(t, { max_message_bytes: 64, oversize: 'truncate' });
    const c1 = await open(t, tr.source.port);
    c1.write(wire(long) + wire('<13>after'));
    assert.deepEqual(await waitRecords(tr, 2), [long.slice(0, 64), '<13>after']);
    assert.equal(tr.ctx.counters.get('logship_syslog_messages_truncated_total'), 1);
    assert.equal(tr.ctx.counters.get('logship_syslog_messages_split_total'), 0);

    const sp = await startSource(t, { max_message_bytes: 64, oversize: 'split' });
    const c2 = await open(t, sp.source.port);
    c2.write(wire(long) + wire('<13>after'));
    assert.deepEqual(await waitRecords(sp, 3), [long.slice(0, 64), long.slice(64), '<13>after']);
    assert.equal(sp.ctx.counters.get('logship_syslog_messages_split_total'), 1);
    assert.equal(sp.ctx.counters.get('logship_syslog_messages_truncated_total'), 0);
  });
}

for (const [name, bad, code] of [
  ['a count not followed by a space', '12x <13>garbage', 'LS_FRAME_INVALID'],
  ['an absurd count', '99999999999 <13>garbage', 'LS_FRAME_OVERSIZE'],
] as const) {
  test(`${name} closes only that connection, logged and counted; another connection keeps delivering`, async (t) => {
    const s = await startSource(t);
    const bad1 = await open(t, s.source.port);
    const good = await open(t, s.source.port);
    const badClosed = closedPromise(bad1);
    good.write('<13>good 1\n');
    bad1.write(`8 <13>ok 1${bad}`);
    await badClosed;
    await waitFor('framing error counted', () => s.ctx.counters.get('logship_syslog_framing_errors_total') === 1, 5000);
    good.write('<13>good 2\n');
    await waitRecords(s, 3);
    assert.deepEqual(s.records().sort(), ['<13>good 1', '<13>good 2', '<13>ok 1']);
    assert.equal(good.destroyed, false);
    const logged = s.ctx.logs.find((l) => (l.obj as { event?: string }).event === 'syslog_framing_error');
    assert.ok(logged);
    assert.equal(logged.level, 'warn');
    assert.equal((logged.obj as { code?: string }).code, code);
    assert.equal(s.source.connections().length, 1);
    assert.deepEqual(closeCauses(s), ['framing']);
  });
}

/** What the JavaScript NewlineDeframer makes of a whole stream, the peer's FIN included (the oracle). */
function deframed(stream: Buffer, max: number, oversize: 'truncate' | 'split'): string[] {
  const d = new NewlineDeframer({ maxMessageBytes: max, oversize });
  d.push(stream);
  const out: string[] = [];
  while (d.next()) out.push(d.buf.toString('latin1', d.start, d.end));
  if (d.finish()) out.push(d.buf.toString('latin1', d.start, d.end));
  return out;
}

/** A stream of awkward LF-framed messages: CR LF, NULs, blank lines, long ones; seeded. */
function awkwardStream(seed: number, n: number, max: number): Buffer {
  let x = seed;
  const rnd = (k: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % k;
  };
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = rnd(10);
    const body = `<13>m${i} ${'abcdefghij'.repeat(1 + rnd(kind === 0 ? (4 * max) / 10 : 8))}`;
    if (kind === 1) parts.push(`${body}\r\n`);
    else if (kind === 2) parts.push(`${body}\0\n`);
    else if (kind === 3) parts.push('\n\r\n');
    else if (kind === 4) parts.push(`${body}\r\r\n\n`);
    else parts.push(`${body}\n`);
  }
  parts.push('<13>the last one, without its LF\r');
  return Buffer.from(parts.join(''), 'latin1');
}

for (const oversize of ['truncate', 'split'] as const) {
  test(`newline records (${oversize}): CR LF, NUL, blank lines and long messages, in chunks of any size, as NewlineDeframer makes them`, async (t) => {
    const max = 200;
    const stream = awkwardStream(oversize === 'split' ? 7 : 11, 3000, max);
    const want = deframed(stream, max, oversize);
    const s = await startSource(t, { max_message_bytes: max, oversize });
    const c = await open(t, s.source.port);
    let x = 1;
    for (let at = 0; at < stream.length; ) {
      x = (x * 48271) % 2147483647;
      const n = 1 + (x % 3000);
      c.write(stream.subarray(at, at + n));
      at += n;
      if (x % 5 === 0) await sleep(1);
    }
    c.end();
    assert.deepEqual(await waitRecords(s, want.length), want);
    const counter = oversize === 'truncate' ? 'logship_syslog_messages_truncated_total' : 'logship_syslog_messages_split_total';
    const long = stream
      .toString('latin1')
      .split('\n')
      .filter((m) => m.length > max).length;
    assert.ok(long > 10, `only ${long} long messages`);
    await waitFor('oversize counted', () => s.ctx.counters.get(counter) === long, 5000);
    for (const b of s.batches) assert.equal(b.data.filter((v) => v === 0x0a).length, b.count);
  });
}

test('a message split into many pieces in one read, and batches cut at their record cap', async (t) => {
  const s = await startSource(t, { max_message_bytes: 16, oversize: 'split' });
  const c = await open(t, s.source.port);
  const long = 'p'.repeat(16 * 500 + 5);
  const tiny = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('\n');
  c.write(`${long}\n${tiny}\n`);
  const want = [...Array.from({ length: 500 }, () => 'p'.repeat(16)), 'ppppp', ...tiny.split('\n')];
  assert.deepEqual(await waitRecords(s, want.length), want);
  assert.ok(s.batches.every((b) => b.count <= 65536));
  assert.equal(s.ctx.counters.get('logship_syslog_messages_split_total'), 1);
});

// ---- limits, idle, backpressure, stop --------------------------------------------------------

test('max_connections: more are refused and counted; the accepted ones go on', async (t) => {
  const s = await startSource(t, { max_connections: 2 });
  const a = await open(t, s.source.port);
  const b = await open(t, s.source.port);
  await waitFor('two connections', () => s.source.connections().length === 2, 5000);
  const c = connect({ host: '127.0.0.1', port: s.source.port });
  c.on('error', () => {});
  t.after(() => c.destroy());
  await closedPromise(c);
  await waitFor('refusal counted', () => s.ctx.counters.get('logship_syslog_connections_refused_total') === 1, 5000);
  a.write('<13>from a\n');
  b.write('<13>from b\n');
  assert.deepEqual((await waitRecords(s, 2)).sort(), ['<13>from a', '<13>from b']);
  // A slot freed by a closed connection is usable again.
  a.destroy();
  await waitFor('a gone', () => s.source.connections().length === 1, 5000);
  const d = await open(t, s.source.port);
  d.write('<13>from d\n');
  await waitRecords(s, 3);
  assert.ok(s.records().includes('<13>from d'));
});

test('idle_timeout_ms closes a silent connection and keeps its unterminated last message', async (t) => {
  const s = await startSource(t, { idle_timeout_ms: 200 });
  const c = await open(t, s.source.port);
  const closed = closedPromise(c);
  const t0 = Date.now();
  c.write('<13>complete\n<13>partial without LF');
  await closed;
  assert.ok(Date.now() - t0 >= 150, 'closed too early');
  assert.deepEqual(await waitRecords(s, 2), ['<13>complete', '<13>partial without LF']);
  assert.equal(s.ctx.counters.get('logship_syslog_idle_closes_total'), 1);
  await waitFor('closed event', () => closeCauses(s).length === 1, 2000);
  assert.deepEqual(closeCauses(s), ['idle']);
});

test('idle_timeout_ms counts bytes, not messages: a message trickling in slower than the timeout keeps its connection', async (t) => {
  const s = await startSource(t, { idle_timeout_ms: 200 });
  const c = await open(t, s.source.port);
  const msg = '<13>one byte at a time';
  for (const ch of msg) {
    c.write(ch);
    await sleep(60);
  }
  c.write('\n');
  assert.deepEqual(await waitRecords(s, 1), [msg]); // more than 200 ms without a whole message
  assert.equal(s.ctx.counters.get('logship_syslog_idle_closes_total'), 0);
  assert.equal(c.destroyed, false);
});

test('backpressure: while the router does not take batches the socket is paused and memory stays bounded', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const s = await startSource(t, {}, () => gate);
  const c = await open(t, s.source.port);
  const line = `<13>app: ${'z'.repeat(200)}`;
  const total = 40_000; // ~8.4 MB
  let sent = 0;
  const writeMore = (): void => {
    while (sent < total) {
      const chunk = Array.from({ length: 100 }, () => `${line} ${sent++}\n`).join('');
      if (!c.write(chunk)) {
        c.once('drain', writeMore);
        return;
      }
    }
  };
  writeMore();
  await waitFor('the connection paused', () => s.source.connections()[0]?.paused === true, 5000);
  await sleep(300);
  const st = s.source.connections()[0]!;
  assert.equal(st.paused, true);
  // Batcher + pushes in flight + deframer + the socket's read buffer: a few hundred KiB, not 8 MB.
  assert.ok(st.bufferedBytes <= CONN_BACKLOG_BYTES + 512 * 1024, `buffered ${st.bufferedBytes}`);
  assert.ok(sent < total || c.writableLength > 0, 'the sender should be blocked');
  assert.equal(s.batches.length, 1, 'only the first batch reached the blocked router');
  release();
  await waitFor('every record', () => s.records().length >= total, 20_000);
  const got = s.records();
  assert.equal(got.length, total);
  for (let i = 0; i < total; i += 997) assert.equal(got[i], `${line} ${i}`);
});

test('stop() closes the listener and pushes what was received, the partial last message included', async (t) => {
  const s = await startSource(t);
  const port = s.source.port;
  const c = await open(t, port);
  const closed = closedPromise(c);
  c.write('<13>one\n<13>two');
  await waitFor('bytes received', () => s.source.connections()[0]?.bufferedBytes === '<13>two'.length || s.records().length > 0, 5000);
  await s.source.stop();
  assert.deepEqual(s.records(), ['<13>one', '<13>two']);
  await closed;
  const refused = connect({ host: '127.0.0.1', port });
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => refused.once('error', resolve));
  assert.equal(err.code, 'ECONNREFUSED');
});

test('reader choice: native required and not built fails the start; auto falls back to node:net and says why', async (t) => {
  const opts = syslogTcpSource.options.parse({ type: 'syslog-tcp', listen: 'tcp:127.0.0.1:0' });
  const notBuilt = (): Error => new Error('native TCP reader not built: test');
  const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'in' }, () => undefined);
  await assert.rejects(syslogTcpServer(opts, { reader: 'native', binding: notBuilt }).start(ctx), /syslog-tcp: native TCP reader not built/);

  const batches: Batch[] = [];
  const ctx2 = testSourceContext({ stateDir: await tmpDir(t), id: 'in' }, (b) => void batches.push(b));
  const auto = syslogTcpServer(opts, { reader: 'auto', binding: notBuilt });
  await auto.start(ctx2);
  t.after(() => auto.stop());
  assert.equal(ctx2.counters.get('logship_syslog_tcp_fallbacks_total'), 1);
  const c = await open(t, auto.port);
  c.write('<13>read by node:net\n');
  await waitFor('the record', () => batches.length === 1, 5000);
  assert.deepEqual(auto.connections().map((x) => x.reader), ['node']);
  // A maximum larger than the reader's buffers hold: node:net reads, and the log says why.
  const big = syslogTcpServer(syslogTcpSource.options.parse({ type: 'syslog-tcp', listen: 'tcp:127.0.0.1:0', max_message_bytes: 1 << 20 }));
  const ctx3 = testSourceContext({ stateDir: await tmpDir(t), id: 'in' }, () => undefined);
  await big.start(ctx3);
  t.after(() => big.stop());
  const logged = ctx3.logs.find((l) => (l.obj as { event?: string }).event === 'syslog_tcp_fallback');
  assert.match(String((logged?.obj as { reason?: string } | undefined)?.reason), /max_message_bytes 1048576/);
});

test('options: strict, validated listen scheme, facility/severity names and defaults', () => {
  const o = syslogTcpSource.options.parse({ type: 'syslog-tcp', listen: 'tcp:0.0.0.0:514' });
  assert.equal(o.max_message_bytes, 65_536);
  assert.equal(o.oversize, 'truncate');
  assert.equal(o.max_connections, 1024);
  assert.equal(o.idle_timeout_ms, 300_000);
  assert.equal(o.facility, 'user');
  assert.equal(o.severity, 'notice');
  assert.equal(o.program, '');
  for (const bad of [
    { listen: 'udp:0.0.0.0:514' },
    { listen: 'tcp:0.0.0.0' },
    { listen: 'tcp:0.0.0.0:514', facility: 'nope' },
    { listen: 'tcp:0.0.0.0:514', severity: 9 },
    { listen: 'tcp:0.0.0.0:514', oversize: 'drop' },
    { listen: 'tcp:0.0.0.0:514', unknown_key: 1 },
  ]) {
    assert.equal(syslogTcpSource.options.safeParse({ type: 'syslog-tcp', ...bad }).success, false, JSON.stringify(bad));
  }
});

test('messages without PRI or tag get the configured facility, severity and program; without host the peer address', async (t) => {
  const s = await startSource(t, { facility: 'local5', severity: 'err', program: 'legacy' });
  const c = await open(t, s.source.port);
  c.write('plain text, not syslog\n');
  await waitRecords(s, 1);
  const f = recordFields(s.batches[0]!);
  assert.equal(f.facility(0), 21);
  assert.equal(f.severity(0), 3);
  assert.equal(f.host[0], '127.0.0.1');
  assert.equal(f.program[0], 'legacy');
  assert.equal(s.batches[0]!.data.toString('latin1', f.msgStart[0]!, f.msgEnd[0]!), 'plain text, not syslog');
});

test('a peer that resets its connection is counted; what it sent before is kept', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  c.write('<13>before reset\n<13>partial');
  await waitFor('received', () => s.records().length === 1, 5000);
  c.resetAndDestroy();
  await waitFor('connection error counted', () => s.ctx.counters.get('logship_syslog_connection_errors_total') === 1, 5000);
  await waitFor('closed', () => s.ctx.counters.get('logship_syslog_disconnections_total') === 1, 5000);
  assert.deepEqual(await waitRecords(s, 2), ['<13>before reset', '<13>partial']);
  const closedLog = s.ctx.logs.find((l) => (l.obj as { event?: string }).event === 'syslog_connection_closed');
  assert.equal((closedLog?.obj as { err?: NodeJS.ErrnoException }).err?.code, 'ECONNRESET');
  assert.deepEqual(closeCauses(s), ['error']);
});

test('a reset right after the data: every line the kernel received before it is kept', async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  const want = Array.from({ length: 2000 }, (_, i) => `<13>line ${i}`);
  c.write(want.map((l) => `${l}\n`).join(''), () => c.resetAndDestroy());
  await waitFor('closed', () => s.ctx.counters.get('logship_syslog_disconnections_total') === 1, 5000);
  assert.deepEqual(await waitRecords(s, want.length), want);
});

// node:net drops what its stream buffered while paused when the socket is destroyed by the error;
// the native reader leaves unread bytes in the kernel, which hands them over before the reset.
if (READER === 'native') {
  test('a reset while paused (backpressure): what was sent before it is kept', async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let n = 0;
    const s = await startSource(t, {}, () => (n++ === 0 ? gate : undefined));
    const c = await open(t, s.source.port);
    const want = Array.from({ length: 4000 }, (_, i) => `<13>${'x'.repeat(100)} ${i}`);
    c.write(want.map((l) => `${l}\n`).join(''), () => setTimeout(() => c.resetAndDestroy(), 100));
    await waitFor('the connection paused', () => s.source.connections()[0]?.paused === true, 5000);
    await sleep(300);
    release();
    await waitFor('closed', () => s.ctx.counters.get('logship_syslog_disconnections_total') === 1, 5000);
    assert.deepEqual(await waitRecords(s, want.length), want);
  });
}

test("a slow sender's small batches hold buffers of their own size, not a batch buffer each", async (t) => {
  const s = await startSource(t);
  const c = await open(t, s.source.port);
  for (let i = 0; i < 5; i++) {
    c.write(`<13>slow ${i}\n`);
    await waitFor(`record ${i}`, () => s.records().length === i + 1, 5000);
  }
  assert.equal(s.batches.length, 5);
  for (const b of s.batches) assert.ok(b.data.buffer.byteLength <= 16 * 1024, `a batch of ${b.data.length} bytes holds ${b.data.buffer.byteLength}`);
});
