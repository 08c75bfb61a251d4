// Unit tests of the RFC 6587 §3.4.1 octet-counting deframer: chunking, mixing, oversize, broken counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRAME_FLAG } from '../../../../src/codec/framing/newline.js';
import { OctetCountingDeframer, type OctetCountingOptions } from '../../../../src/codec/framing/octet-counting.js';
import { LogshipError } from '../../../../src/core/errors.js';

interface Rec {
  text: string;
  flags: number;
}

function run(opts: OctetCountingOptions, chunks: string[], atEnd = true): Rec[] {
  const d = new OctetCountingDeframer(opts);
  const out: Rec[] = [];
  for (const c of chunks) {
    d.push(Buffer.from(c, 'latin1'));
    while (d.next()) out.push({ text: d.buf.toString('latin1', d.start, d.end), flags: d.flags });
  }
  if (atEnd && d.finish()) out.push({ text: d.buf.toString('latin1', d.start, d.end), flags: d.flags });
  return out;
}

const texts = (r: Rec[]): string[] => r.map((x) => x.text);
const big = { maxMessageBytes: 1024, oversize: 'truncate' } as const;

/** Every split of `s` into chunks of `n` bytes. */
const chunked = (s: string, n: number): string[] => Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, i * n + n));

test('many frames in one chunk, and the same stream in chunks of every size', () => {
  const stream = '5 <13>a11 <13>b\nline\n6 <13>cd';
  for (let n = 1; n <= stream.length; n++) {
    assert.deepEqual(texts(run(big, chunked(stream, n))), ['<13>a', '<13>b\nline', '<13>cd'], `chunk size ${n}`);
  }
});

test('a message may contain LF; trailing LF/CR/NUL stripped; LF between frames skipped', () => {
  assert.deepEqual(texts(run(big, ['7 a\nb\r\n\0\n\n3 xyz\r\n'])), ['a\nb', 'xyz']);
});

test('frames not starting with a digit are newline-framed (mixing per message, as rsyslog)', () => {
  assert.deepEqual(texts(run(big, ['5 <13>a<14>line one\n3 xyz<15>line two\n'])), ['<13>a', '<14>line one', 'xyz', '<15>line two']);
});

test('without allowNonTransparent, a frame starting with a non-digit breaks the stream', () => {
  const d = new OctetCountingDeframer({ ...big, allowNonTransparent: false });
  d.push(Buffer.from('3 abc<13>x\n'));
  assert.equal(d.next(), true);
  assert.throws(
    () => d.next(),
    (err: unknown) => err instanceof LogshipError && err.code === 'LS_FRAME_INVALID' && !err.canContinue,
  );
});

test('a count not followed by SP fails with LS_FRAME_INVALID, canContinue=false, and stays failed', () => {
  const d = new OctetCountingDeframer(big);
  d.push(Buffer.from('3 abc12x'));
  assert.equal(d.next(), true);
  const isInvalid = (err: unknown): boolean => err instanceof LogshipError && err.code === 'LS_FRAME_INVALID' && err.canContinue === false;
  assert.throws(() => d.next(), isInvalid);
  d.push(Buffer.from('3 abc'));
  assert.throws(() => d.next(), isInvalid);
  assert.equal(d.finish(), false);
});

test('an absurd count fails with LS_FRAME_OVERSIZE before its digits end', () => {
  const d = new OctetCountingDeframer({ maxMessageBytes: 100, oversize: 'truncate', maxFrameBytes: 1000 });
  d.push(Buffer.from('10001'));
  assert.throws(
    () => d.next(),
    (err: unknown) => err instanceof LogshipError && err.code === 'LS_FRAME_OVERSIZE' && !err.canContinue,
  );
  const d2 = new OctetCountingDeframer(big);
  d2.push(Buffer.from('99999999999999999999 x'));
  assert.throws(() => d2.next(), (err: unknown) => err instanceof LogshipError && err.code === 'LS_FRAME_OVERSIZE');
});

test('oversize truncate keeps the first piece and stays in sync', () => {
  const stream = '10 abcdefghij2 xy';
  for (let n = 1; n <= stream.length; n++) {
    const r = run({ maxMessageBytes: 4, oversize: 'truncate' }, chunked(stream, n));
    assert.deepEqual(r, [
      { text: 'abcd', flags: FRAME_FLAG.OVERSIZE | FRAME_FLAG.TRUNCATED },
      { text: 'xy', flags: 0 },
    ], `chunk size ${n}`);
  }
});

test('oversize split returns every piece, the first flagged OVERSIZE', () => {
  const stream = '10 abcdefghij2 xy';
  for (let n = 1; n <= stream.length; n++) {
    const r = run({ maxMessageBytes: 4, oversize: 'split' }, chunked(stream, n));
    assert.deepEqual(r, [
      { text: 'abcd', flags: FRAME_FLAG.OVERSIZE | FRAME_FLAG.SPLIT },
      { text: 'efgh', flags: FRAME_FLAG.SPLIT },
      { text: 'ij', flags: FRAME_FLAG.SPLIT },
      { text: 'xy', flags: 0 },
    ], `chunk size ${n}`);
  }
});

test('a frame cut by the end of the stream comes out on finish() with PARTIAL', () => {
  const r = run(big, ['5 ab', 'c']);
  assert.deepEqual(r, [{ text: 'abc', flags: FRAME_FLAG.PARTIAL }]);
  assert.deepEqual(run(big, ['5 abcde12']), [{ text: 'abcde', flags: 0 }]);
  assert.deepEqual(run(big, ['<13>no newline']), [{ text: '<13>no newline', flags: FRAME_FLAG.PARTIAL }]);
});

test('records inside one chunk are views of it (no copy)', () => {
  const d = new OctetCountingDeframer(big);
  const chunk = Buffer.from('3 abc3 def');
  d.push(chunk);
  assert.equal(d.next(), true);
  assert.equal(d.buf, chunk);
  assert.equal(d.next(), true);
  assert.equal(d.buf, chunk);
  assert.equal(d.buf.toString('latin1', d.start, d.end), 'def');
});
