// Component tests of the file tail source on real tmp dirs: exact bytes, offsets and streams,
// rotation, truncation, restart from the checkpoint, backpressure.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Batch } from '../../../src/core/batch.js';
import { DELIVERED, retryable, rejected } from '../../../src/core/outcome.js';
import type { Source } from '../../../src/core/component.js';
import { fileSource, fileSourceOptions } from '../../../src/sources/file/index.js';
import { FileSource, type FileSourceInternals } from '../../../src/sources/file/source.js';
import { MAX_IN_FLIGHT } from '../../../src/sources/file/tailer.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

type Settle = 'deliver' | 'hold' | 'stall';

interface Run {
  source: Source;
  batches: Batch[];
  /** Batches pushed and not settled yet (settle mode 'hold'). */
  held: Batch[];
  ctx: ReturnType<typeof testSourceContext>;
  stop(): Promise<void>;
  /** Every record's bytes (terminator included), in push order. */
  records(): string[];
  /** Lines (records without "\n"), in push order. */
  lines(): string[];
  streams(): string[];
  /** The bytes of one stream, from its first pushed offset, checking that batches are contiguous. */
  bytesOf(stream: string): { start: number; data: Buffer };
  counter(name: string): number;
}

const stoppers = new WeakMap<TestContext, (() => Promise<void>)[]>();

/** A tmp dir for the test; the sources it runs are stopped before the dir is removed. */
async function setup(t: TestContext): Promise<string> {
  const list: (() => Promise<void>)[] = [];
  stoppers.set(t, list);
  t.after(async () => {
    for (const stop of list) await stop();
  });
  return tmpDir(t);
}

const FAST = { poll_interval_ms: 50, checkpoint_interval_ms: 20, partial_flush_ms: 300, rotate_wait_ms: 300 };

async function run(
  t: TestContext,
  stateDir: string,
  options: Record<string, unknown>,
  settle: Settle = 'deliver',
  onPush?: (b: Batch) => void,
  internals?: FileSourceInternals,
): Promise<Run> {
  const batches: Batch[] = [];
  const held: Batch[] = [];
  const stalled: (() => void)[] = [];
  const ctx = testSourceContext({ stateDir, id: 'tail' }, (b) => {
    onPush?.(b);
    // A copy of the bytes: once settled, a batch's buffer is the source's again (read buffers are reused).
    batches.push(new Batch(Buffer.from(b.data), b.ends, b.meta, b.pos));
    if (settle === 'deliver') b.settle(DELIVERED);
    else held.push(b);
    if (settle === 'stall') return new Promise<void>((r) => stalled.push(r));
    return undefined;
  });
  const opts = fileSourceOptions.parse({ type: 'file', ...FAST, ...options });
  const source = internals === undefined ? fileSource.create(opts) : new FileSource(opts, internals);
  await source.start(ctx);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // What the pipeline does at shutdown: pending pushes return, unsettled batches come back retryable.
    for (const r of stalled.splice(0)) r();
    for (const b of held.splice(0)) b.settle(retryable(new Error('shutdown')));
    const t0 = Date.now();
    await source.stop();
    // Every batch is settled here, so stop() has nothing to wait for (its bound is 5 s).
    assert.ok(Date.now() - t0 < 1_500, `stop() took ${Date.now() - t0} ms`);
  };
  stoppers.get(t)?.push(stop);
  const recs = () => {
    const out: string[] = [];
    for (const b of batches) for (let i = 0; i < b.count; i++) out.push(b.data.subarray(b.recordStart(i), b.ends[i]).toString());
    return out;
  };
  return {
    source,
    batches,
    held,
    ctx,
    stop,
    records: recs,
    lines: () => recs().map((r) => (r.endsWith('\n') ? r.slice(0, -1) : r)),
    streams: () => [...new Set(batches.map((b) => b.pos.stream))],
    bytesOf(stream) {
      const bs = batches.filter((b) => b.pos.stream === stream);
      let at = bs[0]!.pos.offset;
      for (const b of bs) {
        assert.equal(b.pos.offset, at, `stream ${stream}: batches are contiguous`);
        assert.equal(b.ends[b.count - 1], b.data.length, 'a batch holds whole records only');
        at = b.endOffset;
      }
      return { start: bs[0]!.pos.offset, data: Buffer.concat(bs.map((b) => b.data)) };
    },
    counter: (name) => ctx.counters.get(name),
  };
}

const lineSeq = (from: number, to: number, prefix = 'line') => {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`${prefix} ${String(i).padStart(5, '0')}`);
  return out;
};
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

function assertOnce(got: string[], want: string[]): void {
  assert.equal(got.length, want.length, `expected ${want.length} lines, got ${got.length}`);
  assert.deepEqual([...got].sort(), [...want].sort());
  assert.equal(new Set(got).size, got.length, 'no line twice');
}

test('appends are read once, with exact bytes, offsets and metadata', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, 'first\nsecond\n');
  const r = await run(t, join(dir, 'state'), { include: [join(dir, '*.log')], start_at: 'beginning', facility: 'local3', severity: 'info' });
  await waitFor('2 lines', () => r.lines().length === 2);
  appendFileSync(file, 'third\n');
  appendFileSync(file, 'fourth\r\n');
  await waitFor('4 lines', () => r.lines().length === 4);
  await sleep(200);
  assert.deepEqual(r.lines(), ['first', 'second', 'third', 'fourth\r']);
  assert.equal(r.streams().length, 1);
  const { start, data } = r.bytesOf(r.streams()[0]!);
  assert.equal(start, 0);
  assert.deepEqual(data, readFileSync(file));
  const b = r.batches[0]!;
  assert.equal(b.pos.origin, 'test-node');
  assert.match(b.pos.stream, /^[0-9a-f]{16}$/);
  assert.deepEqual({ host: b.meta.host, program: b.meta.program, facility: b.meta.facility, severity: b.meta.severity }, {
    host: 'test-node',
    program: 'app',
    facility: 19,
    severity: 6,
  });
  assert.equal(r.counter('logship_source_lines_total'), 4);
  assert.equal(r.counter('logship_source_bytes_total'), data.length);
  assert.equal(r.counter('logship_file_opens_total'), 1);
});

test('the stream id is in the checkpoint file before the first batch is pushed', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  writeFileSync(join(dir, 'a.log'), 'x\n');
  const seen: boolean[] = [];
  const r = await run(t, state, { include: [join(dir, '*.log')], start_at: 'beginning' }, 'deliver', (b) => {
    const cp = JSON.parse(readFileSync(join(state, 'checkpoints', 'tail.json'), 'utf8')) as { files: { stream: string }[] };
    seen.push(cp.files.some((f) => f.stream === b.pos.stream));
  });
  await waitFor('a batch', () => r.batches.length === 1);
  appendFileSync(join(dir, 'b.log'), 'y\n');
  await waitFor('two batches', () => r.batches.length === 2);
  assert.deepEqual(seen, [true, true]);
});

test('start_at: end skips what existing files hold at the first start; beginning reads it', async (t) => {
  const dir = await setup(t);
  writeFileSync(join(dir, 'old.log'), 'old 1\nold 2\n');
  const end = await run(t, join(dir, 'state-end'), { include: [join(dir, '*.log')] });
  const begin = await run(t, join(dir, 'state-begin'), { include: [join(dir, '*.log')], start_at: 'beginning' });
  appendFileSync(join(dir, 'old.log'), 'new 1\n');
  await waitFor('end: 1 line', () => end.lines().length === 1);
  await waitFor('beginning: 3 lines', () => begin.lines().length === 3);
  assert.deepEqual(end.lines(), ['new 1']);
  assert.equal(end.batches[0]!.pos.offset, 12, 'the stream starts at the size found at the first start');
  assert.deepEqual(begin.lines(), ['old 1', 'old 2', 'new 1']);
});

test('a file created later is read from its beginning; a missing directory is picked up when created', async (t) => {
  const dir = await setup(t);
  const r = await run(t, join(dir, 'state'), { include: [join(dir, '*.log'), join(dir, 'later', 'sub', '*.log')] });
  writeFileSync(join(dir, 'new.log'), 'a\nb\n');
  writeFileSync(join(dir, 'other.txt'), 'not included\n');
  await waitFor('2 lines', () => r.lines().length === 2);
  mkdirSync(join(dir, 'later', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'later', 'sub', 'x.log'), 'c\n');
  await waitFor('3 lines', () => r.lines().length === 3, 5_000);
  await sleep(150);
  assert.deepEqual(r.lines(), ['a', 'b', 'c']);
  assert.deepEqual(
    r.batches.map((b) => b.meta.program),
    ['new', 'x'],
  );
});

test('exclude patterns and a relative include', async (t) => {
  const dir = await setup(t);
  writeFileSync(join(dir, 'keep.log'), 'keep\n');
  writeFileSync(join(dir, 'skip.log'), 'skip\n');
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const r = await run(t, join(dir, 'state'), { include: ['*.log'], exclude: ['skip*'], start_at: 'beginning' });
  process.chdir(cwd);
  await waitFor('1 line', () => r.lines().length === 1);
  await sleep(200);
  assert.deepEqual(r.lines(), ['keep']);
});

test('a partial last line is held, then sent after partial_flush_ms without new data', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'p.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file], partial_flush_ms: 400 });
  appendFileSync(file, 'whole\npart');
  await waitFor('the whole line', () => r.records().length === 1);
  await sleep(150);
  assert.deepEqual(r.records(), ['whole\n'], 'the partial line is held');
  appendFileSync(file, 'ial\n');
  await waitFor('completed line', () => r.records().length === 2);
  assert.deepEqual(r.records(), ['whole\n', 'partial\n'], 'a partial completed in time is one record');
  const t0 = Date.now();
  appendFileSync(file, 'tail');
  await waitFor('flushed partial', () => r.records().length === 3, 3_000);
  assert.ok(Date.now() - t0 >= 350, 'not flushed before partial_flush_ms');
  assert.equal(r.records()[2], 'tail');
  assert.equal(r.counter('logship_file_partial_flushes_total'), 1);
  appendFileSync(file, ' more\n');
  await waitFor('next record', () => r.records().length === 4);
  assert.equal(r.records()[3], ' more\n');
  assert.deepEqual(r.bytesOf(r.streams()[0]!).data, readFileSync(file));
});

test('partial_flush_ms: 0 never sends a partial line', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'p.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file], partial_flush_ms: 0 });
  appendFileSync(file, 'a\nb');
  await waitFor('a', () => r.records().length === 1);
  await sleep(400);
  assert.deepEqual(r.records(), ['a\n']);
});

test('lines longer than max_line_bytes are split', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'long.log');
  writeFileSync(file, `${'x'.repeat(25)}\nshort\n${'y'.repeat(10)}\n`);
  const r = await run(t, join(dir, 'state'), { include: [file], start_at: 'beginning', max_line_bytes: 10, read_chunk_bytes: 16 });
  await waitFor('5 records', () => r.records().length === 5);
  await sleep(100);
  assert.deepEqual(r.records(), ['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx\n', 'short\n', 'yyyyyyyyyy\n']);
  assert.equal(r.counter('logship_file_lines_split_total'), 2);
  assert.deepEqual(r.bytesOf(r.streams()[0]!).data, readFileSync(file));
});

test('rotation by rename while writing: the old file is drained (late writes too), every line once', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file] });
  const all = lineSeq(1, 600);
  let fd = openSync(file, 'a');
  for (let i = 0; i < 300; i++) {
    writeSync(fd, `${all[i]}\n`);
    if (i % 50 === 0) await sleep(5);
  }
  renameSync(file, `${file}.1`);
  // The writer still holds the old file for a moment, as an app does until it reopens its log.
  for (let i = 300; i < 320; i++) writeSync(fd, `${all[i]}\n`);
  closeSync(fd);
  fd = openSync(file, 'a');
  for (let i = 320; i < 600; i++) {
    writeSync(fd, `${all[i]}\n`);
    if (i % 50 === 0) await sleep(5);
  }
  closeSync(fd);
  await waitFor('600 lines', () => r.lines().length >= 600, 8_000);
  await sleep(300);
  assertOnce(r.lines(), all);
  const streams = r.streams();
  assert.equal(streams.length, 2);
  assert.deepEqual(r.bytesOf(streams[0]!).data, readFileSync(`${file}.1`));
  assert.deepEqual(r.bytesOf(streams[1]!), { start: 0, data: readFileSync(file) });
  assert.equal(r.counter('logship_file_rotations_total'), 1);
  // The old generation is forgotten once drained and acked.
  await waitFor('checkpoint with one file', () => {
    const cp = JSON.parse(readFileSync(join(dir, 'state', 'checkpoints', 'tail.json'), 'utf8')) as { files: { stream: string }[] };
    return cp.files.length === 1 && cp.files[0]!.stream === streams[1];
  });
});

test('review-1: lines written to a rotated file well after the rename are still shipped (rotate_wait_ms)', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  const fd = openSync(file, 'a'); // the application's log fd
  writeSync(fd, 'line-1\n');
  const r = await run(t, join(dir, 'state'), { include: [file], start_at: 'beginning', rotate_wait_ms: 3_000 });
  await waitFor('line-1', () => r.lines().includes('line-1'));
  renameSync(file, `${file}.1`); // logrotate: rename, create
  writeFileSync(file, 'new-1\n');
  await waitFor('new-1', () => r.lines().includes('new-1'));
  await sleep(1_200); // far longer than poll_interval_ms: the app has not reopened its log yet
  writeSync(fd, 'late-to-rotated\n');
  closeSync(fd);
  await waitFor('the late line', () => r.lines().includes('late-to-rotated'), 5_000);
  assertOnce(r.lines(), ['line-1', 'new-1', 'late-to-rotated']);
});

test('a file quiet for longer than rotate_wait_ms before its rotation still gets its late lines', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  const fd = openSync(file, 'a'); // the application's log fd
  writeSync(fd, 'line-1\n');
  const r = await run(t, join(dir, 'state'), { include: [file], start_at: 'beginning', rotate_wait_ms: 1_000 });
  await waitFor('line-1', () => r.lines().includes('line-1'));
  await sleep(1_300); // quiet for longer than rotate_wait_ms
  renameSync(file, `${file}.1`);
  await waitFor('the rotation', () => r.counter('logship_file_rotations_total') === 1);
  writeSync(fd, 'late-to-rotated\n'); // at once: well within rotate_wait_ms of the rotation
  closeSync(fd);
  await waitFor('the late line', () => r.lines().includes('late-to-rotated'), 3_000);
  assertOnce(r.lines(), ['line-1', 'late-to-rotated']);
});

test('rotation to a name the include also matches keeps the stream: nothing twice', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, text(lineSeq(1, 50)));
  const r = await run(t, join(dir, 'state'), { include: [join(dir, 'app.log*')], start_at: 'beginning' });
  await waitFor('50 lines', () => r.lines().length === 50);
  appendFileSync(file, text(lineSeq(51, 60)));
  renameSync(file, `${file}.1`);
  writeFileSync(file, text(lineSeq(61, 70)));
  await waitFor('70 lines', () => r.lines().length >= 70);
  await sleep(300);
  assertOnce(r.lines(), lineSeq(1, 70));
  assert.equal(r.streams().length, 2);
});

test('copytruncate: every line once, the new content as a new stream from 0', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'ct.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file] });
  appendFileSync(file, text(lineSeq(1, 100)));
  await waitFor('100 lines', () => r.lines().length === 100);
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  appendFileSync(file, text(lineSeq(101, 130)));
  await waitFor('130 lines', () => r.lines().length >= 130);
  await sleep(300);
  assertOnce(r.lines(), lineSeq(1, 130));
  const streams = r.streams();
  assert.equal(streams.length, 2);
  assert.deepEqual(r.bytesOf(streams[1]!), { start: 0, data: readFileSync(file) });
  assert.equal(r.counter('logship_file_truncations_total'), 1);
});

test('a truncation followed by more bytes than before is seen by the fingerprint', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'fp.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file], poll_interval_ms: 200 });
  appendFileSync(file, text(lineSeq(1, 5, 'old')));
  await waitFor('5 lines', () => r.lines().length === 5);
  // Rewritten in place, longer than before, faster than the tailer's poll.
  writeFileSync(file, text(lineSeq(1, 20, 'new')));
  await waitFor('25 lines', () => r.lines().length >= 25, 5_000);
  await sleep(300);
  assertOnce(r.lines(), [...lineSeq(1, 5, 'old'), ...lineSeq(1, 20, 'new')]);
  assert.equal(r.counter('logship_file_truncations_total'), 1);
});

test('delete, then recreate: the rest is drained, the new file is a new stream from 0', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'd.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file] });
  appendFileSync(file, text(lineSeq(1, 20)));
  await waitFor('20 lines', () => r.lines().length === 20);
  unlinkSync(file);
  await sleep(150);
  writeFileSync(file, text(lineSeq(21, 30)));
  await waitFor('30 lines', () => r.lines().length >= 30);
  await sleep(300);
  assertOnce(r.lines(), lineSeq(1, 30));
  assert.equal(r.streams().length, 2);
  assert.equal(r.batches.at(-1)!.pos.offset, 0);
  assert.equal(r.counter('logship_file_deletions_total'), 1);
  // The deleted generation is forgotten once drained and acked.
  await waitFor('checkpoint with the new file only', () => {
    const cp = JSON.parse(readFileSync(join(dir, 'state', 'checkpoints', 'tail.json'), 'utf8')) as { files: { stream: string }[] };
    return cp.files.length === 1 && cp.files[0]!.stream === r.streams()[1];
  });
});

test('issue-5 idle: with polling off (10 min), appends, rename, late writes, recreate and copytruncate are seen by notifications', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file], poll_interval_ms: 600_000 });
  const fd = openSync(file, 'a'); // the application's log fd
  await sleep(300); // idle first: no timer of the tailer would find what follows
  writeSync(fd, text(lineSeq(1, 50)));
  await waitFor('50 lines', () => r.lines().length === 50, 3_000);
  writeSync(fd, 'partial');
  await sleep(400); // partial_flush_ms 300
  await waitFor('the partial line', () => r.lines().length === 51, 3_000);
  renameSync(file, `${file}.1`); // logrotate, no create yet
  await waitFor('the rotation', () => r.counter('logship_file_rotations_total') === 1, 3_000);
  writeSync(fd, ' late\n'); // the app has not reopened its log yet
  closeSync(fd);
  writeFileSync(file, text(lineSeq(52, 60)));
  await waitFor('60 lines', () => r.lines().length === 60, 3_000);
  copyFileSync(file, `${file}.2`);
  truncateSync(file, 0);
  appendFileSync(file, text(lineSeq(61, 65)));
  await waitFor('65 lines', () => r.lines().length >= 65, 3_000);
  unlinkSync(file);
  writeFileSync(file, text(lineSeq(66, 70)));
  await waitFor('71 lines', () => r.lines().length >= 71, 3_000);
  await sleep(300);
  assertOnce(r.lines(), [...lineSeq(1, 50), 'partial', ' late', ...lineSeq(52, 70)]);
  assert.equal(r.streams().length, 4);
  assert.equal(r.counter('logship_file_truncations_total'), 1);
});

test('issue-5 idle: without any change notification, the safety sweep finds growth, a rotation and a truncation', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file], poll_interval_ms: 50, max_poll_interval_ms: 400 }, 'deliver', undefined, {
    notifications: false,
  });
  const fd = openSync(file, 'a');
  await sleep(1_000); // idle long enough for the checks to back off to max_poll_interval_ms
  writeSync(fd, text(lineSeq(1, 10)));
  await waitFor('10 lines', () => r.lines().length === 10, 3_000);
  renameSync(file, `${file}.1`);
  writeSync(fd, text(lineSeq(11, 12)));
  closeSync(fd);
  await waitFor('the rotation', () => r.counter('logship_file_rotations_total') === 1, 3_000);
  await waitFor('12 lines', () => r.lines().length === 12, 3_000);
  writeFileSync(file, text(lineSeq(13, 20))); // a new file: chokidar's add
  await waitFor('20 lines', () => r.lines().length === 20, 3_000);
  await sleep(1_000);
  truncateSync(file, 0);
  appendFileSync(file, text(lineSeq(21, 22))); // shorter than before: the size differs
  await waitFor('22 lines', () => r.lines().length >= 22, 3_000);
  await sleep(300);
  assertOnce(r.lines(), lineSeq(1, 22));
  assert.equal(r.streams().length, 3);
  assert.equal(r.counter('logship_file_truncations_total'), 1);
});

test('issue-5 idle: an idle source does not rewrite its checkpoint', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, text(lineSeq(1, 10)));
  const r = await run(t, join(dir, 'state'), { include: [file], start_at: 'beginning' });
  await waitFor('10 lines', () => r.lines().length === 10);
  const cp = join(dir, 'state', 'checkpoints', 'tail.json');
  const offsetOf = () => (JSON.parse(readFileSync(cp, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset;
  await waitFor('the offset checkpointed', () => offsetOf() === 110);
  const ino = statSync(cp).ino; // every write replaces the file (temp + rename): a new inode
  await sleep(500); // 25 checkpoint intervals
  assert.equal(statSync(cp).ino, ino, 'not written while nothing changed');
  appendFileSync(file, text(lineSeq(11, 11)));
  await waitFor('the new offset checkpointed', () => offsetOf() === 121);
  assert.notEqual(statSync(cp).ino, ino);
});

test('restart resumes at the acked offset in the same stream; files created while down are read whole', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  const file = join(dir, 'r.log');
  writeFileSync(file, text(lineSeq(1, 10)));
  const a = await run(t, state, { include: [join(dir, '*.log')], start_at: 'beginning' });
  await waitFor('10 lines', () => a.lines().length === 10);
  await sleep(100);
  await a.stop();
  appendFileSync(file, text(lineSeq(11, 15)));
  writeFileSync(join(dir, 'while-down.log'), 'created while down\n');
  const b = await run(t, state, { include: [join(dir, '*.log')] });
  await waitFor('6 lines', () => b.lines().length === 6);
  await sleep(200);
  assertOnce(b.lines(), [...lineSeq(11, 15), 'created while down']);
  const stream = a.streams()[0]!;
  const resumed = b.bytesOf(stream);
  assert.equal(resumed.start, a.bytesOf(stream).data.length, 'resumes at the acked offset');
  assert.deepEqual(Buffer.concat([a.bytesOf(stream).data, resumed.data]), readFileSync(file));
});

test('restart without settlement resends from the last acked offset, nothing lost', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  const file = join(dir, 'u.log');
  writeFileSync(file, text(lineSeq(1, 5)));
  const a = await run(t, state, { include: [file], start_at: 'beginning' });
  await waitFor('5 lines', () => a.lines().length === 5);
  await sleep(100);
  await a.stop();
  const acked = a.bytesOf(a.streams()[0]!).data.length;
  // Second run: nothing is ever delivered; stop settles the batches as retryable.
  appendFileSync(file, text(lineSeq(6, 10)));
  const b = await run(t, state, { include: [file] }, 'hold');
  await waitFor('5 held lines', () => b.lines().length === 5);
  assert.equal(b.batches[0]!.pos.offset, acked);
  await b.stop();
  appendFileSync(file, text(lineSeq(11, 12)));
  const c = await run(t, state, { include: [file] });
  await waitFor('7 lines', () => c.lines().length === 7);
  await sleep(200);
  assertOnce(c.lines(), lineSeq(6, 12));
  assert.equal(c.batches[0]!.pos.offset, acked);
  assert.deepEqual(c.streams(), a.streams(), 'same stream id throughout');
});

test('rotated while down: the old generation is found by inode and drained, the new file read whole', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  const file = join(dir, 'app.log');
  writeFileSync(file, text(lineSeq(1, 10)));
  const a = await run(t, state, { include: [file], start_at: 'beginning' });
  await waitFor('10 lines', () => a.lines().length === 10);
  await sleep(100);
  await a.stop();
  appendFileSync(file, `${text(lineSeq(11, 14))}partial`);
  renameSync(file, `${file}.1`);
  writeFileSync(file, text(lineSeq(15, 20)));
  const b = await run(t, state, { include: [file] });
  await waitFor('11 records', () => b.records().length >= 11, 5_000);
  await sleep(200);
  assertOnce(b.lines(), [...lineSeq(11, 14), 'partial', ...lineSeq(15, 20)]);
  const old = b.bytesOf(a.streams()[0]!);
  assert.equal(old.start, readFileSync(file + '.1').length - Buffer.byteLength(`${text(lineSeq(11, 14))}partial`));
});

test('a rejected batch is counted and skipped; the offset moves past it', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  const file = join(dir, 'rej.log');
  writeFileSync(file, '');
  const a = await run(t, state, { include: [file] }, 'hold');
  appendFileSync(file, 'bad\n');
  await waitFor('a batch', () => a.held.length === 1);
  a.held.shift()!.settle(rejected(new Error('no')));
  await waitFor('counted', () => a.counter('logship_batches_rejected_total') === 1);
  await sleep(100);
  await a.stop();
  appendFileSync(file, 'good\n');
  const b = await run(t, state, { include: [file] });
  await waitFor('a line', () => b.lines().length === 1);
  assert.deepEqual(b.lines(), ['good']);
});

test('a batch that comes back retryable while running is read again from the acked offset', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'again.log');
  writeFileSync(file, '');
  const r = await run(t, join(dir, 'state'), { include: [file] }, 'hold');
  appendFileSync(file, 'one\n');
  await waitFor('a batch', () => r.held.length === 1);
  r.held.shift()!.settle(DELIVERED);
  appendFileSync(file, 'two\nthree\n');
  await waitFor('second batch', () => r.held.length === 1);
  r.held.shift()!.settle(retryable(new Error('upstream away')));
  await waitFor('resent', () => r.held.length === 1);
  const again = r.held.shift()!;
  assert.equal(again.pos.offset, 4);
  assert.equal(again.data.toString(), 'two\nthree\n');
  again.settle(DELIVERED);
  assert.equal(r.counter('logship_file_resends_total'), 1);
});

test('backpressure: a push that does not return stops reading; unsettled batches are capped', async (t) => {
  const dir = await setup(t);
  const big = join(dir, 'big.log');
  const line = `${'z'.repeat(99)}\n`;
  writeFileSync(big, line.repeat(20_000)); // 2 MB
  const stalled = await run(t, join(dir, 's1'), { include: [big], start_at: 'beginning', read_chunk_bytes: 16_384, max_line_bytes: 1000 }, 'stall');
  await waitFor('first push', () => stalled.batches.length === 1);
  await sleep(300);
  assert.equal(stalled.batches.length, 1, 'no read while the router has no room');

  const unsettled = await run(t, join(dir, 's2'), { include: [big], start_at: 'beginning', read_chunk_bytes: 16_384, max_line_bytes: 1000 }, 'hold');
  await waitFor('the cap', () => unsettled.batches.length === MAX_IN_FLIGHT);
  await sleep(300);
  assert.equal(unsettled.batches.length, MAX_IN_FLIGHT, 'at most MAX_IN_FLIGHT unsettled batches per file');
  // Settling lets reading go on; everything arrives once, in order.
  const deliverAll = setInterval(() => {
    for (const b of unsettled.held.splice(0)) b.settle(DELIVERED);
  }, 5);
  t.after(() => clearInterval(deliverAll));
  await waitFor('all 20000 lines', () => unsettled.records().length === 20_000, 10_000);
  clearInterval(deliverAll);
  assert.deepEqual(unsettled.bytesOf(unsettled.streams()[0]!).data, readFileSync(big));
});

test('issue-5 memory: a read buffer is reused only once its batch has settled', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'app.log');
  writeFileSync(file, text(lineSeq(1, 60))); // 11-byte lines: 5 per 64-byte chunk
  const r = await run(t, join(dir, 'state'), { include: [file], start_at: 'beginning', read_chunk_bytes: 64, max_line_bytes: 32 }, 'hold');
  let settled = 0;
  while (r.lines().length < 60 || settled < r.batches.length) {
    await waitFor('a held batch', () => r.held.length > 0, 3_000);
    // Settle in order, checking first that the bytes of the held batch are still those pushed
    // (r.batches holds copies taken at push time), while later batches reuse settled buffers.
    const b = r.held.shift()!;
    assert.deepEqual(b.data, r.batches[settled]!.data, `batch ${settled} unchanged until settled`);
    b.settle(DELIVERED);
    settled++;
  }
  assertOnce(r.lines(), lineSeq(1, 60));
  assert.deepEqual(r.bytesOf(r.streams()[0]!).data, readFileSync(file));
});

test('a corrupt checkpoint file fails start() with LS_STATE_CORRUPT', async (t) => {
  const dir = await setup(t);
  const state = join(dir, 'state');
  mkdirSync(join(state, 'checkpoints'), { recursive: true });
  writeFileSync(join(state, 'checkpoints', 'tail.json'), '{"version":1,"files":[{"path":');
  const source = fileSource.create(fileSourceOptions.parse({ type: 'file', include: [join(dir, '*.log')] }));
  const ctx = testSourceContext({ stateDir: state, id: 'tail' }, () => undefined);
  await assert.rejects(source.start(ctx), (err: { code?: string }) => err.code === 'LS_STATE_CORRUPT');
  await source.stop();
  assert.ok(existsSync(join(state, 'checkpoints', 'tail.json')), 'the corrupt file is left for the operator');
});
