// unix-stream source against Node clients (both framings, NUL terminators, bad framing, limits),
// util-linux `logger -T` and libc syslog() over a stream socket, on sockets in temp dirs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../src/core/records.js';
import { LOCAL_BACKLOG_BYTES } from '../../../src/sources/unix-dgram/flow.js';
import { unixStreamSource, type UnixStreamSource } from '../../../src/sources/unix-stream/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

interface Rec {
  text: string;
  facility: number;
  severity: number;
  host: string;
  program: string;
  pid: string;
  msg: string;
  flags: number;
}

function records(batches: Batch[]): Rec[] {
  const out: Rec[] = [];
  for (const b of batches) {
    const f = recordFields(b);
    for (let i = 0; i < b.count; i++) {
      out.push({
        text: b.data.toString('latin1', b.recordStart(i), b.textEnd(i)),
        facility: f.facility(i),
        severity: f.severity(i),
        host: f.host[i]!,
        program: f.program[i]!,
        pid: f.pidStart[i]! < 0 ? '' : b.data.toString('utf8', f.pidStart[i]!, f.pidEnd[i]!),
        msg: b.data.toString('latin1', f.msgStart[i]!, f.msgEnd[i]!),
        flags: f.flags[i]!,
      });
    }
  }
  return out;
}

type Ctx = ReturnType<typeof testSourceContext>;

async function startSource(
  t: TestContext,
  extra: Record<string, unknown> = {},
  onBatch?: (b: Batch) => void | Promise<void>,
): Promise<{ src: UnixStreamSource; path: string; batches: Batch[]; ctx: Ctx }> {
  const dir = await tmpDir(t);
  const path = join(dir, 'log.sock');
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: dir, id: 'stream', nodeName: 'node-s' }, onBatch ?? ((b) => void batches.push(b)));
  const src = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${path}`, ...extra }));
  await src.start(ctx);
  t.after(() => src.stop());
  return { src, path, batches, ctx };
}

async function client(t: TestContext, path: string): Promise<Socket> {
  const s = connect(path);
  s.on('error', () => undefined);
  t.after(() => s.destroy());
  await once(s, 'connect');
  return s;
}

const texts = (batches: Batch[]) => records(batches).map((r) => r.text);

test('newline framing: several messages per write, one split across writes, CRLF, blank lines', async (t) => {
  const { src, path, batches } = await startSource(t);
  const c = await client(t, path);
  c.write('<13>Nov 23 10:00:00 box app[1]: one\n<14>Nov 23 10:00:01 box app[1]: two\r\n\n');
  await sleep(20);
  c.write('<15>Nov 23 10:00:02 box app[1]: thr');
  await sleep(20);
  c.write('ee\n');
  await waitFor('3 records', () => records(batches).length === 3);
  const rs = records(batches);
  assert.deepEqual(
    rs.map((r) => [r.msg, r.severity, r.host, r.program, r.pid]),
    [
      ['one', 5, 'box', 'app', '1'],
      ['two', 6, 'box', 'app', '1'],
      ['three', 7, 'box', 'app', '1'],
    ],
  );
  assert.equal(src.connections()[0]!.framing, 'non-transparent');
});

test('NUL-terminated messages (glibc syslog() on a stream socket), and an unterminated last one at close', async (t) => {
  const { path, batches } = await startSource(t);
  const c = await client(t, path);
  c.write('<11>Nov 23 10:00:00 pyapp[42]: first\0<14>Nov 23 10:00:00 pyapp[42]: second\0<14>Nov 23 10:00:00 pyapp[42]: last');
  c.end();
  await waitFor('3 records', () => records(batches).length === 3);
  assert.deepEqual(
    records(batches).map((r) => [r.msg, r.severity, r.program, r.host]),
    [
      ['first', 3, 'pyapp', 'node-s'],
      ['second', 6, 'pyapp', 'node-s'],
      ['last', 6, 'pyapp', 'node-s'],
    ],
  );
});

test('octet counting: frames across writes; LF inside a frame becomes a space, NUL inside is kept', async (t) => {
  const { src, path, batches } = await startSource(t);
  const c = await client(t, path);
  const frame = (m: Buffer | string) => {
    const b = Buffer.isBuffer(m) ? m : Buffer.from(m);
    return Buffer.concat([Buffer.from(`${b.length} `), b]);
  };
  const withNul = Buffer.concat([Buffer.from('<13>1 2026-11-23T10:00:00Z h app - - - a'), Buffer.from([0]), Buffer.from('b')]);
  const all = Buffer.concat([frame('<13>1 2026-11-23T10:00:00.5Z h app 9 ID - multi\nline'), frame(withNul), frame('<165>1 2026-11-23T10:00:01Z h2 prog - - - end')]);
  c.write(all.subarray(0, 17));
  await sleep(20);
  c.write(all.subarray(17));
  await waitFor('3 records', () => records(batches).length === 3);
  const rs = records(batches);
  assert.equal(rs[0]!.msg, 'multi line');
  assert.equal(rs[0]!.pid, '9');
  assert.ok((rs[0]!.flags & RECORD_FLAG.RFC5424) !== 0);
  assert.equal(rs[1]!.msg, 'a\0b');
  assert.deepEqual([rs[2]!.facility, rs[2]!.severity, rs[2]!.host, rs[2]!.program, rs[2]!.msg], [20, 5, 'h2', 'prog', 'end']);
  assert.equal(src.connections()[0]!.framing, 'octet-counting');
});

test('logger -T (newline), logger -T --octet-count, and logger without -T (falls back to stream)', async (t) => {
  const { path, batches } = await startSource(t);
  await run('logger', ['-u', path, '-T', '--rfc3164', '-p', 'local5.err', '-t', 'app', 'plain stream']);
  await run('logger', ['-u', path, '-T', '--octet-count', '--rfc5424', '-p', 'daemon.info', '-t', 'oc', 'octet counted']);
  await run('logger', ['-u', path, '--socket-errors=on', '-t', 'fallback', 'no -T']);
  await waitFor('3 records', () => records(batches).length === 3);
  const rs = records(batches);
  assert.deepEqual([rs[0]!.facility, rs[0]!.severity, rs[0]!.program, rs[0]!.msg], [21, 3, 'app', 'plain stream']);
  assert.deepEqual([rs[1]!.facility, rs[1]!.severity, rs[1]!.program, rs[1]!.msg], [3, 6, 'oc', 'octet counted']);
  assert.ok((rs[1]!.flags & RECORD_FLAG.RFC5424) !== 0);
  assert.deepEqual([rs[2]!.program, rs[2]!.msg, rs[2]!.host], ['fallback', 'no -T', 'node-s']);
});

test('libc syslog() over a stream /dev/log (NUL-terminated)', async (t) => {
  const { path, batches } = await startSource(t);
  const script = ['import syslog', 'syslog.openlog("pyapp", syslog.LOG_PID)', 'syslog.syslog(syslog.LOG_ERR, "one")', 'syslog.syslog(syslog.LOG_INFO, "two")'].join('\n');
  await run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /dev && ln -s "$0" /dev/log && exec python3 -c '${script}'`, path]);
  await waitFor('2 records', () => records(batches).length === 2);
  assert.deepEqual(
    records(batches).map((r) => [r.program, r.severity, r.msg]),
    [
      ['pyapp', 3, 'one'],
      ['pyapp', 6, 'two'],
    ],
  );
});

test('a broken octet count closes that connection only, counted; other connections go on', async (t) => {
  const { path, batches, ctx } = await startSource(t);
  const good = await client(t, path);
  const bad = await client(t, path);
  bad.write('12x <13>garbage');
  await once(bad, 'close');
  assert.equal(ctx.counters.get('logship_local_peer_errors_total'), 1);
  good.write('<13>still fine\n');
  await waitFor('record from the good connection', () => texts(batches).includes('<13>still fine'));
});

test('oversize: truncate (default) counts and keeps the first bytes; split makes pieces', async (t) => {
  const { path, batches, ctx, src } = await startSource(t, { max_message_bytes: 32 });
  const c = await client(t, path);
  const long = `<13>${'y'.repeat(100)}`;
  c.write(`${long}\n<13>short\n`);
  await waitFor('2 records', () => records(batches).length === 2);
  assert.deepEqual(texts(batches), [long.slice(0, 32), '<13>short']);
  assert.equal(ctx.counters.get('logship_local_messages_truncated_total'), 1);
  assert.equal(src.stats().truncated, 1);

  const s2 = await startSource(t, { max_message_bytes: 32, oversize: 'split' });
  const c2 = await client(t, s2.path);
  c2.write(`${long}\n`);
  await waitFor('4 pieces', () => records(s2.batches).length === 4);
  assert.equal(texts(s2.batches).join(''), long);
  assert.equal(s2.ctx.counters.get('logship_local_messages_truncated_total'), 1);
});

test('max_connections: a connection over the limit is closed and counted', async (t) => {
  const { path, ctx, src } = await startSource(t, { max_connections: 2 });
  await client(t, path);
  await client(t, path);
  await waitFor('2 connections', () => src.stats().connections === 2);
  const third = await client(t, path);
  await once(third, 'close');
  assert.equal(ctx.counters.get('logship_local_connections_refused_total'), 1);
  assert.equal(src.stats().connections, 2);
});

test('idle_timeout_ms closes a quiet connection', async (t) => {
  const { path, src, ctx } = await startSource(t, { idle_timeout_ms: 100 });
  const c = await client(t, path);
  const start = Date.now();
  await waitFor('idle close', async () => {
    await sleep(10);
    return c.destroyed || c.readableEnded;
  });
  assert.ok(Date.now() - start >= 90);
  await waitFor('connection forgotten', () => src.stats().connections === 0);
  assert.equal(ctx.counters.get('logship_local_disconnections_total'), 1);
});

test('backpressure: with the router stalled, connections pause and memory stays bounded; nothing is lost', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batches: Batch[] = [];
  const { src, path } = await startSource(t, {}, async (b) => {
    batches.push(b);
    await gate;
  });
  t.after(() => release());
  const c = await client(t, path);
  const line = `<13>${'z'.repeat(1019)}\n`; // 1 KiB per message
  const total = Math.ceil((LOCAL_BACKLOG_BYTES * 3) / line.length);
  let written = 0;
  const writeAll = async () => {
    while (written < total) {
      written++;
      if (!c.write(line)) await once(c, 'drain');
    }
  };
  const writing = writeAll();
  await waitFor('source paused', () => src.stats().paused);
  await sleep(100);
  assert.ok(written < total, 'the writer is held back');
  // One socket read (at most 64 KiB) may land after the bound was reached.
  assert.ok(src.stats().backlogBytes <= LOCAL_BACKLOG_BYTES + 65_536, `backlog ${src.stats().backlogBytes}`);
  const backlog = records(batches).length; // only the first batch reached the stalled router
  assert.ok(backlog > 0);
  release();
  await writing;
  await waitFor('every message', () => records(batches).length === total, 20_000);
  assert.ok(records(batches).every((r) => r.text.length === line.length - 1));
});

test('socket permissions; stale socket replaced; regular file and live socket refused; removed on stop; unknown owner refused', async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, 'log.sock');
  // A stale stream socket: a server that closed without unlink is simulated by a listening
  // server in a child process that is killed (its socket file stays).
  await run(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]).catch(() => undefined);
  assert.ok((await lstat(path)).isSocket(), 'stale socket left by a killed process');
  const ctx = testSourceContext({ stateDir: dir }, () => undefined);
  const s1 = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${path}`, mode: '0660', group: 'nogroup' }));
  await s1.start(ctx);
  const st = await stat(path);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, 65534);

  const s2 = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${path}` }));
  await assert.rejects(s2.start(testSourceContext({ stateDir: dir }, () => undefined)), { code: 'LS_STARTUP' });
  await s1.stop();
  await assert.rejects(lstat(path), { code: 'ENOENT' }, 'removed on stop');

  // A socket someone else listens on (not ours) is refused too.
  const other = createServer();
  await new Promise<void>((r) => other.listen(path, r));
  t.after(() => other.close());
  const s3 = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${path}` }));
  await assert.rejects(s3.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /another process/);
    return true;
  });

  const file = join(dir, 'file');
  await writeFile(file, 'keep me');
  const s4 = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${file}` }));
  await assert.rejects(s4.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /regular file/);
    return true;
  });
  assert.equal(await readFile(file, 'utf8'), 'keep me');

  // Permissions that cannot be applied: the socket just bound is closed and removed.
  const unknown = join(dir, 'owner.sock');
  const s5 = unixStreamSource.create(unixStreamSource.options.parse({ type: 'unix-stream', listen: `unix+stream:${unknown}`, owner: 'no-such-user-logship' }));
  await assert.rejects(s5.start(testSourceContext({ stateDir: dir }, () => undefined)), { code: 'LS_STARTUP', message: /owner/ });
  await assert.rejects(lstat(unknown), { code: 'ENOENT' }, 'no socket left behind');
  await s5.stop();
});

test('options: listen must be unix+stream; defaults', () => {
  const parse = (o: Record<string, unknown>) => unixStreamSource.options.safeParse({ type: 'unix-stream', listen: 'unix+stream:/tmp/s.sock', ...o });
  assert.equal(parse({}).success, true);
  assert.equal(parse({ listen: 'unix+dgram:/tmp/s.sock' }).success, false);
  assert.equal(parse({ oversize: 'drop' }).success, false);
  assert.equal(parse({ mode: 660 }).success, false);
  const d = unixStreamSource.options.parse({ type: 'unix-stream', listen: 'unix+stream:/tmp/s.sock' });
  assert.deepEqual([d.mode, d.max_message_bytes, d.oversize, d.max_connections, d.idle_timeout_ms], ['0666', 65_536, 'truncate', 1024, 300_000]);
});
