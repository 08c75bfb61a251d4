// Component tests of the disk spool (src/spool) on real tmp dirs: round trip of real batches,
// group commit, crash recovery in a child process killed with SIGKILL, cursor persistence and
// replay, segment rollover and deletion, both full policies, the in-flight memory bound, and a
// pipeline with a spooled syslog-tcp source.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Batch, indexLines } from '../../src/core/batch.js';
import type { Outcome } from '../../src/core/outcome.js';
import { DELIVERED } from '../../src/core/outcome.js';
import { RecordFields } from '../../src/core/records.js';
import { loadConfigText } from '../../src/config/index.js';
import { Pipeline } from '../../src/pipeline/build.js';
import { compact } from '../../src/core/batch.js';
import { Counters } from '../../src/observe/metrics.js';
import { CURSOR_INTERVAL_MS, MAX_IN_FLIGHT_BATCHES, SpoolReader } from '../../src/spool/reader.js';
import { recordHeader, SEGMENT_HEADER_BYTES } from '../../src/spool/format.js';
import { Spool, spoolOptions, type SpoolOptions } from '../../src/spool/index.js';
import { SPOOL_META, spoolBatch, spoolText } from '../fixtures/spool-batches.js';
import { memoryLogger, testContext, type LogEntry } from '../helpers/context.js';
import { openFlags } from '../helpers/fd-flags.js';
import { recordCalls, spyFileHandle } from '../helpers/fh-spy.js';
import { tmpDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';

const CHILD = fileURLToPath(new URL('../fixtures/spool-crash-child.ts', import.meta.url));

/** The crash child (a spool writing as `args` say) with its output so far; killed after the test. */
function crashChild(t: TestContext, args: Record<string, unknown>) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => proc.kill('SIGKILL'));
  const child = {
    proc,
    out: '',
    err: '',
    /** SIGKILL, then its exit. */
    kill: async (): Promise<void> => {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    },
  };
  proc.stdout.on('data', (d: Buffer) => (child.out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (child.err += d.toString()));
  return child;
}

type Ctx = ReturnType<typeof testContext>;

async function openSpool(t: TestContext, dir: string, opts: Partial<SpoolOptions> = {}, ctx?: Ctx): Promise<{ spool: Spool; ctx: Ctx }> {
  const c = ctx ?? testContext({ id: 'spool', stateDir: dir });
  const spool = await Spool.open(dir, spoolOptions.parse(opts), c.telemetry);
  t.after(() => spool.stop(1000));
  return { spool, ctx: c };
}

/** A reader push that records every batch and settles it delivered. */
function collector(): { batches: Batch[]; push: (b: Batch) => Promise<void> } {
  const batches: Batch[] = [];
  return {
    batches,
    push: async (b) => {
      batches.push(b);
      b.settle(DELIVERED);
    },
  };
}

function sameBatch(got: Batch, want: Batch): void {
  assert.deepEqual(got.pos, want.pos);
  assert.deepEqual(got.meta, want.meta);
  assert.ok(got.data.equals(want.data), 'same bytes');
  assert.deepEqual([...got.ends], [...want.ends]);
  assert.equal(got.endOffset, want.endOffset);
  assert.deepEqual(got.recordOffsets === undefined ? undefined : [...got.recordOffsets], want.recordOffsets === undefined ? undefined : [...want.recordOffsets]);
}

function events(logs: LogEntry[], name: string): Record<string, unknown>[] {
  return logs.filter((l) => (l.obj as { event?: string }).event === name).map((l) => l.obj as Record<string, unknown>);
}

async function segFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

async function appendMany(spool: Spool, stream: string, n: number, from = 0): Promise<Batch[]> {
  const out: Batch[] = [];
  let offset = 0;
  for (let i = 0; i < from + n; i++) {
    const b = spoolBatch(stream, offset, i);
    if (i >= from) {
      await spool.append(b);
      out.push(b);
    }
    offset = b.endOffset;
  }
  return out;
}

test('batches come back from the spool with their identity: plain, syslog, compacted, in order', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir);
  const plain = spoolBatch('s1', 1000, 3);
  const sysData = Buffer.from('<34>1 2026-01-02T03:04:05Z host-a su - ID47 - message one\n<13>Jan  2 03:04:05 host-b app[1]: two\n');
  const fields = new RecordFields(2);
  const syslog = new Batch(sysData, indexLines(sysData), { ...SPOOL_META, format: 'syslog' }, { origin: 'relay-x', stream: 'udp1', offset: 77 }, { fields });
  const whole = spoolBatch('s2', 5000, 7);
  const mask = new Uint8Array(whole.count);
  mask[1] = 1;
  mask[4] = 1;
  mask[7] = 1;
  const compacted = compact(whole, mask)!;
  assert.ok(compacted.recordOffsets !== undefined);
  const empty = new Batch(Buffer.alloc(0), new Uint32Array(0), SPOOL_META, { origin: 'o', stream: 's3', offset: 10 }, { endOffset: 42 });
  const want = [plain, syslog, compacted, empty];
  const outcomes: Promise<Outcome>[] = want.map((b) => b.settled);
  for (const b of want) await spool.append(b);
  for (const o of await Promise.all(outcomes)) assert.equal(o.kind, 'delivered', 'appended batches settle delivered');
  const c = collector();
  spool.start(c.push);
  await waitFor('4 batches read back', () => c.batches.length === 4, 5000);
  c.batches.forEach((b, i) => sameBatch(b, want[i]!));
  assert.equal(c.batches[1]!.meta.format, 'syslog');
  assert.equal(spool.stats.appendedRecords, plain.count + 2 + 3 + 0);
});

test('group commit: one synced write covers every append waiting for it', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { fsync: true });
  const batches = Array.from({ length: 300 }, (_, i) => spoolBatch(`s${i % 10}`, i * 1000, i));
  await Promise.all(batches.map((b) => spool.append(b)));
  for (const b of batches) assert.equal((await b.settled).kind, 'delivered');
  const { syncs, appendedBatches } = spool.stats;
  assert.equal(appendedBatches, 300);
  assert.ok(syncs >= 1 && syncs <= 30, `300 concurrent appends took ${syncs} syncs`);
});

test('perf S1: with fsync the open segment is written through an O_DSYNC handle (a group is durable when its write returns); without, a plain one', async (t) => {
  for (const opts of [{ fsync: true }, { fsync: false }, { fsync: false, fsync_interval_ms: 100 }]) {
    const dir = await tmpDir(t);
    const { spool } = await openSpool(t, dir, opts);
    const b = spoolBatch('s', 0, 0);
    await spool.append(b);
    const segs = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
    assert.equal(segs.length, 1, String(segs));
    const flags = await openFlags(join(dir, segs[0]!));
    assert.deepEqual(
      flags.map((f) => (f & constants.O_DSYNC) !== 0),
      [opts.fsync],
      JSON.stringify(opts),
    );
  }
});

test('fsync: false with fsync_interval_ms: batches count as received once written; the segment is synced within the interval, once per quiet spell', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { fsync: false, fsync_interval_ms: 100 });
  const batches = Array.from({ length: 50 }, (_, i) => spoolBatch('s', i * 1000, i));
  for (const b of batches) await spool.append(b);
  for (const b of batches) assert.equal((await b.settled).kind, 'delivered');
  assert.equal(spool.stats.syncs, 0, 'not synced before counting as received');
  await waitFor('synced within the interval', () => spool.stats.syncs === 1, 2000);
  await sleep(300);
  assert.equal(spool.stats.syncs, 1, 'nothing new written: no further sync');
  await spool.append(spoolBatch('s', 50_000, 50));
  await waitFor('the new write synced too', () => spool.stats.syncs === 2, 2000);
  // Without an interval, fsync: false never syncs.
  const other = await openSpool(t, await tmpDir(t), { fsync: false });
  for (let i = 0; i < 5; i++) await other.spool.append(spoolBatch('s', i * 1000, i));
  await sleep(200);
  assert.equal(other.spool.stats.syncs, 0);
});

test('fsync_interval_ms with fsync: true is a config error naming the key', () => {
  const r = spoolOptions.safeParse({ fsync: true, fsync_interval_ms: 500 });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')), ['fsync_interval_ms']);
});

test('segments roll at segment_bytes and are deleted once every batch in them is delivered', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { segment_bytes: 4096, max_bytes: 1024 * 1024 });
  const want = await appendMany(spool, 's', 60);
  const before = await segFiles(dir);
  assert.ok(before.length >= 5, `${before.length} segments`);
  const c = collector();
  spool.start(c.push);
  await waitFor('all read back', () => c.batches.length === 60, 5000);
  c.batches.forEach((b, i) => sameBatch(b, want[i]!));
  // Every sealed segment goes once the cursor is persisted past it; only the open one stays.
  await waitFor('consumed segments deleted', async () => (await segFiles(dir)).length === 1, 3000);
  assert.equal(spool.stats.segments, 1);
  assert.equal(spool.stats.backlogBytes, 0);
  await spool.stop(1000);
  assert.deepEqual(await segFiles(dir), [], 'the last segment goes at stop once consumed');
  const cursor = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as { segment: number };
  assert.equal(cursor.segment, Number(before[before.length - 1]!.slice(0, 12)));
  // A restart finds nothing to replay, and new segments continue the numbering.
  const again = await openSpool(t, dir);
  const c2 = collector();
  again.spool.start(c2.push);
  const more = await appendMany(again.spool, 's', 1, 60);
  await waitFor('the new batch', () => c2.batches.length === 1, 3000);
  sameBatch(c2.batches[0]!, more[0]!);
  assert.ok(Number((await segFiles(dir))[0]!.slice(0, 12)) > cursor.segment);
});

test('the cursor is written within CURSOR_INTERVAL_MS of a move, and an idle spool wakes for nothing', async (t) => {
  const dir = await tmpDir(t);
  const persists = t.mock.method(SpoolReader.prototype, 'persistSoon');
  const { spool } = await openSpool(t, dir);
  const cursorOffset = async (): Promise<number> => {
    const text = await readFile(join(dir, 'cursor.json'), 'utf8').catch(() => '{"offset":-1}');
    return (JSON.parse(text) as { offset: number }).offset;
  };
  const c = collector();
  spool.start(c.push);
  await appendMany(spool, 's', 5);
  await waitFor('5 delivered', () => c.batches.length === 5, 3000);
  const end = (await stat(join(dir, (await segFiles(dir))[0]!))).size;
  await waitFor('the cursor written past the 5 batches (no stop)', async () => (await cursorOffset()) === end, 4 * CURSOR_INTERVAL_MS);
  // Nothing moves: no timer fires, no persist runs (a ticking interval would have run 5 times).
  await sleep(100);
  const quiet = persists.mock.callCount();
  await sleep(5 * CURSOR_INTERVAL_MS);
  assert.equal(persists.mock.callCount(), quiet, 'no persist while idle');
  // A new batch moves the cursor again: written again soon.
  await appendMany(spool, 's', 1, 5);
  await waitFor('6 delivered', () => c.batches.length === 6, 3000);
  const end2 = (await stat(join(dir, (await segFiles(dir))[0]!))).size;
  assert.ok(end2 > end);
  await waitFor('the cursor written past the 6th batch', async () => (await cursorOffset()) === end2, 4 * CURSOR_INTERVAL_MS);
});

test('a record the cursor passes without a settlement (it does not decode) is persisted too, while idle', async (t) => {
  const dir = await tmpDir(t);
  const first = await openSpool(t, dir);
  await first.spool.append(spoolBatch('s', 0, 0));
  await first.spool.stop(100);
  const seg = join(dir, (await segFiles(dir))[0]!);
  const endA = (await stat(seg)).size;
  const garbage = Buffer.alloc(64, 0xee); // checksummed, but not a ship BATCH body
  await appendFile(seg, Buffer.concat([recordHeader(garbage), garbage]));
  const endB = (await stat(seg)).size;
  const { spool } = await openSpool(t, dir);
  const cursorOffset = async (): Promise<number> =>
    (JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8').catch(() => '{"offset":-1}')) as { offset: number }).offset;
  let release!: () => void;
  const got: Batch[] = [];
  // A settles at once but its push returns later (backpressure): the reader reaches B after the
  // persist that wrote A's end, with nothing else left to arm a timer.
  spool.start((b) => {
    got.push(b);
    b.settle(DELIVERED);
    return new Promise<void>((r) => (release = r));
  });
  await waitFor('A pushed', () => got.length === 1, 3000);
  await waitFor('the cursor past A', async () => (await cursorOffset()) === endA, 4 * CURSOR_INTERVAL_MS);
  await sleep(2 * CURSOR_INTERVAL_MS);
  release();
  await waitFor('the cursor past the undecodable record', async () => (await cursorOffset()) === endB, 4 * CURSOR_INTERVAL_MS);
});

test('a failed append: the group is refused, its partial bytes cut (and the cut synced), later appends go on', async (t) => {
  const dir = await tmpDir(t);
  let failNext = false;
  // The write reaches the disk, then fails: as an ENOSPC after part of a group would.
  await spyFileHandle(t, 'writev', async (path, call) => {
    if (!failNext || !path.endsWith('.seg')) return call();
    failNext = false;
    await call();
    throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  });
  // A slow cut: were the appends refused before it, the size below would still be the uncut one.
  await spyFileHandle(t, 'truncate', async (path, call) => {
    if (path.endsWith('.seg')) await sleep(50);
    return call();
  });
  const synced = await recordCalls(t, 'datasync');
  const { spool, ctx } = await openSpool(t, dir, { fsync: true });
  const first = await appendMany(spool, 's', 3);
  const seg = join(dir, (await segFiles(dir))[0]!);
  const committed = (await stat(seg)).size;
  failNext = true;
  await assert.rejects(appendMany(spool, 's', 1, 3), (err: Error & { code?: string }) => err.code === 'LS_SPOOL_WRITE' && /no space left/.test(err.message));
  assert.equal(events(ctx.logs, 'spool_write_error').length, 1);
  assert.equal((await stat(seg)).size, committed, 'the refused group\'s bytes are cut');
  assert.ok(synced.includes(seg), 'the cut is synced (the segment is O_DSYNC: nothing else syncs it)');
  const later = await appendMany(spool, 's', 2, 4);
  const c = collector();
  spool.start(c.push);
  await waitFor('5 read back', () => c.batches.length === 5, 3000);
  [...first, ...later].forEach((b, i) => sameBatch(c.batches[i]!, b));
});

test('restart resumes from the persisted cursor: delivered batches are not sent again', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { segment_bytes: 4096, max_bytes: 1024 * 1024 });
  const want = await appendMany(spool, 's', 40);
  let n = 0;
  const held: Batch[] = [];
  spool.start(async (b) => {
    if (n++ < 25) b.settle(DELIVERED);
    else held.push(b);
  });
  await waitFor('40 handed out', () => n === 40, 3000);
  // Batch 30 delivered out of order: the cursor still stops before 25.
  held[5]!.settle(DELIVERED);
  await spool.stop(200);
  const ctx2 = testContext({ id: 'spool', stateDir: dir });
  const again = await openSpool(t, dir, {}, ctx2);
  const opened = events(ctx2.logs, 'spool_opened')[0]!;
  assert.equal(opened['backlog_batches'], 15);
  const c = collector();
  again.spool.start(c.push);
  await waitFor('15 replayed', () => c.batches.length === 15, 3000);
  await sleep(100);
  assert.equal(c.batches.length, 15);
  c.batches.forEach((b, i) => sameBatch(b, want[25 + i]!));
});

test('a retryable outcome (the pipeline stopping) stops the cursor and the hand-out there', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir);
  const want = await appendMany(spool, 's', 10);
  let n = 0;
  spool.start(async (b) => {
    n++;
    if (n === 4) b.settle({ kind: 'retryable', error: new Error('stopping') });
    else b.settle(DELIVERED);
  });
  await waitFor('hand-out', () => n >= 4, 3000);
  await sleep(100);
  await spool.stop(200);
  const again = await openSpool(t, dir);
  const c = collector();
  again.spool.start(c.push);
  await waitFor('replay from the hole', () => c.batches.length === 7, 3000);
  c.batches.forEach((b, i) => sameBatch(b, want[3 + i]!));
});

test('kill -9 mid-append: every acknowledged batch survives, a torn tail is cut', { timeout: 60_000 }, async (t) => {
  const dir = await tmpDir(t);
  const child = crashChild(t, { dir, mode: 'append', streams: 4, perStream: 100_000, deliver: 0 });
  await waitFor('1500 acknowledged appends', () => child.out.split('\n').filter((l) => l.startsWith('ACK')).length >= 1500 || child.proc.exitCode !== null, 30_000);
  await child.kill();
  assert.ok(!child.out.includes('DONE'), `child ended early: ${child.err}`);
  const acked = child.out
    .split('\n')
    .filter((l) => l.startsWith('ACK'))
    .map((l) => l.split(' '));
  assert.ok(acked.length >= 1500);
  // Make sure there is a torn record at the tail, whatever the kill left: a header that promises
  // more bytes than follow it.
  const segs = await segFiles(dir);
  const last = join(dir, segs[segs.length - 1]!);
  const sizeBefore = (await stat(last)).size;
  const torn = Buffer.alloc(20);
  torn.writeUInt32LE(5000, 0);
  await appendFile(last, torn);

  const ctx = testContext({ id: 'spool', stateDir: dir });
  const { spool } = await openSpool(t, dir, {}, ctx);
  const recovered = events(ctx.logs, 'spool_recovered');
  assert.equal(recovered.length, 1, JSON.stringify(ctx.logs));
  assert.equal(recovered[0]!['segment'], Number(segs[segs.length - 1]!.slice(0, 12)));
  assert.ok((await stat(last)).size <= sizeBefore, 'the torn tail is cut from the file');
  assert.equal(events(ctx.logs, 'spool_corrupt').length, 0);
  const c = collector();
  spool.start(c.push);
  const total = events(ctx.logs, 'spool_opened')[0]!['backlog_batches'] as number;
  assert.ok(total >= acked.length, `${total} batches in the spool, ${acked.length} acknowledged`);
  await waitFor('everything read back', () => c.batches.length === total, 20_000);
  // Per stream: the batches read back are the contiguous sequence appended, each byte for byte,
  // and they include every acknowledged one.
  const next = new Map<string, { offset: number; index: number }>();
  for (const b of c.batches) {
    const s = next.get(b.pos.stream) ?? { offset: 0, index: 0 };
    assert.equal(b.pos.offset, s.offset, `${b.pos.stream}: batches in order without gaps`);
    assert.equal(b.data.toString(), spoolText(b.pos.stream, s.offset, s.index));
    next.set(b.pos.stream, { offset: b.endOffset, index: s.index + 1 });
  }
  for (const [, stream, offset] of acked) assert.ok((next.get(stream!)?.offset ?? 0) > Number(offset), `acknowledged ${stream}@${offset} is there`);
});

test('kill -9 after delivery: the replay starts at the persisted cursor', { timeout: 30_000 }, async (t) => {
  const dir = await tmpDir(t);
  const child = crashChild(t, { dir, mode: 'deliver', streams: 1, perStream: 50, deliver: 20 });
  await waitFor('PERSISTED', () => child.out.includes('PERSISTED') || child.proc.exitCode !== null, 20_000);
  assert.ok(child.out.includes('PERSISTED'), child.err);
  await child.kill();
  const { spool } = await openSpool(t, dir);
  const c = collector();
  spool.start(c.push);
  await waitFor('30 replayed', () => c.batches.length === 30, 5000);
  await sleep(100);
  assert.equal(c.batches.length, 30);
  let offset = 0;
  for (let i = 0; i < 20; i++) offset = spoolBatch('s0', offset, i).endOffset;
  assert.equal(c.batches[0]!.pos.offset, offset, 'the first batch replayed is the first one not delivered');
});

test('when_full: block: append waits at max_bytes and resumes once delivered segments are deleted', async (t) => {
  const dir = await tmpDir(t);
  const { spool, ctx } = await openSpool(t, dir, { max_bytes: 16 * 1024, segment_bytes: 4096, when_full: 'block', fsync: false });
  const held: Batch[] = [];
  spool.start(async (b) => {
    held.push(b);
  });
  let offset = 0;
  let i = 0;
  let pending: Promise<void> | undefined;
  for (; i < 200; i++) {
    const b = spoolBatch('s', offset, i);
    offset = b.endOffset;
    const p = spool.append(b);
    const done = await Promise.race([p.then(() => true), sleep(300).then(() => false)]);
    if (!done) {
      pending = p;
      break;
    }
  }
  assert.ok(pending !== undefined, 'an append pends at the cap');
  assert.ok(spool.stats.diskBytes <= 16 * 1024, `${spool.stats.diskBytes} bytes on disk`);
  assert.equal(spool.stats.waiting, 1);
  assert.equal(events(ctx.logs, 'spool_full_blocking').length, 1);
  // Still pending a while later: nothing frees room while nothing is delivered.
  assert.equal(await Promise.race([pending.then(() => 'resolved'), sleep(400).then(() => 'pending')]), 'pending');
  for (const b of held) b.settle(DELIVERED);
  await Promise.race([pending, sleep(3000).then(() => assert.fail('the append did not resume'))]);
  await waitFor('the blocked batch read back', () => held.length === i + 1, 3000);
  assert.equal(held[i]!.pos.offset, held[i - 1]!.endOffset, 'in order, nothing lost');
});

test('when_full: block: max_bytes holds on disk also when the record that reaches it opens a new segment', async (t) => {
  const one = (offset: number): Batch => {
    const data = Buffer.from(`${'x'.repeat(799)}\n`);
    return new Batch(data, indexLines(data), SPOOL_META, { origin: 'client-a', stream: 's', offset });
  };
  // The size of one record on disk (header included; records are compressed), from a spool of its own.
  const probe = await openSpool(t, await tmpDir(t), { fsync: false });
  probe.spool.start(async () => undefined);
  await probe.spool.append(one(0));
  const r = probe.spool.stats.diskBytes - SEGMENT_HEADER_BYTES;
  await probe.spool.append(one(800));
  assert.equal(probe.spool.stats.diskBytes, SEGMENT_HEADER_BYTES + 2 * r, 'records of these batches have one size');
  // Segments of exactly k records (and 2 bytes of room), and a cap that 4 full segments plus one
  // record reach exactly: record 4k + 1 fits the cap only if the header of the segment it opens is ignored.
  const k = Math.ceil((4096 - SEGMENT_HEADER_BYTES - 2) / r);
  const full = SEGMENT_HEADER_BYTES + k * r;
  const maxBytes = 4 * full + r;
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { max_bytes: maxBytes, segment_bytes: full + 2, when_full: 'block', fsync: false });
  spool.start(async () => undefined); // never settles: nothing is deleted
  let pendingAt = -1;
  for (let i = 0; i < 4 * k + 5; i++) {
    const p = spool.append(one(i * 800));
    if (!(await Promise.race([p.then(() => true), sleep(300).then(() => false)]))) {
      pendingAt = i;
      break;
    }
  }
  assert.equal(pendingAt, 4 * k, `record ${4 * k + 1} waits`);
  let onDisk = 0;
  for (const f of await segFiles(dir)) onDisk += (await stat(join(dir, f))).size;
  assert.ok(onDisk <= maxBytes, `${onDisk} bytes of segments on disk, max_bytes ${maxBytes}`);
  assert.ok(spool.stats.diskBytes <= maxBytes, `${spool.stats.diskBytes} bytes counted, max_bytes ${maxBytes}`);
});

test('stopping: a waiting append and a late one are refused (LS_SHUTDOWN) and settle retryable', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { max_bytes: 16 * 1024, segment_bytes: 4096, fsync: false });
  spool.start(async () => undefined); // taken, never settled: nothing frees room
  let offset = 0;
  let waiting: { p: Promise<void>; b: Batch } | undefined;
  for (let i = 0; i < 200 && waiting === undefined; i++) {
    const b = spoolBatch('s', offset, i);
    offset = b.endOffset;
    const p = spool.append(b);
    if (!(await Promise.race([p.then(() => true), sleep(200).then(() => false)]))) waiting = { p, b };
  }
  assert.ok(waiting !== undefined, 'an append waits at the cap');
  await spool.stop(100);
  await assert.rejects(waiting.p, { code: 'LS_SHUTDOWN' });
  assert.equal((await waiting.b.settled).kind, 'retryable');
  const late = spoolBatch('s', offset, 0);
  await assert.rejects(spool.append(late), { code: 'LS_SHUTDOWN' });
  assert.equal((await late.settled).kind, 'retryable');
});

test('when_full: drop-oldest: appends never wait; whole unread segments go and are counted exactly', async (t) => {
  const dir = await tmpDir(t);
  const { spool, ctx } = await openSpool(t, dir, { max_bytes: 16 * 1024, segment_bytes: 4096, when_full: 'drop-oldest', fsync: false });
  // The destination is stuck: the first push never returns until released.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const got: Batch[] = [];
  spool.start(async (b) => {
    got.push(b);
    await gate;
    b.settle(DELIVERED);
  });
  let offset = 0;
  let lines = 0;
  for (let i = 0; i < 300; i++) {
    const b = spoolBatch('s', offset, i);
    offset = b.endOffset;
    lines += b.count;
    const ok = await Promise.race([spool.append(b).then(() => true), sleep(1000).then(() => false)]);
    assert.ok(ok, `append ${i} did not wait`);
  }
  assert.ok(spool.stats.diskBytes <= 16 * 1024 + 4096, `${spool.stats.diskBytes} bytes on disk`);
  const dropped = spool.stats.droppedRecords;
  assert.ok(dropped > 0, 'records were dropped');
  const ev = events(ctx.logs, 'spool_dropped');
  assert.ok(ev.length >= 1);
  assert.equal(ev[0]!['total_dropped_records'], ev[0]!['dropped_records']);
  assert.equal(ctx.counters.get('logship_spool_dropped_records_total'), dropped);
  release();
  await waitFor('the rest delivered', () => spool.stats.backlogBytes === 0 && got.length > 1 && spool.stats.inFlightBatches === 0, 5000);
  let received = 0;
  let prevEnd = -1;
  for (const b of got) {
    received += b.count;
    assert.ok(b.pos.offset > prevEnd - 1, 'in order, no duplicates');
    prevEnd = b.endOffset;
    assert.equal(b.data.toString().split('\n')[0]!.split(' ')[1], String(b.pos.offset));
  }
  assert.equal(received + dropped, lines, 'what was not delivered is exactly what was counted as dropped');
  await spool.stop(500);
  const cursor = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as { dropped_records: number };
  assert.equal(cursor.dropped_records, dropped, 'the drop total is persisted');
  const stopped = events(ctx.logs, 'spool_stopped')[0]!;
  assert.equal(stopped['total_dropped_records'], dropped);
  assert.equal(stopped['total_appended_records'], lines);
  // The total carries over a restart.
  const again = await openSpool(t, dir, { max_bytes: 16 * 1024, segment_bytes: 4096, when_full: 'drop-oldest' });
  assert.equal(again.spool.stats.droppedRecords, dropped);
});

test('memory stays bounded while the destination never settles: the backlog stays on disk', async (t) => {
  const dir = await tmpDir(t);
  const { spool } = await openSpool(t, dir, { fsync: false });
  const pushed: Batch[] = [];
  spool.start(async (b) => {
    pushed.push(b); // taken, never settled
  });
  await appendMany(spool, 's', 500);
  await waitFor(`${MAX_IN_FLIGHT_BATCHES} handed out`, () => pushed.length === MAX_IN_FLIGHT_BATCHES, 3000);
  await sleep(300);
  assert.equal(pushed.length, MAX_IN_FLIGHT_BATCHES, 'no more than the in-flight bound');
  assert.equal(spool.stats.inFlightBatches, MAX_IN_FLIGHT_BATCHES);
  assert.equal(spool.stats.appendedBatches, 500);
  assert.ok(spool.stats.backlogBytes > 0);
  // One settlement lets exactly one more out.
  pushed[0]!.settle(DELIVERED);
  await waitFor('one more', () => pushed.length === MAX_IN_FLIGHT_BATCHES + 1, 3000);
  await sleep(100);
  assert.equal(pushed.length, MAX_IN_FLIGHT_BATCHES + 1);
});

test('a segment file that is not ours stops the spool from opening (LS_STATE_CORRUPT)', async (t) => {
  const dir = await tmpDir(t);
  await writeFile(join(dir, '000000000001.seg'), 'this is not a spool segment\n');
  await assert.rejects(Spool.open(dir, spoolOptions.parse({}), testContext({ id: 'x', stateDir: dir }).telemetry), { code: 'LS_STATE_CORRUPT' });
  // Nor can one directory be opened twice in one process.
  const ok = await tmpDir(t);
  await openSpool(t, ok);
  await assert.rejects(Spool.open(ok, spoolOptions.parse({}), testContext({ id: 'y', stateDir: ok }).telemetry), { code: 'LS_STARTUP' });
});

test('a corrupt record in the middle of an older segment is cut and reported as lost', async (t) => {
  const dir = await tmpDir(t);
  const first = await openSpool(t, dir, { segment_bytes: 4096, max_bytes: 1024 * 1024 });
  await appendMany(first.spool, 's', 30);
  await first.spool.stop(100);
  const segs = await segFiles(dir);
  assert.ok(segs.length >= 3);
  const victim = join(dir, segs[0]!);
  const buf = await readFile(victim);
  buf[buf.length - 3] = buf[buf.length - 3]! ^ 0xff; // flip a byte in its last record
  await writeFile(victim, buf);
  const ctx = testContext({ id: 'spool', stateDir: dir });
  const { spool } = await openSpool(t, dir, {}, ctx);
  assert.equal(events(ctx.logs, 'spool_corrupt').length, 1);
  const c = collector();
  spool.start(c.push);
  await waitFor('29 read back', () => c.batches.length === 29, 3000);
});

test('pipeline: a syslog-tcp source with a spool delivers through it and stops cleanly', async (t) => {
  const dir = await tmpDir(t);
  const out = join(dir, 'out');
  const text = `node: { name: relay-1, state_dir: ${join(dir, 'state')} }
sources:
  tcp:
    type: syslog-tcp
    listen: "tcp:127.0.0.1:0"
    spool: { max_bytes: 65536, segment_bytes: 4096 }
destinations:
  files: { type: file, base_dir: ${out}, path: "all.log", template: raw }
paths:
  - { from: [tcp], to: [files] }
`;
  const r = loadConfigText(join(dir, 'c.yaml'), text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  assert.equal(r.config.sources[0]!.spool?.segment_bytes, 4096);
  const logs: LogEntry[] = [];
  const counters = new Counters();
  const p = await Pipeline.start(r.config, memoryLogger(logs), counters);
  let stopped = false;
  t.after(() => (stopped ? undefined : p.stop(2000)));
  const port = (p.source('tcp') as unknown as { port: number }).port;
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  let payload = '';
  for (let i = 0; i < 2000; i++) payload += `<14>Jan  2 03:04:05 host-a app: line ${i}\n`;
  sock.end(payload);
  const file = join(out, 'all.log');
  await waitFor('2000 lines written', async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').length > 2000, 10_000);
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 2000);
  assert.ok(lines[1999]!.endsWith('line 1999'));
  await waitFor('the cursor persisted', async () => (await readdir(join(dir, 'state', 'spool', 'tcp'))).includes('cursor.json'), 3000);
  assert.equal(counters.get('logship_spool_appended_records_total'), 2000);
  await p.stop(3000);
  stopped = true;
  assert.equal(events(logs, 'spool_stopped').length, 1);
});
