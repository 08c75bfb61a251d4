// Unit tests of the RFC 6587 §3.4.2 newline deframer: chunking, stripping, oversize policies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRAME_FLAG, NewlineDeframer, type DeframerOptions } from '../../../../src/codec/framing/newline.js';

interface Rec {
  text: string;
  flags: number;
}

/** Feeds the chunks one by one, pulling records after each; then finish(). */
function run(opts: DeframerOptions, chunks: (string | Buffer)[], atEnd = true): Rec[] {
  const d = new NewlineDeframer(opts);
  const out: Rec[] = [];
  for (const c of chunks) {
    d.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    while (d.next()) out.push({ text: d.buf.toString('latin1', d.start, d.end), flags: d.flags });
  }
  if (atEnd && d.finish()) out.push({ text: d.buf.toString('latin1', d.start, d.end), flags: d.flags });
  return out;
}

const texts = (r: Rec[]): string[] => r.map((x) => x.text);
const big = { maxMessageBytes: 1024, oversize: 'truncate' } as const;

test('many messages in one chunk', () => {
  assert.deepEqual(texts(run(big, ['<13>a\n<13>b\n<13>c\n'])), ['<13>a', '<13>b', '<13>c']);
});

test('one message across many chunks, byte by byte', () => {
  const msg = '<13>Jan  1 00:00:00 host app: hello world\n<14>second\n';
  const chunks = [...msg].map((ch) => ch);
  assert.deepEqual(texts(run(big, chunks)), ['<13>Jan  1 00:00:00 host app: hello world', '<14>second']);
});

test('CRLF, trailing NUL and blank lines are stripped; inner NUL and invalid UTF-8 kept as bytes', () => {
  const raw = Buffer.concat([Buffer.from('a\r\n\n\r\nb\0\n'), Buffer.from([0x63, 0x00, 0xff, 0xfe, 0x64, 0x0a])]);
  const d = new NewlineDeframer(big);
  d.push(raw);
  const got: Buffer[] = [];
  while (d.next()) got.push(Buffer.from(d.buf.subarray(d.start, d.end)));
  assert.deepEqual(got, [Buffer.from('a'), Buffer.from('b'), Buffer.from([0x63, 0x00, 0xff, 0xfe, 0x64])]);
});

test('a record inside one chunk is a view of that chunk (no copy)', () => {
  const d = new NewlineDeframer(big);
  const chunk = Buffer.from('abc\ndef\n');
  d.push(chunk);
  assert.equal(d.next(), true);
  assert.equal(d.buf, chunk);
  assert.equal(d.start, 0);
  assert.equal(d.end, 3);
});

test('perf-hot: stable tells a record in a received chunk from one gathered in the carry buffer', () => {
  const d = new NewlineDeframer(big);
  d.push(Buffer.from('abc\nde'));
  assert.equal(d.next(), true);
  assert.equal(d.stable, true);
  assert.equal(d.next(), false);
  d.push(Buffer.from('f\nghi\n'));
  assert.equal(d.next(), true);
  assert.equal(d.buf.toString('latin1', d.start, d.end), 'def');
  assert.equal(d.stable, false, 'spans two chunks: in the carry buffer, which the next spanning record overwrites');
  assert.equal(d.next(), true);
  assert.equal(d.stable, true);
});

test('the unterminated last message comes out on finish() with PARTIAL, once', () => {
  const d = new NewlineDeframer(big);
  d.push(Buffer.from('a\nbc'));
  d.push(Buffer.from('d'));
  assert.equal(d.next(), true);
  assert.equal(d.next(), false);
  assert.equal(d.bufferedBytes, 3);
  assert.equal(d.finish(), true);
  assert.equal(d.buf.toString('latin1', d.start, d.end), 'bcd');
  assert.equal(d.flags, FRAME_FLAG.PARTIAL);
  assert.equal(d.finish(), false);
});

test('oversize truncate: first max bytes kept, rest up to LF discarded, flagged once', () => {
  const opts = { maxMessageBytes: 4, oversize: 'truncate' } as const;
  for (const chunks of [['abcdefghij\nxy\n'], ['ab', 'cdef', 'ghij\n', 'xy\n'], [...'abcdefghij\nxy\n']]) {
    const r = run(opts, chunks);
    assert.deepEqual(texts(r), ['abcd', 'xy'], JSON.stringify(chunks));
    assert.equal(r[0]!.flags, FRAME_FLAG.OVERSIZE | FRAME_FLAG.TRUNCATED);
    assert.equal(r[1]!.flags, 0);
  }
});

test('oversize split: every piece is a record; only the first is flagged OVERSIZE', () => {
  const opts = { maxMessageBytes: 4, oversize: 'split' } as const;
  for (const chunks of [['abcdefghij\nxy\n'], ['abc', 'defgh', 'ij\nx', 'y\n'], [...'abcdefghij\nxy\n']]) {
    const r = run(opts, chunks);
    assert.deepEqual(texts(r), ['abcd', 'efgh', 'ij', 'xy'], JSON.stringify(chunks));
    assert.deepEqual(
      r.map((x) => x.flags),
      [FRAME_FLAG.OVERSIZE | FRAME_FLAG.SPLIT, FRAME_FLAG.SPLIT, FRAME_FLAG.SPLIT, 0],
    );
  }
});

test('a message of exactly max bytes is not cut', () => {
  const r = run({ maxMessageBytes: 4, oversize: 'truncate' }, ['ab', 'cd', '\nefgh\n']);
  assert.deepEqual(r, [
    { text: 'abcd', flags: 0 },
    { text: 'efgh', flags: 0 },
  ]);
});

test('carry stays bounded by maxMessageBytes whatever arrives without LF', () => {
  const d = new NewlineDeframer({ maxMessageBytes: 100, oversize: 'truncate' });
  let records = 0;
  for (let i = 0; i < 1000; i++) {
    d.push(Buffer.alloc(37, 0x41));
    while (d.next()) records++;
    assert.ok(d.bufferedBytes <= 100);
  }
  assert.equal(records, 1);
});

test('push() while records remain unread queues the chunk', () => {
  const d = new NewlineDeframer(big);
  d.push(Buffer.from('a\nb'));
  d.push(Buffer.from('c\nd\n'));
  const got: string[] = [];
  while (d.next()) got.push(d.buf.toString('latin1', d.start, d.end));
  assert.deepEqual(got, ['a', 'bc', 'd']);
  assert.equal(d.bufferedBytes, 0);
});
