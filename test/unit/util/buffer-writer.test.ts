// Unit tests of util/buffer-writer.ts: growth keeps what was written, every append kind, reset bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferWriter } from '../../../src/util/buffer-writer.js';

test('appends of every kind across many growths equal the same bytes built by Buffer.concat', () => {
  const w = new BufferWriter({ initialBytes: 16 });
  const want: Buffer[] = [];
  const big = Buffer.alloc(1000, 0x61);
  for (let k = 0; k < 300; k++) {
    w.byte(0x3c);
    w.uint(k * 7919);
    w.pad2(k % 100);
    w.padN(k, 4);
    w.string(`é-${k}-ascii-😀`);
    w.bytes(big, k, k + (k % 50)); // short copies (a loop) and long ones (native)
    w.bytes(big, 0, 40 + k);
    want.push(
      Buffer.from(`<${k * 7919}${String(k % 100).padStart(2, '0')}${String(k).padStart(4, '0').slice(-4)}é-${k}-ascii-😀`),
      big.subarray(k, k + (k % 50)),
      big.subarray(0, 40 + k),
    );
  }
  assert.deepEqual(w.view(), Buffer.concat(want));
  assert.equal(w.length, Buffer.concat(want).length);
});

test('uint writes 0, powers of ten and large integers', () => {
  for (const v of [0, 9, 10, 99, 100, 191, 1000, 123456789, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const w = new BufferWriter({ initialBytes: 16 });
    w.uint(v);
    assert.equal(w.view().toString(), String(v));
  }
});

test('insertAscii puts an octet count before a message already written', () => {
  const w = new BufferWriter({ initialBytes: 16 });
  w.string('first\n');
  const at = w.length;
  w.string('<13>1 - - - - - - hello');
  w.insertAscii(at, `${w.length - at} `);
  assert.equal(w.view().toString(), 'first\n23 <13>1 - - - - - - hello');
});

test('toBuffer copies; reset empties and drops a buffer grown past maxRetainedBytes', () => {
  const w = new BufferWriter({ initialBytes: 16, maxRetainedBytes: 64 });
  w.string('abc');
  const copy = w.toBuffer();
  w.reset();
  assert.equal(w.length, 0);
  w.string('xyz');
  assert.equal(copy.toString(), 'abc');
  assert.equal(w.capacity, 16);
  w.bytes(Buffer.alloc(1000));
  assert.equal(w.length, 1003);
  assert.ok(w.capacity >= 1003);
  w.reset();
  assert.equal(w.capacity, 16);
  w.string('after');
  assert.equal(w.view().toString(), 'after');
});
