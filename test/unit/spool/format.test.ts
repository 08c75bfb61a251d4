// The spool's on-disk format: CRC-32, segment names, the record reader's verdicts on torn and
// corrupt records, and the record count peeked from an encoded batch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShipBatchEncoder } from '../../../src/codec/ship/index.js';
import { batchRecordCount, parseSegmentName, recordHeader, SEGMENT_MAGIC, SegmentReader, segmentName, type ReadResult } from '../../../src/spool/format.js';
import { crc32, crc32Table } from '../../../src/util/crc32.js';
import { spoolBatch } from '../../fixtures/spool-batches.js';
import { tmpDir } from '../../helpers/tmp.js';

test('crc32: the IEEE check value, native and table agree, and it continues across chunks', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926);
  for (let n = 0; n < 50; n++) {
    const b = randomBytes(n * 37);
    assert.equal(crc32(b), crc32Table(b));
    const cut = Math.floor(b.length / 3);
    assert.equal(crc32Table(b.subarray(cut), crc32Table(b.subarray(0, cut))), crc32(b));
  }
});

test('segment names: 12 digits, ordered as numbers; anything else is not a segment', () => {
  assert.equal(segmentName(7), '000000000007.seg');
  assert.equal(parseSegmentName('000000000007.seg'), 7);
  assert.equal(parseSegmentName(segmentName(123456789012)), 123456789012);
  for (const bad of ['7.seg', '000000000007.seg.tmp', 'cursor.json', '00000000000a.seg']) assert.equal(parseSegmentName(bad), undefined);
});

async function segmentWith(dir: string, payloads: Buffer[], tail: Buffer = Buffer.alloc(0)): Promise<string> {
  const parts: Buffer[] = [SEGMENT_MAGIC];
  for (const p of payloads) parts.push(recordHeader(p), p);
  parts.push(tail);
  const file = join(dir, segmentName(1));
  await writeFile(file, Buffer.concat(parts));
  return file;
}

async function readAll(file: string, chunk: number, limit?: number): Promise<ReadResult[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const r = new SegmentReader(fh, SEGMENT_MAGIC.length, limit ?? size, chunk);
    const out: ReadResult[] = [];
    for (;;) {
      const x = await r.next();
      out.push(x);
      if (x.kind !== 'record') return out;
    }
  } finally {
    await fh.close();
  }
}

test('SegmentReader: records of any size across chunk boundaries come back intact and stay valid', async (t) => {
  const dir = await tmpDir(t);
  const payloads = [1, 7, 100, 5000, 70_000, 3].map((n) => randomBytes(n));
  const file = await segmentWith(dir, payloads);
  for (const chunk of [16, 1000, 1 << 20]) {
    const rs = await readAll(file, chunk);
    assert.equal(rs.length, payloads.length + 1);
    assert.deepEqual(rs[rs.length - 1], { kind: 'end' });
    rs.slice(0, -1).forEach((r, i) => {
      assert.equal(r.kind, 'record');
      if (r.kind === 'record') assert.ok(r.payload.equals(payloads[i]!), `record ${i} with chunk ${chunk}`);
    });
  }
});

test('SegmentReader: a torn or corrupt record is reported at its start, and nothing after it is read', async (t) => {
  const dir = await tmpDir(t);
  const good = [randomBytes(50), randomBytes(60)];
  const goodEnd = SEGMENT_MAGIC.length + 8 + 50 + 8 + 60;
  const last = randomBytes(40);
  const cases: Array<[string, Buffer]> = [
    ['a short header', Buffer.from([1, 2, 3])],
    ['a header promising more than follows', Buffer.concat([recordHeader(last), last.subarray(0, 20)])],
    ['zeros where the kernel had not written', Buffer.alloc(64)],
    ['a bad checksum', Buffer.concat([recordHeader(last), Buffer.from(last).fill(1, 0, 1)])],
    ['an absurd length', Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1])],
  ];
  for (const [what, tail] of cases) {
    if (what === 'a bad checksum') tail[8] = last[0]! ^ 0x55;
    const file = await segmentWith(dir, good, tail);
    const rs = await readAll(file, 32);
    const end = rs[rs.length - 1]!;
    assert.equal(rs.length, 3, what);
    assert.equal(end.kind, 'corrupt', what);
    if (end.kind === 'corrupt') assert.equal(end.at, goodEnd, what);
  }
});

test('SegmentReader: reads only up to the limit it is given, and on when the limit grows', async (t) => {
  const dir = await tmpDir(t);
  const payloads = [randomBytes(10), randomBytes(20)];
  const file = await segmentWith(dir, payloads);
  const fh = await open(file, 'r');
  t.after(() => fh.close());
  const r = new SegmentReader(fh, SEGMENT_MAGIC.length, SEGMENT_MAGIC.length + 18, 1 << 20);
  assert.equal((await r.next()).kind, 'record');
  assert.deepEqual(await r.next(), { kind: 'end' });
  r.setLimit(SEGMENT_MAGIC.length + 18 + 28);
  const x = await r.next();
  assert.ok(x.kind === 'record' && x.payload.equals(payloads[1]!));
});

test('batchRecordCount reads the count from an encoded batch without decoding it', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 1 });
  for (let i = 0; i < 8; i++) {
    const b = spoolBatch('stream-with-a-longer-name', 123_456_789_012, i, 'an-origin-node');
    assert.equal(batchRecordCount(enc.encode(b).subarray(5)), b.count);
  }
  assert.equal(batchRecordCount(Buffer.from([0, 5, 1])), -1);
});
