// unix-dgram source against util-linux `logger`, libc syslog() and raw datagram clients, on
// sockets in temp dirs. Checks parsed fields, not only counts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../src/core/records.js';
import { unixDgramSource, type UnixDgramSource } from '../../../src/sources/unix-dgram/index.js';
import { LOCAL_BACKLOG_BYTES } from '../../../src/sources/unix-dgram/flow.js';
import { UnixDgramSocket } from '../../../src/sources/unix-dgram/native.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

interface Rec {
  text: Buffer;
  facility: number;
  severity: number;
  host: string;
  program: string;
  pid: string;
  msgid: string;
  sd: string;
  msg: Buffer;
  timeMs: number;
  flags: number;
  batch: Batch;
}

/** Every record of the batches, with its parsed syslog fields. */
function records(batches: Batch[]): Rec[] {
  const out: Rec[] = [];
  for (const b of batches) {
    const f = recordFields(b);
    for (let i = 0; i < b.count; i++) {
      const slice = (s: number, e: number) => (s < 0 ? '' : b.data.toString('utf8', s, e));
      out.push({
        text: b.data.subarray(b.recordStart(i), b.textEnd(i)),
        facility: f.facility(i),
        severity: f.severity(i),
        host: f.host[i]!,
        program: f.program[i]!,
        pid: slice(f.pidStart[i]!, f.pidEnd[i]!),
        msgid: slice(f.msgidStart[i]!, f.msgidEnd[i]!),
        sd: slice(f.sdStart[i]!, f.sdEnd[i]!),
        msg: b.data.subarray(f.msgStart[i]!, f.msgEnd[i]!),
        timeMs: f.timeMs[i]!,
        flags: f.flags[i]!,
        batch: b,
      });
    }
  }
  return out;
}

async function startSource(
  t: TestContext,
  extra: Record<string, unknown> = {},
  onBatch?: (b: Batch) => void | Promise<void>,
): Promise<{ src: UnixDgramSource; path: string; batches: Batch[]; ctx: ReturnType<typeof testSourceContext>; dir: string }> {
  const dir = await tmpDir(t);
  const path = join(dir, 'log.sock');
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: dir, id: 'devlog', nodeName: 'node-a' }, onBatch ?? ((b) => void batches.push(b)));
  const src = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${path}`, ...extra }));
  await src.start(ctx);
  t.after(() => src.stop());
  return { src, path, batches, ctx, dir };
}

const counter = (ctx: ReturnType<typeof testSourceContext>, name: string) => ctx.counters.get(name);

test('logger --rfc3164 -p local5.err -t app: PRI, tag, host and time parsed; batch meta is local', async (t) => {
  const { path, batches } = await startSource(t);
  const before = Date.now();
  await run('logger', ['-u', path, '--rfc3164', '-p', 'local5.err', '-t', 'app', 'hello 3164']);
  const [r] = await waitFor('one record', () => (records(batches).length === 1 ? records(batches) : undefined));
  assert.equal(r!.facility, 21);
  assert.equal(r!.severity, 3);
  assert.equal(r!.program, 'app');
  assert.equal(r!.host, hostname(), 'logger --rfc3164 sends its hostname');
  assert.equal(r!.msg.toString(), 'hello 3164');
  assert.equal(r!.flags & RECORD_FLAG.MALFORMED, 0);
  // RFC 3164 timestamps have whole seconds.
  assert.ok(r!.timeMs >= Math.floor(before / 1000) * 1000 - 1000 && r!.timeMs <= Date.now() + 1000, `time ${r!.timeMs} near now`);
  assert.equal(r!.batch.meta.format, 'syslog');
  assert.equal(r!.batch.meta.host, 'node-a');
  assert.equal(r!.batch.meta.program, 'devlog');
  assert.equal(r!.batch.pos.origin, 'node-a');
});

test('logger --rfc5424 with msgid, pid and structured data', async (t) => {
  const { path, batches } = await startSource(t);
  const before = Date.now();
  await run('logger', ['-u', path, '--rfc5424', '-p', 'local5.err', '-t', 'app', '-i', '--msgid', 'ID47', '--sd-id', 'x@1', '--sd-param', 'k="v"', 'hello 5424']);
  const [r] = await waitFor('one record', () => (records(batches).length === 1 ? records(batches) : undefined));
  assert.ok((r!.flags & RECORD_FLAG.RFC5424) !== 0);
  assert.equal(r!.facility, 21);
  assert.equal(r!.severity, 3);
  assert.equal(r!.program, 'app');
  assert.equal(r!.host, hostname());
  assert.equal(r!.msgid, 'ID47');
  assert.match(r!.pid, /^[0-9]+$/);
  assert.match(r!.sd, /\[x@1 k="v"\]/);
  assert.equal(r!.msg.toString(), 'hello 5424');
  // 5424 timestamps carry microseconds.
  assert.ok(Math.abs(r!.timeMs - before) < 5000, `time ${r!.timeMs} near ${before}`);
});

test("logger's local format (no hostname) takes the node name; several messages keep their order", async (t) => {
  const { path, batches } = await startSource(t);
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  const dir = await tmpDir(t);
  await writeFile(join(dir, 'in.txt'), `${lines.join('\n')}\n`);
  // -f: one datagram per line; --socket-errors=on reports a missing socket instead of ignoring it.
  await run('logger', ['-u', path, '--socket-errors=on', '-p', 'user.info', '-t', 'batchy', '-f', join(dir, 'in.txt')]);
  const rs = await waitFor('50 records', () => (records(batches).length === 50 ? records(batches) : undefined));
  assert.deepEqual(
    rs.map((r) => r.msg.toString()),
    lines,
  );
  for (const r of rs) {
    assert.equal(r.host, 'node-a', 'no hostname in the message: the local node');
    assert.equal(r.program, 'batchy');
    assert.equal(r.facility, 1);
    assert.equal(r.severity, 6);
  }
});

test('raw datagrams: invalid UTF-8 and inner NUL kept, trailing NUL/LF trimmed, inner LF made a space, empty skipped', async (t) => {
  const { path, batches } = await startSource(t);
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  const bad = Buffer.concat([Buffer.from('<14>Nov 23 10:00:00 box app[7]: bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' nul'), Buffer.from([0]), Buffer.from('after')]);
  client.sendTo(Buffer.concat([bad, Buffer.from([0])]), path);
  client.sendTo(Buffer.from('<14>Nov 23 10:00:01 box app: first\nsecond\r\n'), path);
  client.sendTo(Buffer.alloc(0), path);
  client.sendTo(Buffer.from('\0\n'), path);
  client.sendTo(Buffer.from('no header at all'), path);
  const rs = await waitFor('3 records', () => (records(batches).length >= 3 ? records(batches) : undefined));
  await sleep(50);
  assert.equal(records(batches).length, 3, 'empty datagrams make no record');
  assert.deepEqual(rs[0]!.text, bad);
  assert.equal(rs[0]!.host, 'box');
  assert.equal(rs[0]!.program, 'app');
  assert.equal(rs[0]!.pid, '7');
  assert.deepEqual(rs[0]!.msg, bad.subarray(bad.indexOf('bad ')));
  assert.equal(rs[1]!.text.toString(), '<14>Nov 23 10:00:01 box app: first second');
  assert.equal(rs[2]!.text.toString(), 'no header at all');
  assert.ok((rs[2]!.flags & RECORD_FLAG.MALFORMED) !== 0, 'kept, flagged malformed');
  assert.equal(rs[2]!.host, 'node-a');
  assert.equal(rs[2]!.facility, 1, 'default facility user');
  assert.equal(rs[2]!.severity, 5, 'default severity notice');
  // Every record is one line of the batch.
  for (const b of batches) assert.equal(b.data.filter((c) => c === 0x0a).length, b.count);
});

test('facility, severity and program options are the defaults of messages without PRI or tag', async (t) => {
  const { path, batches } = await startSource(t, { facility: 'local3', severity: 'warning', program: 'kernelish' });
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  client.sendTo(Buffer.from('just text'), path);
  const [r] = await waitFor('record', () => (records(batches).length === 1 ? records(batches) : undefined));
  assert.equal(r!.facility, 19);
  assert.equal(r!.severity, 4);
  assert.equal(r!.program, 'kernelish');
  assert.equal(r!.batch.meta.program, 'kernelish');
});

test('oversize datagrams are truncated to max_message_bytes and counted', async (t) => {
  const { src, path, batches, ctx } = await startSource(t, { max_message_bytes: 64 });
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  const long = Buffer.from(`<13>Nov 23 10:00:00 box app: ${'x'.repeat(200)}`);
  client.sendTo(long, path);
  // Exactly 64 bytes plus a terminator is not oversize.
  const exact = Buffer.concat([long.subarray(0, 64), Buffer.from([0])]);
  client.sendTo(exact, path);
  const rs = await waitFor('2 records', () => (records(batches).length === 2 ? records(batches) : undefined));
  assert.deepEqual(rs[0]!.text, long.subarray(0, 64));
  assert.deepEqual(rs[1]!.text, long.subarray(0, 64));
  assert.equal(counter(ctx, 'logship_local_messages_truncated_total'), 1);
  assert.equal(src.stats().truncated, 1);
});

test('a datagram longer than the 64 KiB receive buffer counts as truncated with the default limit', async (t) => {
  const { path, batches, ctx } = await startSource(t);
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  client.sendTo(Buffer.alloc(70_000, 0x61), path);
  const [r] = await waitFor('record', () => (records(batches).length === 1 ? records(batches) : undefined));
  assert.equal(r!.text.length, 65_536);
  assert.equal(counter(ctx, 'logship_local_messages_truncated_total'), 1);
});

test('socket mode, owner and group are applied; the socket is removed on stop', async (t) => {
  const { src, path } = await startSource(t);
  assert.equal((await stat(path)).mode & 0o777, 0o666, 'default mode 0666');
  await src.stop();
  await assert.rejects(lstat(path), { code: 'ENOENT' });

  const dir = await tmpDir(t);
  const p2 = join(dir, 'restricted.sock');
  const ctx = testSourceContext({ stateDir: dir }, () => undefined);
  const s2 = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${p2}`, mode: '0620', owner: 'nobody', group: 65534 }));
  await s2.start(ctx);
  t.after(() => s2.stop());
  const st = await stat(p2);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o620);
  assert.equal(st.uid, 65534, 'owner nobody');
  assert.equal(st.gid, 65534);
});

test('an unknown owner is refused with LS_STARTUP and leaves no socket behind', async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, 'x.sock');
  const s = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${path}`, owner: 'no-such-user-logship' }));
  await assert.rejects(s.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /owner/);
    return true;
  });
  await assert.rejects(lstat(path), { code: 'ENOENT' });
});

test('a stale socket is replaced at start; a live one and a regular file are refused', async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, 'log.sock');
  // Stale: bound, then closed without unlink (its owner died).
  const old = new UnixDgramSocket();
  old.bind(path);
  old.close();
  assert.ok((await lstat(path)).isSocket());
  const batches: Batch[] = [];
  const s1 = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${path}` }));
  await s1.start(testSourceContext({ stateDir: dir }, (b) => void batches.push(b)));
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  client.sendTo(Buffer.from('<13>after stale'), path);
  await waitFor('record after stale socket replaced', () => batches.length === 1);

  // Live: s1 is receiving on it.
  const s2 = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${path}` }));
  await assert.rejects(s2.start(testSourceContext({ stateDir: dir }, () => undefined)), { code: 'LS_STARTUP' });
  assert.ok((await lstat(path)).isSocket(), 'the live socket is left alone');
  client.sendTo(Buffer.from('<13>still s1'), path);
  await waitFor('s1 still receives', () => batches.length === 2);
  await s1.stop();

  // A regular file is never deleted.
  const file = join(dir, 'not-a-socket');
  await writeFile(file, 'precious');
  const s3 = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${file}` }));
  await assert.rejects(s3.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /listen/);
    assert.match(err.message, /regular file/);
    return true;
  });
  assert.equal(await readFile(file, 'utf8'), 'precious');
});

test('a missing directory is a clear LS_STARTUP error', async (t) => {
  const dir = await tmpDir(t);
  const s = unixDgramSource.create(unixDgramSource.options.parse({ type: 'unix-dgram', listen: `unix+dgram:${join(dir, 'nope', 'log.sock')}` }));
  await assert.rejects(s.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /directory does not exist/);
    return true;
  });
});

test('options: mode must be a quoted octal string; listen must be unix+dgram with a short path', () => {
  const parse = (o: Record<string, unknown>) => unixDgramSource.options.safeParse({ type: 'unix-dgram', listen: 'unix+dgram:/tmp/x.sock', ...o });
  assert.equal(parse({}).success, true);
  assert.equal(parse({ mode: '0640' }).success, true);
  assert.equal(parse({ mode: '640' }).success, true);
  const num = parse({ mode: 666 });
  assert.equal(num.success, false);
  assert.match(JSON.stringify(num.error?.issues), /quoted octal string/);
  assert.equal(parse({ mode: '0999' }).success, false);
  assert.equal(parse({ listen: 'unix+stream:/tmp/x.sock' }).success, false);
  assert.equal(parse({ listen: 'udp:127.0.0.1:514' }).success, false);
  assert.equal(parse({ listen: `unix+dgram:/tmp/${'a'.repeat(120)}` }).success, false);
  assert.equal(parse({ max_message_bytes: 70_000 }).success, false);
  assert.equal(parse({ facility: 'bogus' }).success, false);
  assert.equal(parse({ extra: 1 }).success, false);
  const d = unixDgramSource.options.parse({ type: 'unix-dgram', listen: 'unix+dgram:/tmp/x.sock' });
  assert.equal(d.mode, '0666');
  assert.equal(d.max_message_bytes, 65_536);
});

test('with the router stalled, datagrams beyond the backlog bound are dropped and counted; memory stays bounded', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batches: Batch[] = [];
  const { src, path, ctx } = await startSource(t, {}, async (b) => {
    batches.push(b);
    await gate;
  });
  t.after(() => release());
  const client = new UnixDgramSocket();
  t.after(() => client.close());
  const msg = Buffer.alloc(8192, 0x62);
  const total = Math.ceil((LOCAL_BACKLOG_BYTES * 1.5) / msg.length);
  let sent = 0;
  while (sent < total) {
    try {
      client.sendTo(msg, path);
      sent++;
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'EAGAIN');
      await sleep(1); // the receiver's queue is full: let it read
    }
  }
  await waitFor('drops counted', () => src.stats().dropped > 0);
  await sleep(50);
  const { dropped, backlogBytes } = src.stats();
  assert.ok(dropped >= total - LOCAL_BACKLOG_BYTES / msg.length - 2, `dropped ${dropped} of ${total}`);
  assert.equal(counter(ctx, 'logship_local_messages_dropped_total'), dropped);
  assert.ok(backlogBytes <= LOCAL_BACKLOG_BYTES + msg.length + 1, `held ${backlogBytes} bytes`);
  assert.equal(batches.length, 1, 'the stalled router took one batch');
  release();
  // The router takes the backlog: every datagram not dropped arrives, and new ones flow again.
  client.sendTo(Buffer.from('<13>after the stall'), path);
  const rs = await waitFor('everything kept, then the new message', () => {
    const all = records(batches);
    return all.length === total - dropped + 1 ? all : undefined;
  });
  assert.equal(rs.at(-1)!.text.toString(), '<13>after the stall');
  assert.equal(src.stats().backlogBytes, 0);
});

test("libc syslog() (python's syslog module) reaches the socket as /dev/log", async (t) => {
  const { path, batches } = await startSource(t);
  // A private mount namespace with a tmpfs on /dev whose log is our socket: the host's /dev is untouched.
  const script = [
    'import syslog',
    'syslog.openlog("pyapp", syslog.LOG_PID, syslog.LOG_LOCAL2)',
    'syslog.syslog(syslog.LOG_WARNING, "from libc")',
    'syslog.syslog(syslog.LOG_INFO, "bytes \\u00e9 ok")',
  ].join('\n');
  await run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /dev && ln -s "$0" /dev/log && exec python3 -c '${script}'`, path]);
  const rs = await waitFor('2 records', () => (records(batches).length === 2 ? records(batches) : undefined));
  assert.equal(rs[0]!.program, 'pyapp');
  assert.match(rs[0]!.pid, /^[0-9]+$/);
  assert.equal(rs[0]!.facility, 18);
  assert.equal(rs[0]!.severity, 4);
  assert.equal(rs[0]!.msg.toString(), 'from libc');
  assert.equal(rs[0]!.host, 'node-a', 'libc sends no hostname');
  assert.equal(rs[1]!.msg.toString(), 'bytes é ok');
  assert.equal(rs[1]!.severity, 6);
});
