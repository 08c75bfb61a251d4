import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch, compact, indexLines } from '../../../src/core/batch.js';

const META = { host: 'h', program: 'p', facility: 1, severity: 5, timeMs: 0 };

function batch(lines: string[], offset = 1000): Batch {
  const data = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  return new Batch(data, indexLines(data), META, { origin: 'o', stream: 's', offset }, { rerouted: true });
}

function texts(b: Batch): string[] {
  return Array.from({ length: b.count }, (_, i) => b.data.toString('latin1', b.recordStart(i), b.textEnd(i)));
}

test('compact keeps the masked records, each with its stream offset, runs of neighbours and lone ones alike', () => {
  const lines = ['a', 'bb', 'ccc', 'dddd', 'e', 'ff', 'ggg', 'h'];
  const b = batch(lines);
  for (const mask of [
    [1, 1, 0, 1, 1, 1, 0, 1],
    [0, 1, 0, 1, 0, 1, 0, 1],
    [1, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 1],
    [0, 1, 1, 1, 1, 1, 1, 0],
  ]) {
    const c = compact(b, Uint8Array.from(mask))!;
    const keep = lines.map((_, i) => i).filter((i) => mask[i] === 1);
    assert.deepEqual(texts(c), keep.map((i) => lines[i]), mask.join(''));
    assert.deepEqual([...c.recordOffsets!], keep.map((i) => b.recordOffset(i)), mask.join(''));
    assert.equal(c.data.length, c.ends[c.count - 1]);
    assert.equal(c.endOffset, b.endOffset, 'the end of the whole range, dropped records included');
    assert.equal(c.rerouted, true);
  }
  assert.equal(compact(b, new Uint8Array(8).fill(1)), b, 'all kept: the batch itself');
  assert.equal(compact(b, new Uint8Array(8)), null, 'none kept');
});
