// The file destination on real tmp dirs: paths, contents, exactly-once (dedupe, straddle, gap),
// kill -9 recovery in a child process, torn journal, group commit order, errors, confinement.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Batch, indexLines, type BatchMeta } from '../../../src/core/batch.js';
import type { Outcome } from '../../../src/core/outcome.js';
import { streamKey } from '../../../src/core/stream.js';
import { FileDestination, fileDestinationOptions, journalPath } from '../../../src/destinations/file/index.js';
import { replay } from '../../../src/destinations/file/journal.js';
import { lineRuns, setLineRuns } from '../../../src/destinations/file/line-runs.js';
import { testContext } from '../../helpers/context.js';
import {
  batch,
  delivered,
  env,
  failOnce,
  journalRecords,
  journalTypes,
  lines,
  meta,
  read,
  retryableWith,
  start,
  startFaulty,
  type Env,
} from '../../helpers/file-dest.js';
import { openFlags } from '../../helpers/fd-flags.js';
import { pathOfFd } from '../../helpers/fh-spy.js';
import { waitFor } from '../../helpers/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = join(ROOT, 'test/fixtures/file-dest-crash-child.ts');

/** Every file below `root` (depth first), as paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else found.push(relative(root, p));
    }
  };
  await walk(root);
  return found;
}

test('writes per-host/per-program files with the default line format', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { template: 'default' });
  delivered(await dest.write(batch('hello\nworld\n', 0, meta('web-1', 'nginx'))));
  delivered(await dest.write(batch('boot\n', 0, meta('db-2', 'kernel'), 's2')));
  assert.equal(
    await read(join(e.base, 'web-1/nginx.log')),
    '2026-11-23T10:33:00.123Z web-1 nginx: hello\n2026-11-23T10:33:00.123Z web-1 nginx: world\n',
  );
  assert.equal(await read(join(e.base, 'db-2/kernel.log')), '2026-11-23T10:33:00.123Z db-2 kernel: boot\n');
  assert.equal(counter('lines'), 3);
  assert.equal(counter('bytes'), (await stat(join(e.base, 'web-1/nginx.log'))).size + (await stat(join(e.base, 'db-2/kernel.log'))).size);
});

test('date macros in paths, custom line template, modes', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, {
    path: '${YEAR}/${MONTH}/${DAY}/${host}-${facility}.log',
    template: '${HOUR}:${MIN}:${SEC} <${PRI}> ${MESSAGE}',
    file_mode: '0600',
    dir_mode: '0750',
  });
  delivered(await dest.write(batch('x\n', 0)));
  const f = join(e.base, '2026/11/23/web-1-user.log');
  assert.equal(await read(f), '10:33:00 <14> x\n');
  assert.equal((await stat(f)).mode & 0o777, 0o600);
  assert.equal((await stat(join(e.base, '2026/11'))).mode & 0o777, 0o750);
});

test('the same batch twice is written once', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e);
  const text = lines('a', 0, 5);
  delivered(await dest.write(batch(text, 0)));
  delivered(await dest.write(batch(text, 0)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), text);
  assert.equal(counter('duplicates'), 5);
  assert.equal(counter('lines'), 5);
  assert.equal(dest.highWater('client-a', 's1'), text.length);
});

test('an overlapping resend that starts mid-way writes only the new lines', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e);
  const all = lines('line-', 0, 10);
  const cut3 = lines('line-', 0, 3).length;
  const cut6 = lines('line-', 0, 6).length;
  delivered(await dest.write(batch(all.slice(0, cut6), 0)));
  // The client resends from line 3 (it never saw the ack for lines 3..5) up to line 9.
  delivered(await dest.write(batch(all.slice(cut3), cut3)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), all);
  assert.equal(counter('duplicates'), 3);
});

test('a record straddling the high water mark is written from it on', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e);
  // A partial last line "abc" was flushed as a record (no terminator) ...
  const part = Buffer.from('abc');
  delivered(await dest.write(new Batch(part, new Uint32Array([3]), meta(), { origin: 'client-a', stream: 's1', offset: 0 })));
  // ... then the whole line arrives again from its start.
  delivered(await dest.write(batch('abcdef\nnext\n', 0)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), 'abc\ndef\nnext\n');
});

test('a gap is logged and written; streams are independent', async (t) => {
  const e = await env(t);
  const { dest, counter, ctx } = await start(t, e);
  delivered(await dest.write(batch('a\n', 0)));
  delivered(await dest.write(batch('c\n', 4)));
  delivered(await dest.write(batch('x\n', 100, meta(), 's2')));
  delivered(await dest.write(batch('y\n', 0, meta(), 's1', 'client-b')));
  assert.equal(await read(join(e.base, 'web-1/app.log')), 'a\nc\nx\ny\n');
  assert.equal(counter('gaps'), 1);
  assert.ok(ctx.logs.some((l) => l.level === 'warn' && (l.obj as { event?: string }).event === 'file_dest_gap'));
});

test('hw survives a restart; a torn journal tail is ignored', async (t) => {
  const e = await env(t);
  const first = await start(t, e);
  delivered(await first.dest.write(batch(lines('a', 0, 3), 0)));
  await first.dest.close();
  // A crash mid-append leaves half a record behind.
  await appendFile(journalPath(e.state, 'files'), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 0x7b]));
  const second = await start(t, e);
  assert.equal(second.ctx.counters.get('logship_file_dest_journal_torn_total'), 1);
  assert.equal(second.dest.highWater('client-a', 's1'), lines('a', 0, 3).length);
  delivered(await second.dest.write(batch(lines('a', 0, 5), 0)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), lines('a', 0, 5));
  assert.equal(second.counter('duplicates'), 3);
  // The torn bytes are gone after the compaction at start.
  const r = replay(await readFile(journalPath(e.state, 'files')), 'j');
  assert.equal(r.torn, undefined);
});

/**
 * Runs test/fixtures/file-dest-crash-child.ts on `e`: `texts` written as consecutive batches of one
 * stream (raw lines to web-1/app.log), stopping dead as `hang` says; `overlap`: each batch queued
 * while the one before is being written.
 */
function runChild(e: Env, texts: string[], hang: 'before-commit' | 'after-ack', overlap = false): Promise<{ out: string; kill: () => Promise<number | null> }> {
  let offset = 0;
  const batches = texts.map((text) => {
    const b = { text, offset };
    offset += Buffer.byteLength(text);
    return b;
  });
  const cfg = { baseDir: e.base, stateDir: e.state, id: 'files', template: 'raw', batches, hang, overlap };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(signal === 'SIGKILL' ? null : code)));
  return waitFor(`child to hang (stdout: ${out} stderr: ${err})`, () => out.includes('HANGING') || child.exitCode !== null, 30_000).then(() => {
    if (!out.includes('HANGING')) throw new Error(`child exited early: ${err}`);
    return {
      out,
      kill: async () => {
        child.kill('SIGKILL');
        return exited;
      },
    };
  });
}

test('kill -9 between data and COMMIT: the tail is cut at restart, the resend is written once', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 4);
  const b = lines('b', 0, 3);
  const child = await runChild(e, [a, b], 'before-commit');
  assert.match(child.out, /COMMITTED 0/);
  assert.doesNotMatch(child.out, /COMMITTED 1/);
  const file = join(e.base, 'web-1/app.log');
  assert.equal(await read(file), a + b, 'the uncommitted batch reached the file before the kill');
  assert.equal(await child.kill(), null);

  const { dest, counter } = await start(t, e);
  assert.equal(await read(file), a, 'recovery cut the uncommitted tail');
  assert.equal(counter('recoveries'), 1);
  // The client never got the ack of b: it resends from the end of a (and a again, for good measure).
  delivered(await dest.write(batch(a + b, 0)));
  delivered(await dest.write(batch(b, a.length)));
  assert.equal(await read(file), a + b);
});

test('perf S1: kill -9 in a cycle that wrote no BEGIN (the COMMIT before declared it): the tail is cut at restart, the resend is written once', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 4);
  const b = lines('b', 0, 3);
  const c = lines('c', 0, 2);
  const child = await runChild(e, [a, b, c], 'before-commit', true);
  assert.match(child.out, /COMMITTED 1/);
  assert.doesNotMatch(child.out, /COMMITTED 2/);
  const file = join(e.base, 'web-1/app.log');
  assert.equal(await read(file), a + b + c, 'the uncommitted batch reached the file before the kill');
  assert.equal(await child.kill(), null);
  // One BEGIN for three cycles: the second and third were declared by the COMMIT before them.
  const journal = await readFile(journalPath(e.state, 'files'));
  const types = journalTypes(journal);
  assert.deepEqual(types.filter((x) => x !== 'snap' && x !== 'marks'), ['begin', 'commit', 'commit'], String(types));
  assert.deepEqual(replay(journal, 'j').pending?.files.map((f) => f.size), [Buffer.byteLength(a + b)]);

  const { dest, counter } = await start(t, e);
  assert.equal(await read(file), a + b, 'recovery cut the uncommitted tail');
  assert.equal(counter('recoveries'), 1);
  delivered(await dest.write(batch(a + b + c, 0)));
  assert.equal(await read(file), a + b + c);
});

test('kill -9 after COMMIT but before the ack: the resend is a duplicate', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 4);
  const child = await runChild(e, [a], 'after-ack');
  assert.equal(await child.kill(), null);
  const { dest, counter } = await start(t, e);
  assert.equal(counter('recoveries'), 0);
  delivered(await dest.write(batch(a, 0)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), a);
  assert.equal(counter('duplicates'), 4);
});

test('recovery never cuts a file that was rotated away after the crash', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 2);
  const b = lines('b', 0, 2);
  const child = await runChild(e, [a, b], 'before-commit');
  await child.kill();
  const file = join(e.base, 'web-1/app.log');
  await rename(file, `${file}.1`);
  await writeFile(file, 'someone else wrote this, and more than before\n');
  const { counter } = await start(t, e);
  assert.equal(counter('recoveries'), 0);
  assert.equal(counter('recovery_skips'), 1);
  assert.equal(await read(file), 'someone else wrote this, and more than before\n');
  assert.equal(await read(`${file}.1`), a + b);
});

test('group commit of many concurrent writes keeps per-stream order', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { path: 'all.log', max_in_flight: 64 });
  const streams = ['s0', 's1', 's2', 's3'];
  const offsets = new Map(streams.map((s) => [s, 0]));
  const pending: Promise<Outcome>[] = [];
  const perStream = 50;
  for (let i = 0; i < perStream; i++) {
    for (const s of streams) {
      const text = `${s} ${i}\n`;
      pending.push(dest.write(batch(text, offsets.get(s)!, meta(), s)));
      offsets.set(s, offsets.get(s)! + text.length);
    }
    if (i % 5 === 4) await new Promise((r) => setImmediate(r));
  }
  for (const o of await Promise.all(pending)) delivered(o);
  const got = (await read(join(e.base, 'all.log'))).trimEnd().split('\n');
  assert.equal(got.length, streams.length * perStream);
  for (const s of streams) {
    const seq = got.filter((l) => l.startsWith(`${s} `)).map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(seq, [...Array(perStream).keys()], s);
  }
  assert.equal(counter('lines'), streams.length * perStream);
  // Grouped: far fewer BEGIN/COMMIT pairs than writes.
  const r = replay(await readFile(journalPath(e.state, 'files')), 'j');
  assert.ok(r.records > 1 && r.records < pending.length, `journal records: ${r.records}`);
});

test('a cycle takes at most half of max_in_flight batches, so the sources fill the other half meanwhile', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { path: 'all.log', max_in_flight: 6 });
  // Six batches of six streams handed over in one tick: without the bound one cycle would take them all.
  const streams = ['s0', 's1', 's2', 's3', 's4', 's5'];
  const outcomes = await Promise.all(streams.map((s) => dest.write(batch(`${s}\n`, 0, meta(), s))));
  for (const o of outcomes) delivered(o);
  assert.deepEqual((await read(join(e.base, 'all.log'))).trimEnd().split('\n'), streams);
  // One COMMIT per cycle, naming the streams it wrote.
  const cycles = journalRecords(await readFile(journalPath(e.state, 'files'))).flatMap((r) => (r.t === 'commit' ? [r.streams.map((x) => x[0])] : []));
  const keys = (ss: string[]): string[] => ss.map((s) => streamKey('client-a', s));
  assert.deepEqual(cycles, [keys(['s0', 's1', 's2']), keys(['s3', 's4', 's5'])]);
});

test('network values cannot escape base_dir', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e);
  const evil = ['../../etc', '..', '.', '/etc/passwd', 'a/../../b', '\u0000', '', '..\\..\\win', `${'x'.repeat(300)}`];
  let n = 0;
  for (const host of evil) {
    for (const program of ['../../../tmp/pwn', 'ok', '..']) {
      delivered(await dest.write(batch(`${n}\n`, 0, meta(host, program), `s${n}`)));
      n++;
    }
  }
  const root = dirname(e.base);
  const found = await filesUnder(root);
  const outside = found.filter((p) => !p.startsWith('out/') && !p.startsWith('state/'));
  assert.deepEqual(outside, []);
  const written = found.filter((p) => p.startsWith('out/'));
  assert.ok(written.length > 0);
  for (const p of written) {
    const parts = p.split('/');
    assert.equal(parts.length, 3, p); // out/<host>/<program>.log
    assert.ok(!parts.includes('..') && !parts.includes('.'), p);
    assert.ok(Buffer.byteLength(parts[1]!) <= 128, p);
  }
  // Every line arrived somewhere, once.
  let total = '';
  for (const p of written) total += await read(join(root, p));
  assert.equal(total.trimEnd().split('\n').sort((x, y) => Number(x) - Number(y)).join(','), [...Array(n).keys()].join(','));
});

test('an open error fails only its batches; later batches of that stream wait for its retry, then follow in order', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e);
  // A directory where the file should be: open() fails with EISDIR.
  await mkdir(join(e.base, 'bad/app.log'), { recursive: true });
  const [bad, good] = await Promise.all([dest.write(batch('b0\n', 0, meta('bad'), 'sb')), dest.write(batch('g0\n', 0, meta('good'), 'sg'))]);
  assert.equal(bad.kind, 'retryable');
  assert.equal(bad.kind === 'retryable' && (bad.error as { code?: string }).code, 'LS_FILE_WRITE');
  delivered(good);
  assert.equal(counter('errors'), 1);
  assert.equal(counter('failure_waits'), 1);
  assert.equal(counter('reorder_waits') ?? 0, 0);
  // The next batch of the failed stream must not overtake the failed one: it is parked, unanswered.
  let answered = false;
  let yielded = false;
  const next = dest.write(batch('b1\n', 3, meta('other-path'), 'sb'), () => (yielded = true)).then((o) => ((answered = true), o));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(answered, false);
  // It keeps its router slot: a failure that lasts holds the sources back (a re-routed batch gives it back).
  assert.equal(yielded, false);
  // Other streams are not held up.
  delivered(await dest.write(batch('g1\n', 3, meta('good'), 'sg')));
  // The operator fixes the path; the retry and then the parked batch go through, in order.
  await rename(join(e.base, 'bad/app.log'), join(e.base, 'bad/moved'));
  delivered(await dest.write(batch('b0\n', 0, meta('bad'), 'sb')));
  delivered(await next);
  assert.equal(await read(join(e.base, 'bad/app.log')), 'b0\n');
  assert.equal(await read(join(e.base, 'other-path/app.log')), 'b1\n');
  assert.equal(counter('reorder_timeouts') ?? 0, 0);
});

test('a batch that keeps failing: later ones are written after reorder_wait_ms, and it is still written once when it succeeds', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { reorder_wait_ms: 300 });
  delivered(await dest.write(batch('a0\n', 0, meta('ok'), 's1')));
  await mkdir(join(e.base, 'bad/app.log'), { recursive: true });
  assert.equal((await dest.write(batch('b1\n', 3, meta('bad'), 's1'))).kind, 'retryable');
  // Parked behind the failure, then written past the gap when the wait times out.
  delivered(await dest.write(batch('c2\n', 6, meta('ok'), 's1')));
  assert.equal(counter('reorder_timeouts'), 1);
  assert.equal(await read(join(e.base, 'ok/app.log')), 'a0\nc2\n');
  // The failed batch, retried at last, fills the hole: written once, after the newer line.
  await rename(join(e.base, 'bad/app.log'), join(e.base, 'bad/moved'));
  delivered(await dest.write(batch('b1\n', 3, meta('bad'), 's1')));
  delivered(await dest.write(batch('b1\n', 3, meta('bad'), 's1')));
  assert.equal(await read(join(e.base, 'bad/app.log')), 'b1\n');
  assert.equal(counter('late_lines'), 1);
});

test("a stream's first batch fails: later ones wait for it, and after reorder_wait_ms it is still written once", async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { reorder_wait_ms: 300 });
  await mkdir(join(e.base, 'bad/app.log'), { recursive: true });
  assert.equal((await dest.write(batch('b0\n', 0, meta('bad'), 'fresh'))).kind, 'retryable');
  delivered(await dest.write(batch('c1\n', 3, meta('ok'), 'fresh')));
  assert.equal(counter('reorder_timeouts'), 1);
  await rename(join(e.base, 'bad/app.log'), join(e.base, 'bad/moved'));
  delivered(await dest.write(batch('b0\n', 0, meta('bad'), 'fresh')));
  delivered(await dest.write(batch('b0\n', 0, meta('bad'), 'fresh')));
  delivered(await dest.write(batch('c1\n', 3, meta('ok'), 'fresh')));
  assert.equal(await read(join(e.base, 'bad/app.log')), 'b0\n');
  assert.equal(await read(join(e.base, 'ok/app.log')), 'c1\n');
});

test('a write error (ENOSPC) rolls back the whole cycle; the retry writes each line once', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { fsync: false });
  delivered(await dest.write(batch('g0\n', 0, meta('good'), 'sg')));
  await mkdir(join(e.base, 'full'), { recursive: true });
  await symlink('/dev/full', join(e.base, 'full/app.log'));
  const [good, full] = await Promise.all([dest.write(batch('g1\n', 3, meta('good'), 'sg')), dest.write(batch('f0\n', 0, meta('full'), 'sf'))]);
  assert.equal(good.kind, 'retryable');
  assert.equal(full.kind, 'retryable');
  assert.equal(full.kind === 'retryable' && (full.error as { code?: string }).code, 'LS_FILE_WRITE');
  assert.ok(counter('errors') >= 1);
  assert.equal(await read(join(e.base, 'good/app.log')), 'g0\n', 'rolled back');
  delivered(await dest.write(batch('g1\n', 3, meta('good'), 'sg')));
  assert.equal(await read(join(e.base, 'good/app.log')), 'g0\ng1\n');
});

test('a file moved away (logrotate) is followed by a new file at the path', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { max_open_files: 2 });
  const file = join(e.base, 'web-1/app.log');
  delivered(await dest.write(batch('a\n', 0)));
  await rename(file, `${file}.1`);
  delivered(await dest.write(batch('b\n', 2)));
  assert.equal(await read(`${file}.1`), 'a\n');
  assert.equal(await read(file), 'b\n');
  // More files than max_open_files: handles are recycled, nothing is lost.
  for (let i = 0; i < 6; i++) delivered(await dest.write(batch(`h${i}\n`, 0, meta(`h${i}`), `hs${i}`)));
  for (let i = 0; i < 6; i++) delivered(await dest.write(batch(`h${i}b\n`, 3, meta(`h${i}`), `hs${i}`)));
  for (let i = 0; i < 6; i++) assert.equal(await read(join(e.base, `h${i}/app.log`)), `h${i}\nh${i}b\n`);
});

test('two instances with one id (reload) share dedupe; close refuses new writes', async (t) => {
  const e = await env(t);
  const oldOne = await start(t, e);
  delivered(await oldOne.dest.write(batch('a\n', 0)));
  const newOne = await start(t, e);
  delivered(await newOne.dest.write(batch('a\nb\n', 0)));
  await oldOne.dest.close();
  const after = await oldOne.dest.write(batch('c\n', 4));
  assert.equal(after.kind, 'retryable');
  assert.equal(after.kind === 'retryable' && (after.error as { code?: string }).code, 'LS_SHUTDOWN');
  delivered(await newOne.dest.write(batch('b\nc\n', 2)));
  await newOne.dest.flush();
  assert.equal(await read(join(e.base, 'web-1/app.log')), 'a\nb\nc\n');
});

test('fsync off still writes exactly once', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { fsync: false, template: 'default' });
  delivered(await dest.write(batch('x\n', 0)));
  delivered(await dest.write(batch('x\n', 0)));
  assert.equal((await read(join(e.base, 'web-1/app.log'))).split('\n').length, 2);
});

test('the journal is compacted as it grows and keeps every stream', async (t) => {
  const e = await env(t);
  const options = fileDestinationOptions.parse({ type: 'file', base_dir: e.base, template: 'raw', fsync: false });
  const dest = new FileDestination(options, { compactBytes: 2000 });
  await dest.start(testContext({ id: 'files', stateDir: e.state }));
  for (let i = 0; i < 100; i++) delivered(await dest.write(batch(`${i}\n`, 0, meta(), `c${i}`)));
  await dest.close();
  const j = await readFile(journalPath(e.state, 'files'));
  assert.ok(j.length < 2000 + 100 * 60, `journal is ${j.length} bytes`);
  const r = replay(j, 'j');
  assert.equal(r.streams.size, 100);
  const again = await start(t, e);
  for (let i = 0; i < 100; i++) delivered(await again.dest.write(batch(`${i}\n`, 0, meta(), `c${i}`)));
  assert.equal(again.counter('duplicates'), 100);
});

// ---- issue 3: compacted batches (per-record filters) and syslog batches ----------------------

/** A compacted batch: `recs` = [stream offset, text] of the kept records; the batch accounts for [offset, end). */
function compactedBatch(offset: number, end: number, recs: Array<[number, string]>, m: BatchMeta = meta(), stream = 's1'): Batch {
  const data = Buffer.from(recs.map(([, t]) => t).join(''));
  const ends = new Uint32Array(recs.length);
  let at = 0;
  recs.forEach(([, t], k) => {
    at += Buffer.byteLength(t);
    ends[k] = at;
  });
  return new Batch(data, ends, m, { origin: 'client-a', stream, offset }, { recordOffsets: Float64Array.from(recs.map(([o]) => o)), endOffset: end });
}

test('issue 3: a compacted batch moves hw to its end offset; dedupe uses each record\'s own offset', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e);
  // Stream: r0 [0,10) r1 [10,20) … r9 [90,100); a filter kept r2 and r5 of [0, 100).
  const rec = (i: number): [number, string] => [i * 10, `r${String(i).padStart(2, '0')}-.....\n`];
  assert.equal(rec(12)[1].length, 10);
  delivered(await dest.write(compactedBatch(0, 100, [rec(2), rec(5)])));
  assert.equal(dest.highWater('client-a', 's1'), 100);
  // The next batch follows on at 100: no gap.
  delivered(await dest.write(batch('next-line\n', 100)));
  assert.equal(counter('gaps'), 0);
  // A resend of [0, 150) compacted to r5, r9, r12, r14: r5 and r9 end at or before hw 110 (by
  // their stream offsets, not their place in the buffer), r12 and r14 are new.
  delivered(await dest.write(compactedBatch(0, 150, [rec(5), rec(9), rec(12), rec(14)])));
  assert.equal(await read(join(e.base, 'web-1/app.log')), rec(2)[1] + rec(5)[1] + 'next-line\n' + rec(12)[1] + rec(14)[1]);
  assert.equal(counter('duplicates'), 2);
  assert.equal(dest.highWater('client-a', 's1'), 150);
});

test('issue 3: a compacted record straddling hw is written from hw on', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e);
  // A partial record flushed earlier: stream [40, 44) = "abcd".
  delivered(await dest.write(new Batch(Buffer.from('abcd'), new Uint32Array([4]), meta(), { origin: 'client-a', stream: 's1', offset: 40 })));
  // The resend, compacted: the kept record starts at 40 and is now whole.
  delivered(await dest.write(compactedBatch(40, 80, [[40, 'abcdefgh\n'], [60, 'later\n']])));
  assert.equal(await read(join(e.base, 'web-1/app.log')), 'abcd\nefgh\nlater\n');
});

const SYS = (host: string, app: string, time: string, msg: string, pri = 13): string => `<${pri}>1 ${time} ${host} ${app} 42 - - ${msg}\n`;

function syslogBatchOf(text: string, offset: number, stream = 'sys', extras?: ConstructorParameters<typeof Batch>[4]): Batch {
  const data = Buffer.from(text);
  return new Batch(data, indexLines(data), meta('relay-host', 'syslog', { format: 'syslog' }), { origin: 'relay', stream, offset }, extras);
}

test('issue 3: a syslog batch is split by each record\'s host and program, lines like syslog-ng\'s file output', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { template: 'default' });
  const text =
    SYS('web-1', 'nginx', '2026-11-23T10:33:00.500+01:00', 'GET /') +
    SYS('db-2', 'postgres', '2026-11-23T10:33:01Z', 'checkpoint') +
    SYS('web-1', 'nginx', '2026-11-23T10:33:02Z', 'GET /x') +
    'not a syslog line\n';
  const before = replay(await readFile(journalPath(e.state, 'files')), 'j').records;
  delivered(await dest.write(syslogBatchOf(text, 0)));
  assert.equal(
    await read(join(e.base, 'web-1/nginx.log')),
    '2026-11-23T09:33:00.500Z web-1 nginx: GET /\n2026-11-23T10:33:02.000Z web-1 nginx: GET /x\n',
  );
  assert.equal(await read(join(e.base, 'db-2/postgres.log')), '2026-11-23T10:33:01.000Z db-2 postgres: checkpoint\n');
  // Not syslog: kept whole, under the batch's own host and program.
  assert.equal(await read(join(e.base, 'relay-host/syslog.log')), '2026-11-23T10:33:00.123Z relay-host syslog: not a syslog line\n');
  assert.equal(counter('lines'), 4);
  // One write cycle for the batch: one BEGIN and one COMMIT, whatever the number of files.
  assert.equal(replay(await readFile(journalPath(e.state, 'files')), 'j').records - before, 2);
  assert.equal(dest.highWater('relay', 'sys'), Buffer.byteLength(text));
  // A resend is a duplicate in every file.
  delivered(await dest.write(syslogBatchOf(text, 0)));
  assert.equal(counter('duplicates'), 4);
  assert.equal((await read(join(e.base, 'web-1/nginx.log'))).split('\n').length, 3);
});

test('perf S4: runs of repeated headers, their lines copied by the pool thread that writes each file, give the files the bytes the JavaScript loop writes', async (t) => {
  // Three senders, each batch mostly one header repeated (a run), two batches per file in a cycle.
  const text = (host: string, k: number): string => {
    let s = '';
    for (let i = 0; i < 60; i++) s += SYS(host, i % 20 === 19 ? 'other' : 'app', `2026-12-07T04:36:${String(10 + ((i / 25) | 0)).padStart(2, '0')}Z`, `line ${k}-${i}${'.'.repeat(i % 7)}`);
    return s;
  };
  const hosts = ['web-1', 'web-2', 'db-1'];
  const real = lineRuns();
  assert.ok(real !== null, 'the line writer is built');
  t.after(() => setLineRuns(undefined));
  const run = async (planned: boolean): Promise<string[]> => {
    let plans = 0;
    setLineRuns(planned ? { ...real, plan: (...a: Parameters<typeof real.plan>) => (plans++, real.plan(...a)) } : null);
    const e = await env(t);
    const { dest } = await start(t, e, { path: '${host}.log', template: 'default', fsync: true });
    const writes = hosts.flatMap((h) => {
      const a = text(h, 0);
      return [dest.write(syslogBatchOf(a, 0, h)), dest.write(syslogBatchOf(text(h, 1), Buffer.byteLength(a), h))];
    });
    (await Promise.all(writes)).forEach(delivered);
    if (planned) assert.ok(plans >= 6, `${plans} runs planned`);
    return Promise.all(hosts.map((h) => read(join(e.base, `${h}.log`))));
  };
  const js = await run(false);
  const pool = await run(true);
  assert.equal(js[0]!.split('\n').length, 121);
  assert.deepEqual(pool, js);
});

/** A syslog batch of `n` records of one header (a run), for host `host`. */
const runOf = (host: string, n: number, tag = ''): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += SYS(host, 'app', '2026-12-07T04:36:10Z', `line ${tag}${i}`);
  return s;
};

test('perf S4: a batch of no repeated headers and one of runs are both read where they lie, and give the bytes the JavaScript loop writes', async (t) => {
  const real = lineRuns();
  assert.ok(real !== null, 'the line writer is built');
  const sources = new Map<string, number>();
  t.after(() => setLineRuns(undefined));
  // Every record of its own millisecond: no two lines share a prefix.
  let each = '';
  for (let i = 0; i < 40; i++) each += SYS('each', 'app', `2026-12-07T04:36:10.${String(i).padStart(3, '0')}Z`, `line ${i}`);
  const run = async (binding: typeof real | null): Promise<string[]> => {
    setLineRuns(binding);
    const e = await env(t);
    const { dest } = await start(t, e, { path: '${host}.log', template: 'default' });
    (await Promise.all([dest.write(syslogBatchOf(each, 0, 'e')), dest.write(syslogBatchOf(runOf('runs', 40), 0, 'r'))])).forEach(delivered);
    return Promise.all(['each', 'runs'].map((h) => read(join(e.base, `${h}.log`))));
  };
  const pool = await run({
    ...real,
    append: (...args: Parameters<typeof real.append>) => {
      sources.set(pathOfFd(args[0]).replace(/^.*\//, ''), args[4].length);
      real.append(...args);
    },
  });
  // (copying a batch of no runs into the arena instead, for copyWithin, measured no faster: decision 0009)
  assert.deepEqual(Object.fromEntries(sources), { 'each.log': 1, 'runs.log': 1 });
  assert.deepEqual(pool, await run(null));
  assert.equal(pool[0]!.split('\n').length, 41);
});

test('perf S4: a batch of runs with a NUL in a message, read where it lies, is formatted in JavaScript: the NUL dropped, the bytes the JavaScript loop writes', async (t) => {
  const real = lineRuns();
  assert.ok(real !== null, 'the line writer is built');
  t.after(() => setLineRuns(undefined));
  const text = runOf('nul', 20).replace('line 7', 'li\u0000ne 7');
  const run = async (binding: typeof real | null): Promise<{ out: string; plans: number; sources: number }> => {
    let plans = 0;
    let sources = 0;
    setLineRuns(
      binding && {
        ...binding,
        plan: (...a: Parameters<typeof real.plan>) => (plans++, binding.plan(...a)),
        append: (...a: Parameters<typeof real.append>) => ((sources += a[4].length), binding.append(...a)),
      },
    );
    const e = await env(t);
    const { dest } = await start(t, e, { path: '${host}.log', template: 'default', fsync: true });
    delivered(await dest.write(syslogBatchOf(text, 0, 'n')));
    return { out: await read(join(e.base, 'nul.log')), plans, sources };
  };
  const pool = await run(real);
  assert.equal(pool.sources, 1, 'the batch is read where it lies');
  assert.equal(pool.plans, 0, 'no run planned: a message holds a NUL');
  assert.ok(!pool.out.includes('\u0000'));
  assert.match(pool.out, / line 7\n/);
  assert.equal(pool.out.split('\n').length, 21);
  assert.equal(pool.out, (await run(null)).out);
});

test('perf S4: a plan the line writer refuses fails its cycle once; the retry and the cycles after it format in JavaScript, the same bytes', async (t) => {
  const real = lineRuns();
  assert.ok(real !== null, 'the line writer is built');
  let appends = 0;
  setLineRuns({
    ...real,
    append: () => {
      appends++;
      throw new RangeError('append: a plan out of its bounds'); // (what the addon throws for a bad plan)
    },
  });
  t.after(() => setLineRuns(undefined));
  const e = await env(t);
  const { dest, counter } = await start(t, e, { path: '${host}.log', template: 'default' });
  const text = runOf('web-1', 12);
  retryableWith(await dest.write(syslogBatchOf(text, 0, 'w')), 'LS_FILE_WRITE');
  assert.equal(appends, 1);
  assert.equal(counter('errors'), 1);
  assert.equal(await read(join(e.base, 'web-1.log')), '', 'cut back');
  delivered(await dest.write(syslogBatchOf(text, 0, 'w')));
  const more = runOf('web-1', 8, 'more ');
  delivered(await dest.write(syslogBatchOf(more, Buffer.byteLength(text), 'w')));
  assert.equal(appends, 1, 'no plan after the refusal');
  const lines = (await read(join(e.base, 'web-1.log'))).split('\n');
  assert.equal(lines.length, 21);
  assert.equal(lines[0], '2026-12-07T04:36:10.000Z web-1 app: line 0');
  assert.equal(lines[19], '2026-12-07T04:36:10.000Z web-1 app: line more 7');
});

test('perf S4: a write that fails in the pool job (ENOSPC) with runs planned for other files rolls the whole cycle back; the retry writes each line once', async (t) => {
  assert.ok(lineRuns() !== null, 'the line writer is built');
  const e = await env(t);
  const { dest } = await start(t, e, { path: '${host}.log', template: 'default' });
  await mkdir(e.base, { recursive: true });
  await symlink('/dev/full', join(e.base, 'full.log'));
  const good = runOf('good', 40);
  const outcomes = await Promise.all([dest.write(syslogBatchOf(good, 0, 'g')), dest.write(syslogBatchOf(runOf('full', 40), 0, 'f'))]);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ['retryable', 'retryable'],
  );
  assert.equal(await read(join(e.base, 'good.log')), '', 'rolled back');
  delivered(await dest.write(syslogBatchOf(good, 0, 'g')));
  const lines = (await read(join(e.base, 'good.log'))).split('\n');
  assert.equal(lines.length, 41);
  assert.equal(new Set(lines).size, 41, 'each line once');
});

test('issue 3: date macros of a path come from each message; raw keeps the record bytes; PID/MSGID/SDATA in lines', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { path: '${YEAR}-${MONTH}-${DAY}/${host}.log', template: 'raw' });
  const a = SYS('h', 'app', '2026-11-23T23:59:59Z', 'late');
  const b = SYS('h', 'app', '2026-11-24T00:00:00Z', 'early');
  delivered(await dest.write(syslogBatchOf(a + b, 0)));
  assert.equal(await read(join(e.base, '2026-11-23/h.log')), a);
  assert.equal(await read(join(e.base, '2026-11-24/h.log')), b);

  const e2 = await env(t);
  const second = await start(t, e2, { path: 'all.log', template: '${PRI} ${program}[${PID}] ${MSGID} ${SDATA} ${MESSAGE}' }, 'other');
  const line = '<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 77 ID47 [ex@32473 iut="3"] An event\n';
  delivered(await second.dest.write(syslogBatchOf(line, 0)));
  assert.equal(await read(join(e2.base, 'all.log')), '165 evntslog[77] ID47 [ex@32473 iut="3"] An event\n');
});

test('issue 3: a syslog batch written raw to one path takes the fast path (bytes as received)', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { path: 'all.log', template: 'raw' });
  const text = SYS('a', 'b', '2026-11-23T10:33:00Z', 'x') + 'junk\u0000line\n';
  const b = syslogBatchOf(text, 0);
  delivered(await dest.write(b));
  assert.equal(await read(join(e.base, 'all.log')), text.replace('\u0000', ''));
  assert.equal(b.fields, undefined, 'not parsed');
});

test('issue 3: hosts and programs from messages cannot escape base_dir', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { template: 'raw' });
  const evil = ['../../etc', '..', '.', '..\\..\\win', `${'x'.repeat(300)}`, '.hidden'];
  let text = '';
  for (const host of evil) for (const app of ['../../../tmp/pwn', '..', 'ok']) text += SYS(host, app, '-', `${host}|${app}`);
  delivered(await dest.write(syslogBatchOf(text, 0)));
  const root = dirname(e.base);
  const found = await filesUnder(root);
  const written = found.filter((p) => p.startsWith('out/'));
  assert.deepEqual(found.filter((p) => !p.startsWith('out/') && !p.startsWith('state/')), []);
  let lines = 0;
  for (const p of written) {
    const parts = p.split('/');
    assert.equal(parts.length, 3, p);
    assert.ok(!parts.includes('..') && !parts.includes('.') && !parts[1]!.startsWith('.'), p);
    assert.ok(Buffer.byteLength(parts[1]!) <= 128, p);
    lines += (await read(join(root, p))).split('\n').length - 1;
  }
  assert.equal(lines, evil.length * 3);
});

test('issue 3: one file of a split syslog batch cannot be opened: the whole batch is retried, nothing half-written', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { template: 'raw' });
  await mkdir(join(e.base, 'bad/app.log'), { recursive: true });
  const text = SYS('good', 'app', '-', 'one') + SYS('bad', 'app', '-', 'two');
  const o = await dest.write(syslogBatchOf(text, 0));
  assert.equal(o.kind, 'retryable');
  assert.equal(o.kind === 'retryable' && (o.error as { code?: string }).code, 'LS_FILE_WRITE');
  assert.equal(await read(join(e.base, 'good/app.log')).catch(() => ''), '', 'nothing written to the file that could be opened');
  await rename(join(e.base, 'bad/app.log'), join(e.base, 'bad/moved'));
  delivered(await dest.write(syslogBatchOf(text, 0)));
  assert.equal(await read(join(e.base, 'good/app.log')), SYS('good', 'app', '-', 'one'));
  assert.equal(await read(join(e.base, 'bad/app.log')), SYS('bad', 'app', '-', 'two'));
});

test('issue 3: a compacted syslog batch split over files dedupes per record on resend', async (t) => {
  const e = await env(t);
  const { dest, counter } = await start(t, e, { template: '${program}: ${MESSAGE}' });
  const recs = [SYS('a', 'x', '-', 'r0'), SYS('b', 'y', '-', 'r1'), SYS('a', 'x', '-', 'r2'), SYS('b', 'y', '-', 'r3')];
  const offs: number[] = [];
  let o = 0;
  for (const r of recs) {
    offs.push(o);
    o += r.length;
  }
  // First the filter kept r0 and r2 of the range [0, end of r2).
  delivered(await dest.write(syslogBatchOf(recs[0]! + recs[2]!, 0, 'sys', { recordOffsets: Float64Array.from([offs[0]!, offs[2]!]), endOffset: offs[2]! + recs[2]!.length })));
  // Then the whole range again with r1..r3 kept: r1 and r2 are below hw, r3 is new.
  delivered(await dest.write(syslogBatchOf(recs[1]! + recs[2]! + recs[3]!, 0, 'sys', { recordOffsets: Float64Array.from([offs[1]!, offs[2]!, offs[3]!]), endOffset: o })));
  assert.equal(await read(join(e.base, 'a/x.log')), 'x: r0\nx: r2\n');
  assert.equal(await read(join(e.base, 'b/y.log')), 'y: r3\n');
  assert.equal(counter('duplicates'), 2);
});

// ---- review: a failed COMMIT fdatasync, rollback vs compaction, a bounded hw map --------------

test('review commit-fail: a COMMIT whose fdatasync fails keeps its lines; after a restart the resend is a duplicate, not lost', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 2);
  const b = lines('b', 0, 2);
  const file = join(e.base, 'web-1/app.log');
  const first = await startFaulty(t, e, { fault: failOnce('journal-sync', 'commit', 2) });
  delivered(await first.dest.write(batch(a, 0)));
  retryableWith(await first.dest.write(batch(b, a.length)), 'LS_FILE_WRITE');
  // The COMMIT is in the journal (a restart may replay it): the lines it covers must stay.
  assert.equal(await read(file), a + b);
  await first.dest.close(); // the process dies before the retry (close writes nothing to the journal)

  const second = await start(t, e);
  assert.equal(second.dest.highWater('client-a', 's1'), a.length + b.length);
  delivered(await second.dest.write(batch(b, a.length)));
  assert.equal(await read(file), a + b);
  assert.equal(second.counter('duplicates'), 2);
});

test('review commit-fail: the retry of a batch whose COMMIT fdatasync failed is delivered once, after the hw is made durable', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 3);
  const { dest, counter } = await startFaulty(t, e, { fault: failOnce('journal-sync', 'commit') });
  retryableWith(await dest.write(batch(a, 0)), 'LS_FILE_WRITE');
  assert.equal(counter('errors'), 1);
  delivered(await dest.write(batch(a, 0)));
  delivered(await dest.write(batch(lines('a', 3, 4), a.length)));
  assert.equal(await read(join(e.base, 'web-1/app.log')), lines('a', 0, 4));
  assert.equal(counter('duplicates'), 3);
  // The retry's cycle compacted the broken journal first: the hw is in its snapshot.
  const r = replay(await readFile(journalPath(e.state, 'files')), 'j');
  assert.equal(r.torn, undefined);
  assert.equal(r.pending, undefined);
  assert.equal(r.streams.get('client-a\u0000s1')?.hw, lines('a', 0, 4).length);
});

test('review commit-fail: a COMMIT that cannot be written at all is rolled back; the resend is written once, before or after a restart', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 2);
  const b = lines('b', 0, 2);
  const file = join(e.base, 'web-1/app.log');
  const first = await startFaulty(t, e, { fault: failOnce('journal-write', 'commit', 2) });
  delivered(await first.dest.write(batch(a, 0)));
  retryableWith(await first.dest.write(batch(b, a.length)), 'LS_FILE_WRITE');
  assert.equal(await read(file), a, 'rolled back: no COMMIT covers these lines');
  assert.equal(first.dest.highWater('client-a', 's1'), a.length);
  await first.dest.close();

  const second = await start(t, e);
  assert.equal(second.dest.highWater('client-a', 's1'), a.length);
  delivered(await second.dest.write(batch(b, a.length)));
  assert.equal(await read(file), a + b);
});

test('review commit-fail: a rollback that failed is finished before the journal is compacted, so a restart still cuts the uncommitted lines', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 2);
  const b = lines('b', 0, 2);
  const file = join(e.base, 'web-1/app.log');
  let cycles = 0;
  let truncateFails = true;
  const first = await startFaulty(
    t,
    e,
    {
      // Every cycle compacts the journal after it (threshold 1 byte).
      compactBytes: 1,
      afterData: async () => {
        if (++cycles === 2) throw Object.assign(new Error('injected data fdatasync failure'), { code: 'EIO' });
      },
      fault: (step) => {
        if (step === 'truncate' && truncateFails) throw Object.assign(new Error('injected truncate failure'), { code: 'EIO' });
      },
    },
    {},
  );
  delivered(await first.dest.write(batch(a, 0)));
  retryableWith(await first.dest.write(batch(b, a.length)), 'LS_FILE_WRITE');
  assert.equal(await read(file), a + b, 'the rollback failed: the uncommitted lines are still there');
  // The compaction after that cycle must not drop the BEGIN that names the size to cut back to.
  const r = replay(await readFile(journalPath(e.state, 'files')), 'j');
  assert.deepEqual(
    r.pending?.files.map((f) => [f.p, f.size]),
    [[file, a.length]],
  );
  await first.dest.close(); // the process dies before the file can be cut back
  truncateFails = false;

  const second = await start(t, e);
  assert.equal(second.counter('recoveries'), 1);
  assert.equal(await read(file), a);
  delivered(await second.dest.write(batch(b, a.length)));
  assert.equal(await read(file), a + b);
});

test('review hw-growth: past max_tracked_streams the least recently written stream is forgotten, counted and logged; a restart keeps the bound', async (t) => {
  const e = await env(t);
  const first = await start(t, e, { max_tracked_streams: 3 });
  for (const s of ['s0', 's1', 's2']) delivered(await first.dest.write(batch('x\n', 0, meta(), s)));
  delivered(await first.dest.write(batch('y\n', 2, meta(), 's0'))); // s0 is now the most recent
  delivered(await first.dest.write(batch('x\n', 0, meta(), 's3')));
  assert.equal(first.dest.highWater('client-a', 's1'), undefined, 's1 was the least recently written');
  for (const s of ['s0', 's2', 's3']) assert.notEqual(first.dest.highWater('client-a', s), undefined, s);
  assert.equal(first.counter('streams_evicted'), 1);
  assert.ok(first.ctx.logs.some((l) => l.level === 'warn' && (l.obj as { event?: string }).event === 'file_dest_streams_evicted'));
  await first.dest.close();

  // The journal still holds s1's COMMIT: replay re-adds it and the bound evicts it again, by age.
  const second = await start(t, e, { max_tracked_streams: 3 });
  assert.equal(second.dest.highWater('client-a', 's1'), undefined);
  assert.equal(second.dest.highWater('client-a', 's0'), 4);
  assert.equal(second.counter('streams_evicted'), 1);
  const r = replay(await readFile(journalPath(e.state, 'files')), 'j');
  assert.equal(r.streams.size, 3);
  // A lower bound at a restart (reload) trims the oldest first.
  await second.dest.close();
  const third = await start(t, e, { max_tracked_streams: 1 });
  assert.equal(third.dest.highWater('client-a', 's3'), 2);
  assert.equal(third.dest.highWater('client-a', 's0'), undefined);
});

test('perf S1: a cycle writes its own BEGIN when it writes to a file the COMMIT before did not declare, or follows a failed cycle', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 2);
  const b = lines('b', 0, 2);
  const c = lines('c', 0, 2);
  const d = lines('d', 0, 2);
  const x = lines('x', 0, 2);
  let cycles = 0;
  const queued: Promise<Outcome>[] = [];
  const { dest } = await startFaulty(t, e, {
    afterData: async () => {
      cycles++;
      // Queued while cycles 1, 3 and 4 run: their COMMITs declare the next cycle (cycle 4's never comes).
      if (cycles === 1) queued.push(dest.write(batch(b, 0, meta('web-2'), 's2'))); // another file
      if (cycles === 3) queued.push(dest.write(batch(c, a.length, meta(), 's1')));
      if (cycles === 4) {
        queued.push(dest.write(batch(d, a.length + c.length, meta(), 's1')));
        throw Object.assign(new Error('injected data fdatasync failure'), { code: 'EIO' }); // cycle 4 (c) fails
      }
    },
  });
  delivered(await dest.write(batch(a, 0)));
  delivered(await queued[0]!);
  delivered(await dest.write(batch(x, 0, meta(), 's3'))); // cycle 3: declares cycle 4 (web-1)
  retryableWith(await queued[1]!, 'LS_FILE_WRITE'); // cycle 4: no BEGIN, failed, rolled back, retired
  retryableWith(await queued[2]!, 'LS_FILE_WRITE'); // parked behind c, then retried (its stream failed)
  delivered(await dest.write(batch(c + d, a.length))); // cycle 5 (or later): after a failure, a BEGIN of its own
  const journal = await readFile(journalPath(e.state, 'files'));
  const types = journalTypes(journal).filter((x) => x !== 'snap' && x !== 'marks');
  // The 7th record: the empty COMMIT that retires cycle 4 (its files are back at the declared sizes).
  assert.deepEqual(types, ['begin', 'commit', 'begin', 'commit', 'begin', 'commit', 'commit', 'begin', 'commit'], String(types));
  assert.equal(replay(journal, 'j').pending, undefined);
  assert.equal(await read(join(e.base, 'web-1/app.log')), a + x + c + d);
  assert.equal(await read(join(e.base, 'web-2/app.log')), b);
});

test('perf S1: with fsync the data files are written through O_DSYNC handles (durable when the write returns); without, plain ones', async (t) => {
  for (const fsync of [true, false]) {
    const e = await env(t);
    const { dest } = await start(t, e, { fsync });
    delivered(await dest.write(batch(lines('a', 0, 3), 0)));
    const file = join(e.base, 'web-1/app.log');
    const flags = await openFlags(file);
    assert.deepEqual(
      flags.map((f) => (f & constants.O_DSYNC) !== 0),
      [fsync],
    );
  }
});
