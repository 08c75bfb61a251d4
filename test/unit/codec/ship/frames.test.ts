// Unit tests of the ship codec: every frame type round-trips; every malformed input fails closed
// with LS_FRAME_* and canContinue=false.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compressor } from 'zstd-napi';
import { Batch, indexLines } from '../../../../src/core/batch.js';
import { LogshipError } from '../../../../src/core/errors.js';
import { encodeRawFrame, LengthPrefixedDeframer, type RawFrame } from '../../../../src/codec/framing/length-prefixed.js';
import {
  decodeShipFrame,
  encodeAck,
  encodeHello,
  encodePing,
  encodePong,
  encodeRefused,
  encodeWelcome,
  FRAME_TYPE,
  markRerouted,
  PROTOCOL_VERSION,
  ShipBatchDecoder,
  ShipBatchEncoder,
  type BatchLike,
  type ShipFrame,
} from '../../../../src/codec/ship/index.js';

const decoder = new ShipBatchDecoder(1 << 20);

/** Deframe one whole encoded frame and decode it. */
function roundTrip(wire: Buffer, dec: ShipBatchDecoder = decoder): ShipFrame {
  const d = new LengthPrefixedDeframer(1 << 22);
  d.push(wire);
  const raw = d.next();
  assert.ok(raw !== null, 'a whole frame');
  assert.equal(d.next(), null, 'exactly one frame');
  return decodeShipFrame(raw, dec);
}

function rawOf(wire: Buffer): RawFrame {
  return { type: wire[4]!, body: wire.subarray(5) };
}

function expectInvalid(fn: () => unknown, code = 'LS_FRAME_INVALID'): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LogshipError, `LogshipError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.canContinue, false);
    return true;
  });
}

function sampleBatch(lines: number, origin = 'web-1', stream = 'f0e1d2', offset = 1234): BatchLike {
  const text = Array.from({ length: lines }, (_, i) => `line ${i} héllo wörld ${'x'.repeat(i % 50)}\n`).join('');
  const data = Buffer.from(text);
  return {
    pos: { origin, stream, offset },
    meta: { host: 'web-1.example', program: 'nginx', facility: 16, severity: 6, timeMs: 1_763_800_000_123 },
    data,
    ends: indexLines(data),
  };
}

test('HELLO round-trips, with and without labels and token', () => {
  const full = { proto: PROTOCOL_VERSION, node: 'web-1', role: 'client' as const, version: '1.2.3', labels: { env: 'prod', dc: 'ams' }, token: 's3cr3t' };
  const f = roundTrip(encodeHello(full));
  assert.deepEqual(f, { type: 'hello', proto: 1, hello: full });
  const bare = { proto: PROTOCOL_VERSION, node: 'relay-a', role: 'relay' as const, version: '0.1.0' };
  assert.deepEqual(roundTrip(encodeHello(bare)), { type: 'hello', proto: 1, hello: bare });
});

test('a HELLO of another protocol version decodes with hello=null (so the server can refuse it)', () => {
  const f = roundTrip(encodeRawFrame(FRAME_TYPE.HELLO, Buffer.from(JSON.stringify({ proto: 2, whatever: true }))));
  assert.deepEqual(f, { type: 'hello', proto: 2, hello: null });
});

test('WELCOME, REFUSED, ACK, PING and PONG round-trip', () => {
  assert.deepEqual(roundTrip(encodeWelcome({ proto: 1, node: 'server-1' })), { type: 'welcome', welcome: { proto: 1, node: 'server-1' } });
  assert.deepEqual(roundTrip(encodeWelcome({ proto: 1, node: 's', maxFrameBytes: 4096 })), { type: 'welcome', welcome: { proto: 1, node: 's', maxFrameBytes: 4096 } });
  assert.deepEqual(roundTrip(encodeRefused({ code: 'LS_SHIP_REFUSED', reason: 'revoked' })), {
    type: 'refused',
    refused: { code: 'LS_SHIP_REFUSED', reason: 'revoked' },
  });
  for (const offset of [0, 1, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER]) {
    assert.deepEqual(roundTrip(encodeAck({ origin: 'wéb-1', stream: 's', offset })), { type: 'ack', ack: { origin: 'wéb-1', stream: 's', offset } });
  }
  assert.deepEqual(roundTrip(encodePing(42)), { type: 'ping', seq: 42 });
  assert.deepEqual(roundTrip(encodePong(2 ** 40 + 7)), { type: 'pong', seq: 2 ** 40 + 7 });
});

function assertBatchEqual(f: ShipFrame, b: BatchLike): void {
  assert.equal(f.type, 'batch');
  if (f.type !== 'batch') return;
  assert.deepEqual(f.batch.pos, b.pos);
  assert.deepEqual(f.batch.meta, b.meta);
  assert.ok(f.batch.data.equals(b.data));
  assert.deepEqual([...f.batch.ends], [...b.ends]);
}

test('BATCH round-trips compressed (levels 1, 3, 19) and uncompressed', () => {
  for (const level of [0, 1, 3, 19]) {
    const enc = new ShipBatchEncoder({ compressionLevel: level });
    for (const lines of [0, 1, 7, 1000]) {
      const b = sampleBatch(lines);
      const wire = enc.encode(b);
      if (level !== 0 && lines >= 7) assert.equal(wire[5 + 2 + 5 + 2 + 6 + 8 + 4], 1, 'zstd flag set');
      assertBatchEqual(roundTrip(wire), b);
    }
  }
});

test('BATCH keeps big offsets, unicode ids, partial last records and empty records', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 3 });
  const data = Buffer.from('a\n\nno newline at end');
  const b: BatchLike = {
    pos: { origin: 'nœud-ü', stream: '流-1', offset: Number.MAX_SAFE_INTEGER - data.length },
    meta: { host: '', program: '', facility: 0, severity: 0, timeMs: 0 },
    data,
    ends: Uint32Array.from([2, 3, 3, data.length]),
  };
  assertBatchEqual(roundTrip(enc.encode(b)), b);
});

test('BATCH ends may stop short of the data length (bytes after the last end are kept)', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 0 });
  const b: BatchLike = { ...sampleBatch(1), data: Buffer.from('abc\ndef'), ends: Uint32Array.from([4]) };
  assertBatchEqual(roundTrip(enc.encode(b)), b);
});

test('incompressible payloads are sent raw (flag clear) and still round-trip', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 3 });
  const data = Buffer.alloc(4096);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const b: BatchLike = { ...sampleBatch(0), data, ends: Uint32Array.from([data.length]) };
  const wire = enc.encode(b);
  assert.equal(wire[5 + 2 + 5 + 2 + 6 + 8 + 4], 0, 'zstd flag clear');
  assertBatchEqual(roundTrip(wire), b);
});

test('the encoder refuses batches over its frame bound with LS_FRAME_OVERSIZE', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 3, maxFrameBytes: 1000 });
  assert.throws(
    () => enc.encode(sampleBatch(200)),
    (e: unknown) => e instanceof LogshipError && e.code === 'LS_FRAME_OVERSIZE',
  );
  assert.throws(
    () => enc.encode({ ...sampleBatch(1), pos: { origin: 'x'.repeat(70_000), stream: 's', offset: 0 } }),
    (e: unknown) => e instanceof LogshipError && e.code === 'LS_FRAME_INVALID',
  );
});

// ---- malformed input -------------------------------------------------------------------------

interface RawBatchFields {
  origin?: string;
  stream?: string;
  offsetHi?: number;
  offsetLo?: number;
  count: number;
  flags: number;
  facility?: number;
  severity?: number;
  payloadLen: number;
  payload: Buffer;
  /** Written after time_ms when given (flag 0x08 must be set by the caller). */
  endOffset?: number;
}

/** Builds a BATCH body field by field, so each field can be made wrong. */
function rawBatchBody(f: RawBatchFields): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(2);
    h.writeUInt16BE(b.length);
    return Buffer.concat([h, b]);
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  return Buffer.concat([
    str(f.origin ?? 'o'),
    str(f.stream ?? 's'),
    u32(f.offsetHi ?? 0),
    u32(f.offsetLo ?? 0),
    u32(f.count),
    Buffer.from([f.flags]),
    str('h'),
    str('p'),
    Buffer.from([f.facility ?? 1, f.severity ?? 5]),
    u32(0),
    u32(0),
    ...(f.endOffset === undefined ? [] : [u32(Math.floor(f.endOffset / 2 ** 32)), u32(f.endOffset >>> 0)]),
    u32(f.payloadLen),
    f.payload,
  ]);
}

function payloadOf(ends: number[], data: string): Buffer {
  const e = Buffer.alloc(ends.length * 4);
  ends.forEach((v, i) => e.writeUInt32BE(v, i * 4));
  return Buffer.concat([e, Buffer.from(data)]);
}

test('a hand-built valid BATCH decodes (the malformed cases below differ from it in one field)', () => {
  const p = payloadOf([2, 4], 'a\nb\n');
  const f = decoder.decode(rawBatchBody({ count: 2, flags: 0, payloadLen: p.length, payload: p }));
  assert.deepEqual([...f.ends], [2, 4]);
  const z = new Compressor().compress(p);
  assert.equal(decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length, payload: z })).data.toString(), 'a\nb\n');
});

test('non-monotonic ends are invalid', () => {
  const p = payloadOf([3, 2], 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0, payloadLen: p.length, payload: p })));
  const z = new Compressor().compress(p);
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length, payload: z })));
});

test('an end past the data length is invalid', () => {
  const p = payloadOf([2, 5], 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0, payloadLen: p.length, payload: p })));
});

test('a record count that does not match the payload is invalid', () => {
  const p = payloadOf([2, 4], 'a\nb\n');
  // count 3 reads the first data bytes as an end: "a\nb\n" as u32 is far past the data length
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 3, flags: 0, payloadLen: p.length, payload: p })));
  // count too large to fit the payload at all
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 5, flags: 0, payloadLen: p.length, payload: p })));
});

test('a payload length that disagrees with the payload is invalid (raw and zstd)', () => {
  const p = payloadOf([2, 4], 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0, payloadLen: p.length + 1, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0, payloadLen: p.length - 1, payload: p })));
  const z = new Compressor().compress(p);
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length - 1, payload: z })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length + 1, payload: z })));
});

test('a corrupt zstd payload is invalid', () => {
  const p = payloadOf([2, 4], 'a\nb\n'.repeat(1));
  const z = Buffer.from(new Compressor().compress(p));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length, payload: z.subarray(0, z.length - 2) })));
  const bad = Buffer.from(z);
  bad[0] = 0x00; // magic number broken
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length, payload: bad })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 1, payloadLen: p.length, payload: Buffer.from('garbage!') })));
});

test('a zstd bomb cannot allocate more than the announced (and bounded) payload', () => {
  const big = Buffer.alloc(1 << 21, 0x61); // 2 MiB of "a" compresses to a few hundred bytes
  const z = new Compressor().compress(big);
  // announced honestly but over the decoder's 1 MiB bound
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 0, flags: 1, payloadLen: big.length, payload: z })));
  // announced small: decompression stops at the announced size
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 0, flags: 1, payloadLen: 1000, payload: z })));
});

test('unknown flags, out-of-range codes and offsets over 2^53 are invalid', () => {
  const p = payloadOf([2], 'a\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 1, flags: 0x20, payloadLen: p.length, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 1, flags: 0x80, payloadLen: p.length, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 1, flags: 0, facility: 24, payloadLen: p.length, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 1, flags: 0, severity: 8, payloadLen: p.length, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 1, flags: 0, offsetHi: 0x200000, payloadLen: p.length, payload: p })));
  expectInvalid(() =>
    decoder.decode(rawBatchBody({ count: 1, flags: 0, offsetHi: 0x1fffff, offsetLo: 0xffffffff, payloadLen: p.length, payload: p })),
  );
});

test('invalid UTF-8 in a string field is invalid', () => {
  const p = payloadOf([2], 'a\n');
  const body = rawBatchBody({ origin: 'ab', count: 1, flags: 0, payloadLen: p.length, payload: p });
  body[2] = 0xff;
  expectInvalid(() => decoder.decode(body));
});

test('every truncation of every frame type is invalid', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 3 });
  const frames = [
    enc.encode(sampleBatch(20)),
    new ShipBatchEncoder({ compressionLevel: 0 }).encode(sampleBatch(3)),
    new ShipBatchEncoder({ compressionLevel: 0 }).encode(compacted(sampleBatch(6), [0, 2, 3], { format: 'syslog' })),
    enc.encode(compacted(sampleBatch(30), [1, 5, 29])),
    encodeAck({ origin: 'o', stream: 's', offset: 9 }),
    encodePing(1),
    encodePong(1),
    encodeHello({ proto: 1, node: 'n', role: 'client', version: '1' }),
    encodeWelcome({ proto: 1, node: 'n' }),
    encodeRefused({ code: 'X', reason: 'y' }),
  ];
  for (const wire of frames) {
    const raw = rawOf(wire);
    for (let cut = 0; cut < raw.body.length; cut++) {
      expectInvalid(() => decodeShipFrame({ type: raw.type, body: raw.body.subarray(0, cut) }, decoder));
    }
  }
});

test('trailing bytes after an ACK or PING body are invalid', () => {
  for (const wire of [encodeAck({ origin: 'o', stream: 's', offset: 9 }), encodePing(3)]) {
    const raw = rawOf(wire);
    expectInvalid(() => decodeShipFrame({ type: raw.type, body: Buffer.concat([raw.body, Buffer.from([0])]) }, decoder));
  }
});

test('bad JSON control frames are invalid', () => {
  const cases: [number, string][] = [
    [FRAME_TYPE.HELLO, 'not json'],
    [FRAME_TYPE.HELLO, '[1]'],
    [FRAME_TYPE.HELLO, '{"node":"n"}'],
    [FRAME_TYPE.HELLO, '{"proto":1,"node":"n","role":"king","version":"1"}'],
    [FRAME_TYPE.HELLO, '{"proto":1,"node":"","role":"client","version":"1"}'],
    [FRAME_TYPE.HELLO, '{"proto":1,"node":"n","role":"client","version":"1","labels":{"a":1}}'],
    [FRAME_TYPE.HELLO, '{"proto":-1}'],
    [FRAME_TYPE.WELCOME, '{"proto":"1","node":"n"}'],
    [FRAME_TYPE.REFUSED, '{"code":1}'],
    [FRAME_TYPE.REFUSED, 'null'],
  ];
  for (const [type, json] of cases) {
    expectInvalid(() => decodeShipFrame({ type, body: Buffer.from(json) }, decoder));
  }
});

test('an unknown frame type is invalid', () => {
  expectInvalid(() => decodeShipFrame({ type: 0, body: Buffer.alloc(0) }, decoder));
  expectInvalid(() => decodeShipFrame({ type: 200, body: Buffer.alloc(8) }, decoder));
});

// ---- issue 3: syslog format, compacted batches (record offsets), end offsets -------------------

/** The records of `b` at `keep` as a compacted batch (as the router's compact() builds it). */
function compacted(b: BatchLike, keep: number[], meta: Partial<BatchLike['meta']> = {}): BatchLike {
  const parts: Buffer[] = [];
  const ends = new Uint32Array(keep.length);
  const recordOffsets = new Float64Array(keep.length);
  let at = 0;
  keep.forEach((i, k) => {
    const s = i === 0 ? 0 : b.ends[i - 1]!;
    const e = b.ends[i]!;
    parts.push(b.data.subarray(s, e));
    at += e - s;
    ends[k] = at;
    recordOffsets[k] = b.pos.offset + s;
  });
  return { pos: b.pos, meta: { ...b.meta, ...meta }, data: Buffer.concat(parts), ends, recordOffsets, endOffset: b.pos.offset + b.data.length };
}

function assertExtrasEqual(f: ShipFrame, b: BatchLike): void {
  assertBatchEqual(f, b);
  assert.ok(f.type === 'batch');
  const want = b.endOffset ?? b.pos.offset + b.data.length;
  // As the receiver builds it: same record offsets and end offset as the sender's batch.
  const got = new Batch(f.batch.data, f.batch.ends, f.batch.meta, f.batch.pos, f.batch.extras);
  assert.equal(got.endOffset, want);
  for (let i = 0; i < got.count; i++) {
    const exp = b.recordOffsets === undefined ? b.pos.offset + (i === 0 ? 0 : b.ends[i - 1]!) : b.recordOffsets[i]!;
    assert.equal(got.recordOffset(i), exp, `record ${i} offset`);
  }
  assert.equal(f.batch.extras?.recordOffsets === undefined, b.recordOffsets === undefined, 'record offsets sent iff present');
  assert.equal(f.batch.extras?.endOffset === undefined, want === b.pos.offset + b.data.length, 'end offset sent iff it differs');
}

test('issue 3: meta.format syslog round-trips as a flag (and its absence stays absent)', () => {
  for (const level of [0, 3]) {
    const enc = new ShipBatchEncoder({ compressionLevel: level });
    const b: BatchLike = { ...sampleBatch(5), meta: { ...sampleBatch(0).meta, format: 'syslog' } };
    const f = roundTrip(enc.encode(b));
    assertBatchEqual(f, b);
    assert.ok(f.type === 'batch' && f.batch.meta.format === 'syslog');
    const plain = roundTrip(enc.encode(sampleBatch(5)));
    assert.ok(plain.type === 'batch' && !('format' in plain.batch.meta));
    assert.equal(plain.type === 'batch' && plain.batch.extras, undefined);
  }
});

test('issue 3: a compacted batch keeps its record offsets and end offset (raw and zstd)', () => {
  for (const level of [0, 3]) {
    const enc = new ShipBatchEncoder({ compressionLevel: level });
    const full = sampleBatch(200);
    for (const keep of [[0], [199], [0, 1, 2], [3, 50, 51, 199], Array.from({ length: 100 }, (_, i) => i * 2)]) {
      const c = compacted(full, keep, { format: 'syslog' });
      assertExtrasEqual(roundTrip(enc.encode(c)), c);
    }
  }
});

test('issue 3: a core Batch (from the router) round-trips with its extras, big offsets and big gaps', async () => {
  const { compact } = await import('../../../../src/core/batch.js');
  const enc = new ShipBatchEncoder({ compressionLevel: 3 });
  const data = Buffer.from('keep-0\ndrop-1\nkeep-2\ndrop-3\ndrop-4\nkeep-5\n');
  const b = new Batch(data, indexLines(data), { host: 'h', program: 'p', facility: 1, severity: 5, timeMs: 1, format: 'syslog' }, { origin: 'o', stream: 's', offset: 2 ** 40 });
  const c = compact(b, Uint8Array.from([1, 0, 1, 0, 0, 1]))!;
  assertExtrasEqual(roundTrip(enc.encode(c)), c);
  // Gaps wider than 2^32 (varints of 5+ bytes) and an end offset far past the last record.
  const far: BatchLike = {
    pos: { origin: 'o', stream: 's', offset: 7 },
    meta: sampleBatch(0).meta,
    data: Buffer.from('a\nb\n'),
    ends: Uint32Array.from([2, 4]),
    recordOffsets: Float64Array.from([7 + 2 ** 33, 2 ** 52]),
    endOffset: Number.MAX_SAFE_INTEGER,
  };
  assertExtrasEqual(roundTrip(enc.encode(far)), far);
});

test('issue 3: an end offset past the data (no record offsets) round-trips; equal to offset+length it is not sent', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 0 });
  const b = { ...sampleBatch(3), endOffset: 1234 + sampleBatch(3).data.length + 99 };
  assertExtrasEqual(roundTrip(enc.encode(b)), b);
  const same = { ...sampleBatch(3), endOffset: 1234 + sampleBatch(3).data.length };
  const wire = enc.encode(same);
  assert.equal(wire.length, enc.encode(sampleBatch(3)).length, 'no end offset field');
  assertExtrasEqual(roundTrip(wire), same);
});

test('issue 3: the encoder refuses inconsistent record offsets and end offsets (LS_FRAME_INVALID)', () => {
  const enc = new ShipBatchEncoder({ compressionLevel: 0 });
  const base = compacted(sampleBatch(10), [2, 4, 6]);
  const bad = (over: Partial<BatchLike>) =>
    assert.throws(
      () => enc.encode({ ...base, ...over }),
      (e: unknown) => e instanceof LogshipError && e.code === 'LS_FRAME_INVALID',
    );
  const o = base.recordOffsets!;
  bad({ recordOffsets: Float64Array.from([o[0]!, o[0]!, o[2]!]) }); // overlapping records
  bad({ recordOffsets: Float64Array.from([o[1]!, o[0]!, o[2]!]) }); // not increasing
  bad({ recordOffsets: Float64Array.from([base.pos.offset - 1, o[1]!, o[2]!]) }); // before the batch
  bad({ recordOffsets: Float64Array.from([o[0]!, o[1]!]) }); // wrong count
  bad({ endOffset: o[2]! }); // records pass the end
  bad({ recordOffsets: undefined, endOffset: base.pos.offset + 1 }); // contiguous records pass the end
});

/** LEB128 of a non-negative integer. */
function varints(...vs: number[]): Buffer {
  const out: number[] = [];
  for (let v of vs) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  }
  return Buffer.from(out);
}

function offsetsPayload(ends: number[], gaps: Buffer, data: string): Buffer {
  const e = Buffer.alloc(ends.length * 4);
  ends.forEach((v, i) => e.writeUInt32BE(v, i * 4));
  return Buffer.concat([e, gaps, Buffer.from(data)]);
}

test('issue 3: hand-built record offsets decode; malformed ones are invalid', () => {
  const ok = offsetsPayload([2, 4], varints(3, 10), 'a\nb\n');
  const f = decoder.decode(rawBatchBody({ count: 2, flags: 0x0c, offsetLo: 100, endOffset: 200, payloadLen: ok.length, payload: ok }));
  assert.deepEqual([...f.extras!.recordOffsets!], [103, 115]);
  assert.equal(f.extras!.endOffset, 200);
  assert.equal(f.data.toString(), 'a\nb\n');
  // gaps truncated (the second varint never ends)
  const trunc = offsetsPayload([2, 4], Buffer.from([3, 0x80]), '');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x0c, endOffset: 200, payloadLen: trunc.length, payload: trunc })));
  // a varint longer than 8 bytes
  const long = offsetsPayload([2, 4], Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0]), 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x0c, endOffset: 200, payloadLen: long.length, payload: long })));
  // records end past the end offset
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x0c, offsetLo: 100, endOffset: 110, payloadLen: ok.length, payload: ok })));
  // record offsets past 2^53
  const huge = offsetsPayload([2, 4], varints(2 ** 52, 2 ** 52), 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x04, payloadLen: huge.length, payload: huge })));
  // offsets without an end offset must stay inside offset + data length
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x04, payloadLen: ok.length, payload: ok })));
  const zero = offsetsPayload([2, 4], varints(0, 0), 'a\nb\n');
  assert.deepEqual([...decoder.decode(rawBatchBody({ count: 2, flags: 0x04, payloadLen: zero.length, payload: zero })).extras!.recordOffsets!], [0, 2]);
  // an end offset before the last record's end, and one before the batch offset
  const p = payloadOf([2, 4], 'a\nb\n');
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x08, offsetLo: 100, endOffset: 103, payloadLen: p.length, payload: p })));
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 0, flags: 0x08, offsetLo: 100, endOffset: 99, payloadLen: 0, payload: Buffer.alloc(0) })));
  // record offsets with a count that cannot fit one gap byte per record
  expectInvalid(() => decoder.decode(rawBatchBody({ count: 2, flags: 0x0c, endOffset: 200, payloadLen: 9, payload: Buffer.alloc(9) })));
});

test('issue 4: the rerouted flag (0x10) round-trips from a batch, or set in an encoded frame by markRerouted; absent stays absent', () => {
  for (const level of [0, 3]) {
    const enc = new ShipBatchEncoder({ compressionLevel: level });
    const plain = enc.encode(sampleBatch(7, 'origin-ü', 'stream-42', 2 ** 40));
    const p = roundTrip(plain);
    assert.ok(p.type === 'batch' && p.batch.extras === undefined, 'no extras without the flag');
    markRerouted(plain);
    const marked = roundTrip(plain);
    assert.ok(marked.type === 'batch');
    assert.equal(marked.batch.extras?.rerouted, true);
    assertBatchEqual(marked, sampleBatch(7, 'origin-ü', 'stream-42', 2 ** 40));
    // From a batch that carries it (a relay forwarding what it received rerouted), with other extras too.
    const c = { ...compacted(sampleBatch(20), [1, 4, 19]), rerouted: true };
    const f = roundTrip(enc.encode(c));
    assertExtrasEqual(f, c);
    assert.ok(f.type === 'batch' && f.batch.extras?.rerouted === true);
    const b = new Batch(f.batch.data, f.batch.ends, f.batch.meta, f.batch.pos, f.batch.extras);
    assert.equal(b.rerouted, true);
  }
});
