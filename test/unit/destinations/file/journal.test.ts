import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, encodeRecord, replay, type JournalRecord } from '../../../../src/destinations/file/journal.js';

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
