import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch, indexLines, type BatchMeta } from '../../../../src/core/batch.js';
import { compileLineFormat, encodedBound, encodeRecords, renderLines } from '../../../../src/destinations/file/format.js';

const META: BatchMeta = { host: 'web-1', program: 'nginx', facility: 3, severity: 4, timeMs: Date.UTC(2026, 10, 23, 10, 33, 0, 123) };

function batchOf(text: string | Buffer, meta: BatchMeta = META, offset = 0): Batch {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  return new Batch(data, indexLines(data), meta, { origin: 'n', stream: 's', offset });
}

function format(template: string, b: Batch, first = 0, from = 0): string {
  const lines = renderLines(compileLineFormat(template), b.meta);
  const out = Buffer.alloc(encodedBound(lines, b, first, from));
  const end = encodeRecords(out, 0, lines, b, first, from);
  return out.subarray(0, end).toString('latin1');
}

test('default format is like syslog-ng file output', () => {
  assert.equal(
    format('default', batchOf('hello\nworld\n')),
    '2026-11-23T10:33:00.123Z web-1 nginx: hello\n2026-11-23T10:33:00.123Z web-1 nginx: world\n',
  );
});

test('raw writes the original lines only; CRLF is normalized to LF', () => {
  assert.equal(format('raw', batchOf('a\r\nb\n\nc\n')), 'a\nb\n\nc\n');
});

test('custom template with every macro and two messages', () => {
  const t = '${PRI} ${facility}.${severity} ${YEAR}${MONTH}${DAY}${HOUR}${MIN}${SEC} [${MESSAGE}|${MESSAGE}]';
  assert.equal(format(t, batchOf('x\ny\n')), '28 daemon.warning 20261123103300 [x|x]\n28 daemon.warning 20261123103300 [y|y]\n');
});

test('a template without ${MESSAGE} writes one line per record', () => {
  assert.equal(format('${host}', batchOf('a\nb\n')), 'web-1\nweb-1\n');
});

test('NUL is dropped; a stray CR and invalid UTF-8 are kept', () => {
  const data = Buffer.concat([Buffer.from('a\u0000b\rc'), Buffer.from([0xff, 0xfe]), Buffer.from('\n\u0000\u0000\nz\u0000\n')]);
  const out = format('raw', batchOf(data));
  assert.deepEqual(Buffer.from(out, 'latin1'), Buffer.concat([Buffer.from('ab\rc'), Buffer.from([0xff, 0xfe]), Buffer.from('\n\nz\n')]));
  assert.equal(format('<${MESSAGE}|${MESSAGE}>', batchOf('a\u0000b\nc\n')), '<ab|ab>\n<c|c>\n');
});

test('control characters in host or program cannot break the line', () => {
  const meta = { ...META, host: 'evil\nhost', program: 'p\u0000' };
  assert.equal(format('${host} ${program}: ${MESSAGE}', batchOf('m\n', meta)), 'evil_host p_: m\n');
});

test('writing from a record in the middle (dedupe) and from inside a record (straddle)', () => {
  const b = batchOf('aaa\nbbb\nccc\n');
  assert.equal(format('raw', b, 1, 4), 'bbb\nccc\n');
  assert.equal(format('raw', b, 1, 6), 'b\nccc\n');
  assert.equal(format('raw', b, 3, 12), '');
});

test('a last record without terminator gets one', () => {
  const data = Buffer.from('one\ntwo');
  const b = new Batch(data, new Uint32Array([4, 7]), META, { origin: 'n', stream: 's', offset: 0 });
  assert.equal(format('raw', b), 'one\ntwo\n');
});

test('the bound is never exceeded', () => {
  const b = batchOf('x\r\n\u0000\n\n'.repeat(50));
  for (const t of ['raw', 'default', '${MESSAGE}${MESSAGE}${MESSAGE}', 'const']) {
    const lines = renderLines(compileLineFormat(t), b.meta);
    const bound = encodedBound(lines, b, 0, 0);
    const out = Buffer.alloc(bound + 16, 0x21);
    const end = encodeRecords(out, 0, lines, b, 0, 0);
    assert.ok(end <= bound, t);
    assert.equal(out[bound], 0x21);
  }
});
