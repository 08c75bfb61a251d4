import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  encodeRecord,
  Journal,
  MAX_RECORD,
  replay,
  SNAP_PART_BYTES,
  snapshotRecords,
  type JournalRecord,
  type SnapEntry,
} from '../../../../src/destinations/file/journal.js';
import { crc32 } from '../../../../src/util/crc32.js';
import { openFlags } from '../../../helpers/fd-flags.js';
import { recordCalls } from '../../../helpers/fh-spy.js';
import { tmpDir } from '../../../helpers/tmp.js';

const F = (p: string, size: number) => ({ p, id: '1:2', size });

const recs: JournalRecord[] = [
  { t: 'snap', v: 1, seq: 4, streams: [['a\u0000s', 100, 1]] },
  { t: 'begin', seq: 5, files: [F('/x', 10)] },
  { t: 'commit', seq: 5, files: [F('/x', 20)], streams: [['a\u0000s', 200], ['b\u0000t', 7]], ms: 9 },
  { t: 'begin', seq: 6, files: [F('/x', 20), F('/y', 0)] },
];

test('crc32 gives the IEEE check values', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
  assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
});

test('replay applies snapshot, commits, and reports the pending cycle', () => {
  const buf = Buffer.concat(recs.map(encodeRecord));
  const r = replay(buf, 'j');
  assert.equal(r.torn, undefined);
  assert.equal(r.records, 4);
  assert.equal(r.seq, 6);
  assert.equal(r.streams.get('a\u0000s')!.hw, 200);
  assert.equal(r.streams.get('b\u0000t')!.hw, 7);
  assert.deepEqual(r.pending, { seq: 6, files: [F('/x', 20), F('/y', 0)] });
});

test('a committed cycle is not pending', () => {
  const r = replay(Buffer.concat(recs.slice(0, 3).map(encodeRecord)), 'j');
  assert.equal(r.pending, undefined);
});

test('a torn tail is detected at every cut and ignored', () => {
  const good = Buffer.concat(recs.slice(0, 3).map(encodeRecord));
  const last = encodeRecord(recs[3]!);
  for (let cut = 1; cut < last.length; cut++) {
    const r = replay(Buffer.concat([good, last.subarray(0, cut)]), 'j');
    assert.ok(r.torn, `cut ${cut}`);
    assert.equal(r.torn.offset, good.length);
    assert.equal(r.records, 3);
    assert.equal(r.pending, undefined);
  }
});

test('a corrupt byte in the last record stops replay there', () => {
  const buf = Buffer.concat(recs.map(encodeRecord));
  buf[buf.length - 3] ^= 0x20;
  const r = replay(buf, 'j');
  assert.equal(r.torn?.reason, 'checksum mismatch');
  assert.equal(r.records, 3);
});

test('a well-formed record of an unknown shape is refused with LS_STATE_CORRUPT', () => {
  const payload = Buffer.from(JSON.stringify({ t: 'snap', v: 99, seq: 1, streams: [] }));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  assert.throws(() => replay(Buffer.concat([head, payload]), 'j'), { code: 'LS_STATE_CORRUPT' });
});

// ---- review hw-growth: a snapshot of many streams, bad records that are not the tail ---------

/** Splits journal bytes into their records (offset, length with header). */
function records(buf: Buffer): Array<{ off: number; len: number }> {
  const out: Array<{ off: number; len: number }> = [];
  for (let off = 0; off < buf.length; ) {
    const len = 8 + buf.readUInt32LE(off);
    out.push({ off, len });
    off += len;
  }
  return out;
}

const manyStreams = (n: number): SnapEntry[] => Array.from({ length: n }, (_, i): SnapEntry => [`relay-1\u0000${i.toString(16).padStart(16, '0')}`, i * 10, 1_700_000_000_000 + i]);

test('review hw-growth: a big snapshot is split into records of bounded size and replays whole', async (t) => {
  const file = join(await tmpDir(t), 'j');
  const { journal } = await Journal.open(file, false);
  t.after(() => journal.close());
  const entries = manyStreams(60_000);
  await journal.compact(7, entries);
  await journal.append({ t: 'commit', seq: 8, files: [], streams: [['relay-1\u0000new', 5]], ms: 9 });
  const buf = await readFile(file);
  const recs = records(buf);
  assert.ok(recs.length >= 3, `${recs.length} records`);
  for (const r of recs) assert.ok(r.len <= SNAP_PART_BYTES + 8 + 200, `record of ${r.len} bytes`);
  const r = replay(buf, file);
  assert.equal(r.torn, undefined);
  assert.equal(r.streams.size, 60_001);
  assert.deepEqual(r.streams.get(entries[59_999]![0]), { hw: 599_990, lastMs: 1_700_000_059_999 });
  assert.equal(r.seq, 8);
  // An empty map is still one snapshot record.
  assert.equal(snapshotRecords(3, []).length, 1);
});

test('review hw-growth: a snapshot missing a part is LS_STATE_CORRUPT, not a shorter map', () => {
  const parts = snapshotRecords(1, manyStreams(60_000)).map(encodeRecord);
  assert.ok(parts.length >= 3);
  const withoutMiddle = Buffer.concat([parts[0]!, ...parts.slice(2)]);
  assert.throws(() => replay(withoutMiddle, 'j'), { code: 'LS_STATE_CORRUPT' });
  const cutShort = Buffer.concat([parts[0]!, parts[1]!]);
  assert.throws(() => replay(cutShort, 'j'), { code: 'LS_STATE_CORRUPT' });
  // A torn last part (crash mid-compaction cannot publish it, but a bad disk can).
  const tornLast = Buffer.concat([...parts.slice(0, -1), parts[parts.length - 1]!.subarray(0, 100)]);
  assert.throws(() => replay(tornLast, 'j'), { code: 'LS_STATE_CORRUPT' });
});

test('review hw-growth: an over-size record is LS_STATE_CORRUPT, never a torn tail that forgets every mark', () => {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(MAX_RECORD + 1, 0);
  head.writeUInt32LE(1234, 4);
  // First record (a snapshot written by an older version), whether or not all of it is there.
  assert.throws(() => replay(Buffer.concat([head, Buffer.from('{"t":"snap"')]), 'j'), { code: 'LS_STATE_CORRUPT' });
  const good = Buffer.concat(recs.slice(0, 3).map(encodeRecord));
  assert.throws(() => replay(Buffer.concat([good, head, Buffer.alloc(64, 1)]), 'j'), { code: 'LS_STATE_CORRUPT' });
});

test('review hw-growth: a bad record that is not the last one is LS_STATE_CORRUPT; only the last one is a torn tail', () => {
  const buf = Buffer.concat(recs.map(encodeRecord));
  // A flipped byte in the snapshot, the first record.
  const first = Buffer.from(buf);
  first[20] ^= 0x20;
  assert.throws(() => replay(first, 'j'), { code: 'LS_STATE_CORRUPT' });
  // In a middle record.
  const offs = records(buf);
  const middle = Buffer.from(buf);
  middle[offs[2]!.off + 12]! ^= 0x20;
  assert.throws(() => replay(middle, 'j'), { code: 'LS_STATE_CORRUPT' });
  // The same flip in the last record is a torn tail.
  const last = Buffer.from(buf);
  last[offs[3]!.off + 12]! ^= 0x20;
  assert.equal(replay(last, 'j').torn?.reason, 'checksum mismatch');
});

test('review hw-growth: a zero-filled tail (file extended, never written) is a torn tail', () => {
  const good = Buffer.concat(recs.slice(0, 3).map(encodeRecord));
  const r = replay(Buffer.concat([good, Buffer.alloc(4096)]), 'j');
  assert.equal(r.torn?.reason, 'zero-filled tail');
  assert.equal(r.records, 3);
  assert.equal(r.streams.get('b\u0000t')!.hw, 7);
});

test('issue 4: holes replay from snapshots and commits: a commit entry with holes replaces them ([] clears), one without keeps them', () => {
  const k = 'a\u0000s';
  const seq: JournalRecord[] = [
    { t: 'snap', v: 1, seq: 1, streams: [[k, 100, 1, [10, 20]], ['b\u0000t', 5, 1]] },
    { t: 'commit', seq: 2, files: [], streams: [[k, 150]], ms: 2 },
  ];
  const buf = (rs: JournalRecord[]) => Buffer.concat(rs.map((r) => encodeRecord(r)));
  let r = replay(buf(seq), 'j');
  assert.deepEqual(r.streams.get(k), { hw: 150, lastMs: 2, holes: [10, 20] });
  assert.deepEqual(r.streams.get('b\u0000t'), { hw: 5, lastMs: 1 });
  r = replay(buf([...seq, { t: 'commit', seq: 3, files: [], streams: [[k, 200, [10, 12, 150, 180]]], ms: 3 }]), 'j');
  assert.deepEqual(r.streams.get(k), { hw: 200, lastMs: 3, holes: [10, 12, 150, 180] });
  r = replay(buf([...seq, { t: 'commit', seq: 3, files: [], streams: [[k, 150, []]], ms: 3 }]), 'j');
  assert.deepEqual(r.streams.get(k), { hw: 150, lastMs: 3 });
  // Holes that are not pairs of numbers are not a journal record of this version.
  const bad = { t: 'commit', seq: 3, files: [], streams: [[k, 150, [1]]], ms: 3 } as unknown as JournalRecord;
  assert.throws(() => replay(buf([...seq, bad, { t: 'begin', seq: 4, files: [] }]), 'j'), /not a journal record/);
});

test('perf S1: a COMMIT with next leaves the next cycle pending on its files at their sizes after; its COMMIT clears it', () => {
  const base: JournalRecord[] = [
    { t: 'snap', v: 1, seq: 4, streams: [] },
    { t: 'begin', seq: 5, files: [F('/x', 10)] },
    { t: 'commit', seq: 5, files: [F('/x', 20)], streams: [['a\u0000s', 200]], ms: 9, next: 1 },
  ];
  const at = (rs: JournalRecord[]) => replay(Buffer.concat(rs.map(encodeRecord)), 'j');
  // Crash during cycle 6, which wrote no BEGIN: /x is cut back to what cycle 5 committed.
  assert.deepEqual(at(base).pending, { seq: 6, files: [F('/x', 20)] });
  // Cycle 6 committed (and declared cycle 7: pending until its COMMIT, or the empty COMMIT that
  // retires it when it wrote nothing).
  const c6: JournalRecord = { t: 'commit', seq: 6, files: [F('/x', 30)], streams: [['a\u0000s', 300]], ms: 10 };
  assert.equal(at([...base, c6]).pending, undefined);
  assert.deepEqual(at([...base, { ...c6, next: 1 }]).pending, { seq: 7, files: [F('/x', 30)] });
  const retire7: JournalRecord = { t: 'commit', seq: 7, files: [], streams: [], ms: 11 };
  const retired = at([...base, { ...c6, next: 1 }, retire7]);
  assert.equal(retired.pending, undefined);
  assert.equal(retired.seq, 7);
  assert.equal(retired.streams.get('a\u0000s')?.hw, 300, 'an empty COMMIT changes no hw');
  // The empty COMMIT of another cycle retires nothing.
  assert.deepEqual(at([...base, { ...c6, next: 1 }, { ...retire7, seq: 6 }]).pending, { seq: 7, files: [F('/x', 30)] });
  // Cycle 6 failed (rolled back); cycle 7 wrote its own BEGIN, which supersedes.
  assert.deepEqual(at([...base, { t: 'begin', seq: 7, files: [F('/y', 0)] }]).pending, { seq: 7, files: [F('/y', 0)] });
  // A compaction's snapshot drops it.
  assert.equal(at([...base, { t: 'snap', v: 1, seq: 5, streams: [] }]).pending, undefined);
  // next is 1 or absent: anything else is not a record of this version.
  const bad = encodeRecord({ ...c6, next: 2 } as unknown as JournalRecord);
  assert.throws(() => replay(Buffer.concat([...base.map(encodeRecord), bad, encodeRecord(c6)]), 'j'), { code: 'LS_STATE_CORRUPT' });
});

test('perf S1: with fsync the journal appends through an O_DSYNC handle, also after a compaction; without, a plain one', async (t) => {
  const dir = await tmpDir(t);
  const datasyncs = await recordCalls(t, 'datasync');
  for (const fsync of [true, false]) {
    const file = join(dir, `j-${fsync}`);
    const { journal } = await Journal.open(file, fsync);
    t.after(() => journal.close());
    const dsync = async () => (await openFlags(file)).map((f) => (f & constants.O_DSYNC) !== 0);
    assert.deepEqual(await dsync(), [fsync]);
    await journal.compact(1, []);
    assert.deepEqual(await dsync(), [fsync], 'after the compaction reopened it');
    assert.equal((await journal.append({ t: 'begin', seq: 2, files: [] })).kind, 'synced');
    // A record asked to be synced is fdatasync'd on a plain handle, and only there.
    datasyncs.length = 0;
    const k = join(dir, `k-${fsync}`);
    const { journal: j2 } = await Journal.open(k, fsync);
    t.after(() => j2.close());
    await j2.append({ t: 'begin', seq: 1, files: [] }, true);
    await j2.append({ t: 'begin', seq: 2, files: [] }, false);
    assert.deepEqual(datasyncs, fsync ? [] : [k]);
  }
});

test('perf S1: an O_DSYNC append whose write fails may have reached the file: reported written (a restart may replay it), never failed', async (t) => {
  const dir = await tmpDir(t);
  for (const fsync of [true, false]) {
    const { journal } = await Journal.open(join(dir, `j-${fsync}`), fsync);
    // The handle fails under the append (as a write whose sync hits EIO would).
    await (journal as unknown as { _fh: { close(): Promise<void> } })._fh.close();
    const r = await journal.append({ t: 'commit', seq: 1, files: [], streams: [], ms: 1 });
    assert.equal(r.kind, fsync ? 'written' : 'failed');
    assert.equal(journal.broken, true);
  }
});
