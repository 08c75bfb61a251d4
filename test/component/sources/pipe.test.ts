// pipe source against real writers: shell processes that open, write and close the FIFO in turn,
// Node writers, partial and long lines, raw vs syslog format, restarts, backpressure.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { lstat, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../src/core/records.js';
import { LOCAL_BACKLOG_BYTES } from '../../../src/sources/unix-dgram/flow.js';
import { pipeSource, type PipeSource } from '../../../src/sources/pipe/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

type Ctx = ReturnType<typeof testSourceContext>;

function texts(batches: Batch[]): string[] {
  const out: string[] = [];
  for (const b of batches) for (let i = 0; i < b.count; i++) out.push(b.data.toString('latin1', b.recordStart(i), b.textEnd(i)));
  return out;
}

async function startPipe(
  t: TestContext,
  extra: Record<string, unknown> = {},
  opts: { dir?: string; onBatch?: (b: Batch) => void | Promise<void>; name?: string } = {},
): Promise<{ src: PipeSource; path: string; batches: Batch[]; ctx: Ctx; dir: string }> {
  const dir = opts.dir ?? (await tmpDir(t));
  const path = join(dir, opts.name ?? 'app.fifo');
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: dir, id: 'fifo', nodeName: 'node-p' }, opts.onBatch ?? ((b) => void batches.push(b)));
  const src = pipeSource.create(pipeSource.options.parse({ type: 'pipe', path, ...extra }));
  await src.start(ctx);
  t.after(() => src.stop());
  return { src, path, batches, ctx, dir };
}

test('writers that open, write and close in turn (shell and Node); the FIFO is created with mode 0620 and removed on stop', async (t) => {
  const { src, path, batches } = await startPipe(t);
  const st = await lstat(path);
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o777, 0o620);
  assert.equal(src.createdFifo, true);
  for (let i = 0; i < 5; i++) await run('sh', ['-c', `echo "<13>Nov 23 10:00:0${i} box sh: shell ${i}" > "$0"`, path]);
  await writeFile(path, '<14>Nov 23 10:00:09 box node: node writer 1\n<14>Nov 23 10:00:09 box node: node writer 2\n');
  const h = await open(path, 'w');
  await h.write('<14>Nov 23 10:00:10 box node: handle write\n');
  await h.close();
  await run('sh', ['-c', `echo "<13>Nov 23 10:00:11 box sh: after node" > "$0"`, path]);
  await waitFor('9 records', () => texts(batches).length === 9);
  const all = texts(batches);
  assert.deepEqual(all.slice(0, 5), [0, 1, 2, 3, 4].map((i) => `<13>Nov 23 10:00:0${i} box sh: shell ${i}`));
  assert.equal(all[8], '<13>Nov 23 10:00:11 box sh: after node');
  const f = recordFields(batches[0]!);
  assert.equal(f.program[0], 'sh');
  assert.equal(f.host[0], 'box');
  assert.equal(batches[0]!.meta.format, 'syslog');
  await src.stop();
  await assert.rejects(lstat(path), { code: 'ENOENT' });
});

test('a line written in several parts is joined; a long line is split and counted', async (t) => {
  const { path, batches, ctx, src } = await startPipe(t, { max_line_bytes: 16, format: 'raw' });
  const fd = openSync(path, constants.O_WRONLY);
  writeSync(fd, 'par');
  await sleep(50);
  writeSync(fd, 'tial line\n');
  writeSync(fd, `${'L'.repeat(40)}\nshort\n`);
  closeSync(fd);
  await waitFor('5 records', () => texts(batches).length === 5);
  assert.deepEqual(texts(batches), ['partial line', 'L'.repeat(16), 'L'.repeat(16), 'L'.repeat(8), 'short']);
  assert.equal(ctx.counters.get('logship_pipe_lines_split_total'), 1);
  assert.equal(src.stats().split, 1);
});

test("format raw: lines are messages with the source's facility, severity and program", async (t) => {
  const { path, batches } = await startPipe(t, { format: 'raw', facility: 'local4', severity: 'err' });
  await writeFile(path, '<13>Nov 23 10:00:00 box sh: looks like syslog\nplain\n');
  await waitFor('2 records', () => texts(batches).length === 2);
  const b = batches[0]!;
  assert.equal(b.meta.format, undefined);
  assert.equal(b.meta.program, 'app', 'default program: the base name of app.fifo');
  assert.equal(b.meta.host, 'node-p');
  const f = recordFields(b);
  for (let i = 0; i < b.count; i++) {
    assert.equal(f.facility(i), 20);
    assert.equal(f.severity(i), 3);
    assert.equal(f.program[i], 'app');
  }
  assert.deepEqual(texts(batches), ['<13>Nov 23 10:00:00 box sh: looks like syslog', 'plain']);
});

test('format syslog (default): each line parsed; a non-syslog line is kept, flagged malformed, with the defaults', async (t) => {
  const { path, batches } = await startPipe(t, { program: 'piped' });
  await writeFile(path, '<165>1 2026-11-23T10:00:00.123Z web-1 nginx 77 - - GET /\nnot syslog\n');
  await waitFor('2 records', () => texts(batches).length === 2);
  const b = batches[0]!;
  const f = recordFields(b);
  assert.deepEqual([f.facility(0), f.severity(0), f.host[0], f.program[0]], [20, 5, 'web-1', 'nginx']);
  assert.equal(f.timeMs[0], Date.UTC(2026, 10, 23, 10, 0, 0, 123));
  assert.equal(b.data.toString('utf8', f.msgStart[0]!, f.msgEnd[0]!), 'GET /');
  assert.ok((f.flags[1]! & RECORD_FLAG.MALFORMED) !== 0);
  assert.equal(f.program[1], 'piped');
  assert.equal(f.host[1], 'node-p');
});

test('a last line without newline is sent after partial_flush_ms', async (t) => {
  const { path, batches, ctx } = await startPipe(t, { format: 'raw', partial_flush_ms: 100 });
  await run('sh', ['-c', `printf 'no newline' > "$0"`, path]);
  const start = Date.now();
  await waitFor('partial flushed', () => texts(batches).length === 1);
  assert.ok(Date.now() - start >= 50, 'held for a while first');
  assert.deepEqual(texts(batches), ['no newline']);
  assert.equal(ctx.counters.get('logship_pipe_partial_flushes_total'), 1);
  await run('sh', ['-c', `printf 'next\\n' > "$0"`, path]);
  await waitFor('next line', () => texts(batches).length === 2);
  assert.equal(texts(batches)[1], 'next');
});

test('no busy loop while no writer has the FIFO open', async (t) => {
  const { path, batches } = await startPipe(t, { format: 'raw' });
  await run('sh', ['-c', `echo one > "$0"`, path]);
  await waitFor('one', () => texts(batches).length === 1);
  const cpu = process.cpuUsage();
  await sleep(300);
  const used = process.cpuUsage(cpu);
  assert.ok(used.user + used.system < 100_000, `idle CPU ${(used.user + used.system) / 1000} ms in 300 ms`);
});

test('an existing FIFO is used and left in place; a restarted source reads it again', async (t) => {
  const dir = await tmpDir(t);
  const path = join(dir, 'left.fifo');
  await run('mkfifo', ['-m', '0600', path]);
  const a = await startPipe(t, { format: 'raw', mode: '0666' }, { dir, name: 'left.fifo' });
  assert.equal(a.src.createdFifo, false);
  assert.equal((await stat(path)).mode & 0o777, 0o600, 'mode is applied only to a FIFO logship creates');
  await run('sh', ['-c', `echo first run > "$0"`, path]);
  await waitFor('first', () => texts(a.batches).length === 1);
  await a.src.stop();
  assert.ok((await lstat(path)).isFIFO(), 'not ours: left in place');

  const b = await startPipe(t, { format: 'raw' }, { dir, name: 'left.fifo' });
  await run('sh', ['-c', `echo second run > "$0"`, path]);
  await waitFor('second', () => texts(b.batches).length === 1);
  assert.deepEqual(texts(b.batches), ['second run']);
  assert.notEqual(a.src.stream, b.src.stream, 'each run is its own stream');
});

test('a path that exists and is not a FIFO is refused with LS_STARTUP naming `path`', async (t) => {
  const dir = await tmpDir(t);
  const file = join(dir, 'regular');
  await writeFile(file, 'data');
  const s = pipeSource.create(pipeSource.options.parse({ type: 'pipe', path: file }));
  await assert.rejects(s.start(testSourceContext({ stateDir: dir }, () => undefined)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LS_STARTUP');
    assert.match(err.message, /path/);
    assert.match(err.message, /regular file/);
    return true;
  });
  assert.equal(await readFile(file, 'utf8'), 'data');
  const missingDir = pipeSource.create(pipeSource.options.parse({ type: 'pipe', path: join(dir, 'no', 'such.fifo') }));
  await assert.rejects(missingDir.start(testSourceContext({ stateDir: dir }, () => undefined)), { code: 'LS_STARTUP' });
});

test('backpressure: with the router stalled the pipe is not read, writers fill it; nothing is lost', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batches: Batch[] = [];
  const { src, path } = await startPipe(
    t,
    { format: 'raw' },
    {
      onBatch: async (b) => {
        batches.push(b);
        await gate;
      },
    },
  );
  t.after(() => release());
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  t.after(() => closeSync(fd));
  const line = Buffer.from(`${'p'.repeat(1023)}\n`);
  let written = 0;
  let full = false;
  const deadline = Date.now() + 10_000;
  while (!full && Date.now() < deadline) {
    try {
      writeSync(fd, line);
      written++;
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'EAGAIN');
      if (src.stats().paused) full = true;
      else await sleep(1);
    }
  }
  assert.ok(full, 'the FIFO filled up while the source was paused');
  assert.ok(written * line.length < LOCAL_BACKLOG_BYTES * 2, `only ${written} lines accepted`);
  release();
  await waitFor('every line', () => texts(batches).length === written);
  // Reading resumed: the writer can write again.
  await waitFor('writable again', () => {
    try {
      writeSync(fd, 'tail\n');
      return true;
    } catch {
      return false;
    }
  });
  await waitFor('tail line', () => texts(batches).at(-1) === 'tail');
});

test('options: defaults and validation', () => {
  const d = pipeSource.options.parse({ type: 'pipe', path: '/tmp/x.fifo' });
  assert.deepEqual([d.mode, d.format, d.max_line_bytes, d.partial_flush_ms, d.facility, d.severity], ['0620', 'syslog', 65_536, 1000, 'user', 'notice']);
  assert.equal(pipeSource.options.safeParse({ type: 'pipe', path: '/tmp/x.fifo', format: 'json' }).success, false);
  assert.equal(pipeSource.options.safeParse({ type: 'pipe', path: '' }).success, false);
  assert.equal(pipeSource.options.safeParse({ type: 'pipe', path: '/tmp/x', mode: 420 }).success, false);
});
