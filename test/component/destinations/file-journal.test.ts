// The file destination's journal protocol against what can go wrong around it: two paths that
// name one file, a declared cycle that never writes, another writer on the same file, fsync
// turned on by a reload, files changed between cycles, a compaction between cycles, one file's
// write failing while another's is still in flight. The journal's records and the data writes are
// traced through the writer's fault seam; fs calls are observed on node's FileHandle
// (test/helpers/fh-spy.ts).
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, stat, symlink, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Outcome } from '../../../src/core/outcome.js';
import { FileDestination, fileDestinationOptions, journalPath } from '../../../src/destinations/file/index.js';
import { replay } from '../../../src/destinations/file/journal.js';
import { lineRuns, setLineRuns } from '../../../src/destinations/file/line-runs.js';
import { testContext } from '../../helpers/context.js';
import { recordCalls } from '../../helpers/fh-spy.js';
import {
  batch,
  delivered,
  env,
  failOnce,
  journalRecords,
  lines,
  meta,
  read,
  retryableWith,
  start,
  startFaulty,
  type Env,
  type Hooks,
} from '../../helpers/file-dest.js';
import { sleep, waitFor } from '../../helpers/wait.js';

/** The journal records appended, as "type" or "type+sync" (made durable), from the fault seam. */
function tracer(): { trace: string[]; fault: NonNullable<Hooks['fault']> } {
  const trace: string[] = [];
  return {
    trace,
    fault: (step, what) => {
      if (step === 'journal-write') trace.push(what);
      if (step === 'journal-sync') trace[trace.length - 1] += '+sync';
    },
  };
}

const journalOf = (e: Env, id = 'files'): Promise<Buffer> => readFile(journalPath(e.state, id));

/**
 * A destination (fsync on unless `opts` says otherwise) whose cycle `n` queues `queue[n]` while it
 * runs (after its data, before its COMMIT: that COMMIT finds it queued and declares the next
 * cycle). `also` runs there too.
 */
async function startQueueing(t: TestContext, e: Env, queue: Map<number, () => Promise<Outcome>>, opts: Record<string, unknown> = {}, also?: (cycle: number) => Promise<void>) {
  const tr = tracer();
  const queued: Promise<Outcome>[] = [];
  let cycles = 0;
  const hooks: Hooks = {
    fault: tr.fault,
    afterData: async () => {
      cycles++;
      const q = queue.get(cycles);
      if (q !== undefined) queued.push(q());
      await also?.(cycles);
    },
  };
  const started = await startFaulty(t, e, hooks, opts);
  return { ...started, queued, trace: tr.trace };
}

test('journal: two paths naming one file (a symlinked directory) are one file of the cycle; a restart after a declared cycle that wrote only duplicates cuts nothing', async (t) => {
  const e = await env(t);
  await mkdir(join(e.base, 'real'), { recursive: true });
  await symlink('real', join(e.base, 'alias'));
  const a = lines('a', 0, 3);
  const b = lines('b', 0, 2);
  const queue = new Map<number, () => Promise<Outcome>>();
  const first = await startQueueing(t, e, queue, { path: '${host}/app.log' });
  // Cycle 2: a resend of a (only duplicates), queued while cycle 1 runs.
  queue.set(1, () => first.dest.write(batch(a, 0, meta('real'), 's1')));
  const [oa, ob] = await Promise.all([first.dest.write(batch(a, 0, meta('real'), 's1')), first.dest.write(batch(b, 0, meta('alias'), 's2'))]);
  delivered(oa);
  delivered(ob);
  delivered(await first.queued[0]!);
  const file = join(e.base, 'real/app.log');
  const size = (await stat(file)).size;
  assert.equal(size, a.length + b.length);

  const recs = journalRecords(await journalOf(e));
  const commits = recs.filter((r) => r.t === 'commit' && r.files.length > 0);
  assert.equal(commits.length, 1, JSON.stringify(recs));
  const c = commits[0]!;
  assert.ok(c.t === 'commit' && c.next === 1, 'the COMMIT declared the next cycle');
  // One mark for the one file, at its true size (two marks would say two sizes, one of them short).
  assert.deepEqual(
    c.t === 'commit' && c.files.map((f) => f.size),
    [size],
  );
  // The declared cycle wrote nothing: it is retired, nothing is left pending.
  assert.equal(recs.at(-1)?.t, 'commit');
  assert.equal(replay(await journalOf(e), 'j').pending, undefined);
  assert.deepEqual(first.trace, ['begin+sync', 'commit+sync', 'commit+sync']);

  await first.dest.close();
  const second = await start(t, e, { path: '${host}/app.log' });
  assert.equal(second.counter('recoveries') ?? 0, 0);
  assert.equal((await stat(file)).size, size, 'a restart cut nothing acknowledged');
});

test('journal: a declared cycle that wrote only duplicates leaves nothing pending: what another destination appends to the file later survives a restart', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 3);
  const y = lines('y', 0, 4);
  const queue = new Map<number, () => Promise<Outcome>>();
  const first = await startQueueing(t, e, queue, { path: 'shared.log' });
  queue.set(1, () => first.dest.write(batch(a, 0)));
  delivered(await first.dest.write(batch(a, 0)));
  delivered(await first.queued[0]!);
  // Another destination (its own journal) appends to the same file.
  const other = await start(t, e, { path: 'shared.log' }, 'other');
  delivered(await other.dest.write(batch(y, 0, meta(), 'sy')));
  const file = join(e.base, 'shared.log');
  assert.equal(await read(file), a + y);
  assert.equal(replay(await journalOf(e), 'j').pending, undefined, 'a crash now would cut nothing');

  // The first destination stops (a crash would do the same: it writes nothing more) and starts again.
  await first.dest.close();
  const again = await start(t, e, { path: 'shared.log' });
  assert.equal(again.counter('recoveries') ?? 0, 0);
  assert.equal(await read(file), a + y, "the other destination's lines are still there");
});

test('journal: after a reload turned fsync on, the cycle an unsynced COMMIT declared writes a synced BEGIN of its own, and fdatasyncs the data file it holds open without O_DSYNC', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 3);
  const b = lines('b', 0, 2);
  const queue = new Map<number, () => Promise<Outcome>>();
  const old = await startQueueing(t, e, queue, { path: 'app.log', fsync: false });
  // The reload: a new instance of the same destination, with fsync, shares the writer.
  const reloaded = await start(t, e, { path: 'app.log', fsync: true });
  queue.set(1, () => reloaded.dest.write(batch(b, a.length)));
  const datasyncs = await recordCalls(t, 'datasync');
  delivered(await old.dest.write(batch(a, 0)));
  delivered(await old.queued[0]!);
  // Cycle 1 (no fsync) declared cycle 2 unsynced; cycle 2 syncs, so it may not rely on that.
  assert.deepEqual(old.trace, ['begin', 'commit', 'begin+sync', 'commit+sync']);
  const file = join(e.base, 'app.log');
  assert.ok(datasyncs.includes(file), `the data file was fdatasync'd (calls: ${datasyncs.join(', ')})`);
  assert.equal(await read(file), a + b);
});

test('journal: with fsync the data files and the journal are O_DSYNC: no fdatasync at all', async (t) => {
  const e = await env(t);
  const { dest } = await start(t, e, { path: '${host}.log', fsync: true });
  delivered(await dest.write(batch('warm\n', 0, meta('h0'), 's0'))); // opens the files
  const datasyncs = await recordCalls(t, 'datasync');
  for (let i = 0; i < 3; i++) {
    await Promise.all([dest.write(batch(`x${i}\n`, 3 * i, meta('h1'), 's1')), dest.write(batch(`y${i}\n`, 3 * i, meta('h2'), 's2'))]).then((os) => os.forEach(delivered));
  }
  assert.deepEqual(datasyncs, []);
  assert.equal(await read(join(e.base, 'h1.log')), 'x0\nx1\nx2\n');
});

for (const change of ['size', 'identity'] as const) {
  test(`journal: a declared file whose ${change} changed before the declared cycle gets a BEGIN of that cycle`, async (t) => {
    const e = await env(t);
    const a = lines('a', 0, 3);
    const b = lines('b', 0, 2);
    const file = join(e.base, 'app.log');
    const queue = new Map<number, () => Promise<Outcome>>();
    const first = await startQueueing(t, e, queue, { path: 'app.log' }, async (cycle) => {
      if (cycle !== 1) return;
      if (change === 'size') {
        await appendFile(file, 'an operator\n');
      } else {
        // Rotated away, and a new file of exactly the same size in its place.
        await rename(file, `${file}.1`);
        await writeFile(file, 'z'.repeat(a.length));
      }
    });
    queue.set(1, () => first.dest.write(batch(b, a.length)));
    delivered(await first.dest.write(batch(a, 0)));
    delivered(await first.queued[0]!);
    assert.deepEqual(first.trace, ['begin+sync', 'commit+sync', 'begin+sync', 'commit+sync']);
    if (change === 'size') {
      assert.equal(await read(file), a + 'an operator\n' + b);
    } else {
      assert.equal(await read(`${file}.1`), a);
      assert.equal(await read(file), 'z'.repeat(a.length) + b);
    }
  });
}

/**
 * S4's case of the declaration: cycle 1 writes a to web-1 and b to web-2 (both files open from then
 * on); cycle 2 writes c to web-1, and after its data (`duringCycle2` first) d for web-2 is queued,
 * so cycle 2's COMMIT declares cycle 3, d's, which writes a file cycle 2 did not. `fault` sees each
 * fs step after the trace has recorded it. Returns once c is delivered; `queued` is d's outcome.
 */
async function declaringOtherFile(t: TestContext, e: Env, o: { duringCycle2?: () => Promise<void>; fault?: NonNullable<Hooks['fault']> } = {}) {
  const l = { a: lines('a', 0, 3), b: lines('b', 0, 2), c: lines('c', 0, 2), d: lines('d', 0, 4) };
  const tr = tracer();
  let cycles = 0;
  let queued: Promise<Outcome> | undefined;
  const started = await startFaulty(
    t,
    e,
    {
      afterData: async () => {
        if (++cycles !== 2) return;
        await o.duringCycle2?.();
        queued = started.dest.write(batch(l.d, l.b.length, meta('web-2'), 's2'));
      },
      fault: async (step, what) => {
        await tr.fault(step, what);
        await o.fault?.(step, what);
      },
    },
    { path: '${host}/app.log' },
  );
  const { dest } = started;
  await Promise.all([dest.write(batch(l.a, 0, meta('web-1'), 's1')), dest.write(batch(l.b, 0, meta('web-2'), 's2'))]).then((os) => os.forEach(delivered));
  delivered(await dest.write(batch(l.c, l.a.length, meta('web-1'), 's1')));
  return { ...started, ...l, trace: tr.trace, queued: queued!, web1: join(e.base, 'web-1/app.log'), web2: join(e.base, 'web-2/app.log') };
}

test('perf S4: a COMMIT declares the files of the batches queued for the next cycle too, at their sizes now: that cycle writes no BEGIN, and a restart during it cuts them back', async (t) => {
  const e = await env(t);
  const eio = (what: string) => Object.assign(new Error(`injected ${what} failure`), { code: 'EIO' });
  let commits = 0;
  const first = await declaringOtherFile(t, e, {
    fault: (step, what) => {
      if (step === 'journal-write' && what === 'commit' && ++commits === 3) throw eio('COMMIT write'); // cycle 3 never commits…
      if (step === 'truncate') throw eio('truncate'); // …and the process dies before it is cut back
    },
  });
  const { a, b, c, d, web1, web2 } = first;
  retryableWith(await first.queued, 'LS_FILE_WRITE');
  // Cycle 1: BEGIN; cycle 2: BEGIN (nothing was queued during cycle 1), its COMMIT declares cycle 3,
  // which writes web-2 only, a file cycle 2 did not write: no BEGIN of its own.
  assert.deepEqual(first.trace, ['begin+sync', 'commit+sync', 'begin+sync', 'commit+sync', 'commit']);
  const declaring = journalRecords(await journalOf(e)).filter((r) => r.t === 'commit')[1]!;
  assert.ok(declaring.t === 'commit' && declaring.next === 1);
  assert.deepEqual(
    declaring.files.map((f) => [f.p, f.size]),
    [
      [web1, a.length + c.length],
      [web2, b.length],
    ],
  );
  assert.equal(await read(web2), b + d, 'the rollback failed: the uncommitted lines are still there');
  await first.dest.close();

  const second = await start(t, e, { path: '${host}/app.log' });
  assert.equal(second.counter('recoveries'), 1);
  assert.equal(await read(web2), b, 'cut back to the size the COMMIT declared');
  assert.equal(await read(web1), a + c);
  delivered(await second.dest.write(batch(d, b.length, meta('web-2'), 's2')));
  assert.equal(await read(web2), b + d);
});

test('perf S4: the new file of a batch queued while a cycle runs is created then; that COMMIT declares it, its cycle writes no BEGIN, and a restart during that cycle cuts it back', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 3);
  const b = lines('b', 0, 2);
  const web2 = join(e.base, 'web-2/app.log');
  const eio = (what: string) => Object.assign(new Error(`injected ${what} failure`), { code: 'EIO' });
  const tr = tracer();
  let cycles = 0;
  let commits = 0;
  let queued: Promise<Outcome> | undefined;
  const first = await startFaulty(
    t,
    e,
    {
      afterData: async () => {
        if (++cycles !== 1) return;
        queued = first.dest.write(batch(b, 0, meta('web-2'), 's2'));
        // Cycle 1 is still running (its COMMIT is next): web-2's file is opened ahead of its cycle.
        await waitFor('web-2/app.log created while cycle 1 runs', () => stat(web2).then(() => true));
        await sleep(100); // its handle is registered once the open returns
      },
      fault: async (step, what) => {
        await tr.fault(step, what);
        if (step === 'journal-write' && what === 'commit' && ++commits === 2) throw eio('COMMIT write'); // cycle 2 never commits…
        if (step === 'truncate') throw eio('truncate'); // …and the process dies before it is cut back
      },
    },
    { path: '${host}/app.log' },
  );
  delivered(await first.dest.write(batch(a, 0, meta('web-1'), 's1')));
  retryableWith(await queued!, 'LS_FILE_WRITE');
  assert.deepEqual(tr.trace, ['begin+sync', 'commit+sync', 'commit']);
  const declaring = journalRecords(await journalOf(e)).filter((r) => r.t === 'commit')[0]!;
  assert.ok(declaring.t === 'commit' && declaring.next === 1);
  assert.deepEqual(
    declaring.files.map((f) => [f.p, f.size]),
    [
      [join(e.base, 'web-1/app.log'), a.length],
      [web2, 0],
    ],
  );
  assert.equal(await read(web2), b, 'the rollback failed: the uncommitted lines are still there');
  await first.dest.close();

  const second = await start(t, e, { path: '${host}/app.log' });
  assert.equal(second.counter('recoveries'), 1);
  assert.equal(await read(web2), '', 'cut back to the size the COMMIT declared');
  delivered(await second.dest.write(batch(b, 0, meta('web-2'), 's2')));
  assert.equal(await read(web2), b);
});

test('perf S4: a declared file the declaring cycle did not write, appended to by another writer before the declared cycle, gets a BEGIN of that cycle', async (t) => {
  const e = await env(t);
  let commits = 0;
  const r = await declaringOtherFile(t, e, {
    fault: async (step, what) => {
      // Cycle 2's COMMIT has declared web-2 at its size; an operator appends before cycle 3.
      if (step === 'journal-write' && what === 'commit' && ++commits === 2) await appendFile(join(e.base, 'web-2/app.log'), 'an operator\n');
    },
  });
  delivered(await r.queued);
  assert.deepEqual(r.trace, ['begin+sync', 'commit+sync', 'begin+sync', 'commit+sync', 'begin+sync', 'commit+sync']);
  assert.equal(await read(r.web2), r.b + 'an operator\n' + r.d);
});

test('perf S4: a queued file that cannot be statted when the COMMIT declares the next cycle (its directory became a file) leaves it to that cycle: the written lines are committed once', async (t) => {
  const e = await env(t);
  const r = await declaringOtherFile(t, e, {
    // web-2/app.log is open here (cycle 1 wrote it); its directory is replaced by a file.
    duringCycle2: async () => {
      await rm(join(e.base, 'web-2'), { recursive: true });
      await writeFile(join(e.base, 'web-2'), 'not a directory\n');
    },
  });
  retryableWith(await r.queued, 'LS_FILE_WRITE'); // web-2/app.log cannot be opened now
  delivered(await r.dest.write(batch(r.c, r.a.length, meta('web-1'), 's1'))); // a resend of c: a duplicate
  assert.equal(await read(r.web1), r.a + r.c);
});

test('journal: a compaction between the declaring COMMIT and its cycle drops the declaration: the cycle writes its own BEGIN', async (t) => {
  const e = await env(t);
  const a = lines('a', 0, 3);
  const b = lines('b', 0, 2);
  const tr = tracer();
  const queued: Promise<Outcome>[] = [];
  let cycles = 0;
  const { dest } = await startFaulty(t, e, {
    fault: tr.fault,
    compactBytes: 1, // after every cycle
    afterData: async () => {
      if (++cycles === 1) queued.push(dest.write(batch(b, a.length)));
    },
  });
  delivered(await dest.write(batch(a, 0)));
  delivered(await queued[0]!);
  assert.deepEqual(tr.trace, ['begin+sync', 'commit+sync', 'begin+sync', 'commit+sync']);
  assert.equal(await read(join(e.base, 'web-1/app.log')), a + b);
});

for (const writer of ['the pool job', 'FileHandle.write'] as const) {
  test(`journal: when one file's write fails, the cycle waits for its other files' writes before it cuts them back (${writer})`, async (t) => {
    // The pool job (line-runs.ts appendPlanned) writes where the native line writer is built,
    // FileHandle.write without it: the same cycle either way.
    if (writer === 'FileHandle.write') setLineRuns(null);
    else assert.ok(lineRuns() !== null, 'the line writer is built');
    t.after(() => setLineRuns(undefined));
    const e = await env(t);
    let failing = true;
    let writes = 0;
    const { dest } = await startFaulty(
      t,
      e,
      {
        fault: async (step, path) => {
          if (step !== 'data-write') return;
          writes++;
          if (failing && path.endsWith('/h1.log')) throw Object.assign(new Error('injected write failure'), { code: 'EIO' });
          if (failing && path.endsWith('/h2.log')) await sleep(100); // still in flight when h1's fails
        },
      },
      { path: '${host}.log', template: 'default' },
    );
    const x = lines('x', 0, 3);
    const y = lines('y', 0, 3);
    const outcomes = await Promise.all([dest.write(batch(x, 0, meta('h1'), 's1')), dest.write(batch(y, 0, meta('h2'), 's2'))]);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['retryable', 'retryable'],
    );
    assert.equal(writes, 2);
    await sleep(200); // a write the rollback did not wait for would land by now
    assert.equal(await read(join(e.base, 'h2.log')), '', 'h2.log is cut back to its size before the cycle');
    assert.equal(await read(join(e.base, 'h1.log')), '');
    assert.equal(replay(await journalOf(e), 'j').pending, undefined, 'the rolled back cycle is retired');

    failing = false;
    const again = await Promise.all([dest.write(batch(x, 0, meta('h1'), 's1')), dest.write(batch(y, 0, meta('h2'), 's2'))]);
    again.forEach(delivered);
    assert.match(await read(join(e.base, 'h1.log')), /^\S+ h1 \S+: x0\n\S+ h1 \S+: x1\n\S+ h1 \S+: x2\n$/);
    assert.match(await read(join(e.base, 'h2.log')), /^\S+ h2 \S+: y0\n\S+ h2 \S+: y1\n\S+ h2 \S+: y2\n$/);
  });
}

// ---- new files: one round trip to open, their directories synced alongside the data -----------

/** The journal records and directory syncs of a destination, in order, from the fault seam. */
function dirTracer(e: Env, fail?: { dir: string; times: number }) {
  const trace: string[] = [];
  let failures = 0;
  const fault: NonNullable<Hooks['fault']> = (step, what) => {
    if (step === 'journal-write') trace.push(what);
    if (step !== 'dir-sync') return;
    const rel = what === e.base ? 'out' : what.startsWith(e.base) ? `out${what.slice(e.base.length)}` : 'root';
    trace.push(`dir:${rel}`);
    if (fail !== undefined && what === join(e.base, fail.dir) && failures++ < fail.times) {
      throw Object.assign(new Error('injected directory fsync failure'), { code: 'EIO' });
    }
  };
  return { trace, fault };
}

/** The trace with each cycle's directory syncs sorted (they run at once, in any order). */
const sortedDirs = (trace: string[]): string[] => {
  const out: string[] = [];
  let dirs: string[] = [];
  for (const s of trace) {
    if (s.startsWith('dir:')) {
      dirs.push(s);
      continue;
    }
    out.push(...dirs.sort(), s);
    dirs = [];
  }
  return [...out, ...dirs.sort()];
};

test('new files: a syncing cycle syncs, before its COMMIT, the directory of each file it created and the parent of each directory, once per directory; and once per process each directory of a file it did not create', async (t) => {
  const e = await env(t);
  await mkdir(join(e.base, 'db-1'), { recursive: true });
  await writeFile(join(e.base, 'db-1/app.log'), 'old\n');
  const tr = dirTracer(e);
  const { dest } = await startFaulty(t, e, { fault: tr.fault });
  // A new directory: the file's directory, the new directory's parent (base_dir), and base_dir's
  // parent (first use by this process).
  delivered(await dest.write(batch(lines('a', 0, 2), 0)));
  assert.deepEqual(sortedDirs(tr.trace), ['begin', 'dir:out', 'dir:out/web-1', 'dir:root', 'commit']);
  // The same file again: nothing to sync.
  tr.trace.length = 0;
  delivered(await dest.write(batch(lines('a', 2, 4), lines('a', 0, 2).length)));
  assert.deepEqual(tr.trace, ['begin', 'commit']);
  // Three new files in one synced directory, written while a cycle runs (so the later ones share
  // a cycle): each cycle syncs the directory once, whatever the number of files it created.
  tr.trace.length = 0;
  const three = await Promise.all([
    dest.write(batch('x\n', 0, meta('web-1', 'db'), 's2')),
    dest.write(batch('y\n', 0, meta('web-1', 'cron'), 's3')),
    dest.write(batch('z\n', 0, meta('web-1', 'mail'), 's4')),
  ]);
  three.forEach(delivered);
  const cycles = tr.trace.filter((s) => s === 'commit').length;
  assert.ok(cycles < 3, `${cycles} cycles for 3 queued batches`);
  assert.deepEqual(
    sortedDirs(tr.trace).filter((s) => s !== 'begin'),
    Array.from({ length: cycles }, () => ['dir:out/web-1', 'commit']).flat(),
  );
  // A file that was there before: opened and appended to, not created; its directory is synced
  // once (its entry may predate a crash of the process that created it), then no more.
  tr.trace.length = 0;
  delivered(await dest.write(batch('new\n', 0, meta('db-1', 'app'), 's5')));
  assert.deepEqual(tr.trace, ['begin', 'dir:out/db-1', 'commit']);
  tr.trace.length = 0;
  delivered(await dest.write(batch('more\n', 4, meta('db-1', 'app'), 's5')));
  assert.deepEqual(tr.trace, ['begin', 'commit']);
  assert.equal(await read(join(e.base, 'db-1/app.log')), 'old\nnew\nmore\n');
  assert.equal(await read(join(e.base, 'web-1/app.log')), lines('a', 0, 4));
});

test('new files: a directory sync that fails fails its cycle (the lines are cut back, the batch retried); the next cycle syncs that directory again and commits the lines once', async (t) => {
  const e = await env(t);
  const tr = dirTracer(e, { dir: 'web-1', times: 1 });
  const { dest } = await startFaulty(t, e, { fault: tr.fault });
  const a = lines('a', 0, 3);
  const failed = await dest.write(batch(a, 0));
  retryableWith(failed, 'LS_FILE_WRITE');
  assert.match(String(failed.kind === 'retryable' && failed.error.message), new RegExp(`cannot fsync the directory ${join(e.base, 'web-1')}: EIO`));
  assert.equal(await read(join(e.base, 'web-1/app.log')), '', 'cut back: no COMMIT covers these lines');
  // The failed cycle is closed by an empty COMMIT (nothing stays pending).
  assert.deepEqual(sortedDirs(tr.trace), ['begin', 'dir:out', 'dir:out/web-1', 'dir:root', 'commit']);
  const last = journalRecords(await journalOf(e)).at(-1);
  assert.deepEqual(last?.t === 'commit' && last.files, []);
  // The file is open now (not created again), yet its directory is synced by the retry's cycle.
  tr.trace.length = 0;
  delivered(await dest.write(batch(a, 0)));
  assert.deepEqual(tr.trace.filter((s) => s !== 'begin'), ['dir:out/web-1', 'commit']);
  tr.trace.length = 0;
  delivered(await dest.write(batch(lines('a', 3, 5), a.length)));
  assert.deepEqual(tr.trace.filter((s) => s !== 'begin'), ['commit']);
  assert.equal(await read(join(e.base, 'web-1/app.log')), lines('a', 0, 5));
});

test('new files: without fsync no directory is synced; a file is created with its exact mode whatever the umask', async (t) => {
  const e = await env(t);
  const tr = dirTracer(e);
  const before = process.umask(0o077);
  t.after(() => process.umask(before));
  const { dest } = await startFaulty(t, e, { fault: tr.fault }, { fsync: false, file_mode: '0644', dir_mode: '0755' });
  delivered(await dest.write(batch('x\n', 0)));
  assert.deepEqual(tr.trace, ['begin', 'commit']);
  assert.equal((await stat(join(e.base, 'web-1/app.log'))).mode & 0o777, 0o644);
  assert.equal((await stat(join(e.base, 'web-1'))).mode & 0o777, 0o755);
});

test('new files (review): a file created by a cycle that failed before its data, then a restart: the next process syncs its directory before it commits lines in it', async (t) => {
  const e = await env(t);
  const first = await startFaulty(t, e, { fault: failOnce('journal-write', 'begin') });
  retryableWith(await first.dest.write(batch('a0\n', 0)), 'LS_FILE_WRITE');
  assert.equal(await read(join(e.base, 'web-1/app.log')), '', 'created, nothing written');
  await first.dest.close();
  const tr = dirTracer(e);
  const second = await startFaulty(t, e, { fault: tr.fault });
  delivered(await second.dest.write(batch('a0\n', 0)));
  assert.deepEqual(sortedDirs(tr.trace), ['begin', 'dir:out', 'dir:out/web-1', 'dir:root', 'commit']);
  assert.equal(await read(join(e.base, 'web-1/app.log')), 'a0\n');
});

test('new files (review): a second destination writing a file another created syncs its directory itself before its first COMMIT', async (t) => {
  const e = await env(t);
  const a = await startFaulty(t, e, {}, { path: 'shared.log' });
  delivered(await a.dest.write(batch('a\n', 0)));
  const tr = dirTracer(e);
  const b = new FileDestination(fileDestinationOptions.parse({ type: 'file', base_dir: e.base, template: 'raw', fsync: true, path: 'shared.log' }), { fault: tr.fault });
  await b.start(testContext({ id: 'other', stateDir: e.state, role: 'server' }));
  t.after(() => b.close());
  delivered(await b.write(batch('b\n', 0, meta(), 's9', 'client-b')));
  assert.deepEqual(sortedDirs(tr.trace), ['begin', 'dir:out', 'dir:root', 'commit']);
  assert.equal(await read(join(e.base, 'shared.log')), 'a\nb\n');
});

test('new files (review): a queued directory that is gone by its sync is dropped: cycles for other files go on', async (t) => {
  const e = await env(t);
  let beginFails = 1;
  const tr = dirTracer(e);
  const { dest } = await startFaulty(t, e, {
    fault: (step, what) => {
      if (step === 'journal-write' && what === 'begin' && beginFails-- > 0) throw Object.assign(new Error('injected'), { code: 'EIO' });
      return tr.fault(step, what);
    },
  });
  // web-1/app.log is created, its cycle fails before the data: web-1 stays queued. Then it goes.
  retryableWith(await dest.write(batch('a0\n', 0)), 'LS_FILE_WRITE');
  await rm(join(e.base, 'web-1'), { recursive: true });
  for (let i = 0; i < 2; i++) delivered(await dest.write(batch(`b${i}\n`, 3 * i, meta('web-2'), 's2')));
  assert.equal(await read(join(e.base, 'web-2/app.log')), 'b0\nb1\n');
  assert.equal(tr.trace.filter((s) => s === 'dir:out/web-1').length, 1, 'tried once, then dropped');
});

test('new files (review): after a reload turns fsync on, the first syncing cycle syncs the directory of a file created without fsync', async (t) => {
  const e = await env(t);
  const tr = dirTracer(e);
  const old = await startFaulty(t, e, { fault: tr.fault }, { path: 'd/app.log', fsync: false });
  delivered(await old.dest.write(batch('a\n', 0)));
  assert.deepEqual(tr.trace, ['begin', 'commit']);
  // The reload: a new instance of the same destination, with fsync, shares the writer.
  tr.trace.length = 0;
  const reloaded = await start(t, e, { path: 'd/app.log', fsync: true });
  delivered(await reloaded.dest.write(batch('b\n', 2)));
  assert.deepEqual(sortedDirs(tr.trace), ['begin', 'dir:out', 'dir:out/d', 'dir:root', 'commit']);
  assert.equal(await read(join(e.base, 'd/app.log')), 'a\nb\n');
});
