// Unit tests of the length-prefixed deframer: any chunking gives the same frames; bad headers fail closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogshipError } from '../../../../src/core/errors.js';
import { encodeRawFrame, frameHeader, LengthPrefixedDeframer, type RawFrame } from '../../../../src/codec/framing/length-prefixed.js';
import { prng } from '../../../helpers/prng.js';

function sampleFrames(rand: () => number): { type: number; body: Buffer }[] {
  const out: { type: number; body: Buffer }[] = [];
  for (let i = 0; i < 200; i++) {
    const len = i % 17 === 0 ? 0 : Math.floor(rand() * (i % 5 === 0 ? 5000 : 40));
    const body = Buffer.allocUnsafe(len);
    for (let j = 0; j < len; j++) body[j] = Math.floor(rand() * 256);
    out.push({ type: 1 + (i % 7), body });
  }
  return out;
}

function drain(d: LengthPrefixedDeframer, into: RawFrame[]): void {
  for (let f = d.next(); f !== null; f = d.next()) into.push({ type: f.type, body: Buffer.from(f.body) });
}

function assertSame(got: RawFrame[], want: { type: number; body: Buffer }[]): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i]!.type, want[i]!.type, `type of frame ${i}`);
    assert.ok(got[i]!.body.equals(want[i]!.body), `body of frame ${i}`);
  }
}

test('frames fed byte by byte come out whole and in order', () => {
  const frames = sampleFrames(prng(1));
  const wire = Buffer.concat(frames.map((f) => encodeRawFrame(f.type, f.body)));
  const d = new LengthPrefixedDeframer(1 << 20);
  const got: RawFrame[] = [];
  for (let i = 0; i < wire.length; i++) {
    d.push(wire.subarray(i, i + 1));
    drain(d, got);
  }
  assertSame(got, frames);
  assert.equal(d.bufferedBytes, 0);
});

test('frames fed in random chunk sizes come out whole and in order', () => {
  for (let seed = 2; seed < 22; seed++) {
    const rand = prng(seed);
    const frames = sampleFrames(rand);
    const wire = Buffer.concat(frames.map((f) => encodeRawFrame(f.type, f.body)));
    const d = new LengthPrefixedDeframer(1 << 20);
    const got: RawFrame[] = [];
    for (let i = 0; i < wire.length; ) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 9000));
      d.push(wire.subarray(i, i + n));
      i += n;
      if (rand() < 0.8) drain(d, got);
    }
    drain(d, got);
    assertSame(got, frames);
  }
});

test('a frame inside one chunk is returned without copying', () => {
  const wire = Buffer.concat([encodeRawFrame(4, Buffer.from('abc')), encodeRawFrame(5, Buffer.from('de'))]);
  const d = new LengthPrefixedDeframer();
  d.push(wire);
  const f = d.next();
  assert.ok(f !== null);
  assert.equal(f.body.buffer, wire.buffer);
  assert.equal(f.body.toString(), 'abc');
  assert.equal(d.next()?.body.toString(), 'de');
  assert.equal(d.next(), null);
});

test('frameHeader matches encodeRawFrame', () => {
  const body = Buffer.from('hello');
  assert.ok(Buffer.concat([frameHeader(7, body.length), body]).equals(encodeRawFrame(7, body)));
});

function expectFrameError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LogshipError);
    assert.equal(err.code, code);
    assert.equal(err.canContinue, false);
    return true;
  });
}

test('an oversize length fails as soon as the length is known, and the deframer stays failed', () => {
  const d = new LengthPrefixedDeframer(100);
  d.push(encodeRawFrame(4, Buffer.alloc(99)));
  assert.equal(d.next()?.body.length, 99); // exactly max (type + 99 bytes of body = 100)
  const h = frameHeader(4, 100); // length 101
  d.push(h.subarray(0, 3));
  assert.equal(d.next(), null);
  d.push(h.subarray(3, 4));
  expectFrameError(() => d.next(), 'LS_FRAME_OVERSIZE');
  d.push(encodeRawFrame(4, Buffer.alloc(1)));
  expectFrameError(() => d.next(), 'LS_FRAME_OVERSIZE');
});

test('a zero length is invalid', () => {
  const d = new LengthPrefixedDeframer();
  d.push(Buffer.from([0, 0, 0, 0, 9]));
  expectFrameError(() => d.next(), 'LS_FRAME_INVALID');
});

test('a truncated frame yields nothing until its bytes arrive', () => {
  const wire = encodeRawFrame(4, Buffer.from('0123456789'));
  for (let cut = 0; cut < wire.length; cut++) {
    const d = new LengthPrefixedDeframer();
    d.push(wire.subarray(0, cut));
    assert.equal(d.next(), null, `cut at ${cut}`);
    d.push(wire.subarray(cut));
    assert.equal(d.next()?.body.toString(), '0123456789');
  }
});

test('the bound is validated', () => {
  assert.throws(() => new LengthPrefixedDeframer(0), (e: unknown) => e instanceof LogshipError && e.code === 'LS_INTERNAL');
});
