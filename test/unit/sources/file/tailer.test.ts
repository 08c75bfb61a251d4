// Tailer idle safety checks: spread over ±25 %, doubling from poll_interval_ms up to the max.
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { test } from 'node:test';
import { ReadBuffers } from '../../../../src/sources/common/buffers.js';
import { FileTailer, idleDelay, type TailerConfig, type TailerHost } from '../../../../src/sources/file/tailer.js';

test('idleDelay spreads a delay over ±25 %', () => {
  assert.equal(idleDelay(1000, 0), 750);
  assert.equal(idleDelay(1000, 0.5), 1000);
  assert.equal(idleDelay(1000, 0.999999), 1250);
  assert.equal(idleDelay(1, 0), 1, 'never 0');
});

test('an unchanged file is checked ever less often: the delay doubles from poll_interval_ms to the max', () => {
  const cfg: TailerConfig = {
    maxLineBytes: 100,
    partialFlushMs: 0,
    readChunkBytes: 1000,
    buffers: new ReadBuffers(1000, 4),
    pollIntervalMs: 1000,
    maxPollIntervalMs: 30_000,
    rotateWaitMs: 0,
    host: 'h',
    facility: 1,
    severity: 5,
    syslog: false,
  };
  const t = new FileTailer({} as FileHandle, '/x.log', { dev: '1', ino: '2', fingerprint: '', fpLen: 0 }, 's', 0, true, 'x', cfg, {} as TailerHost);
  assert.ok(t.nextCheckAt <= Date.now() + 1000, 'first check after poll_interval_ms');
  const delays: number[] = [];
  let now = 1_000_000;
  for (let i = 0; i < 8; i++) {
    t.checking(now);
    delays.push(t.nextCheckAt - now);
    now = t.nextCheckAt;
  }
  const bases = [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000];
  delays.forEach((d, i) => assert.ok(d >= 0.75 * bases[i]! && d <= 1.25 * bases[i]!, `check ${i}: ${d} ms for a base of ${bases[i]} ms`));
});

test('ReadBuffers: big reads reuse given-back chunks (at most maxFree kept); small reads get their own size', () => {
  const p = new ReadBuffers(1000, 2);
  const small = p.take(499);
  assert.equal(small.length, 499);
  p.give(small); // not a chunk: not kept
  assert.equal(p.free, 0);
  const a = p.take(500);
  const b = p.take(1000);
  const c = p.take(700);
  assert.deepEqual([a.length, b.length, c.length, p.allocated], [1000, 1000, 1000, 3]);
  p.give(a);
  p.give(b);
  p.give(c); // over maxFree: dropped
  assert.equal(p.free, 2);
  assert.equal(p.take(1000), b);
  assert.equal(p.take(800), a);
  assert.notEqual(p.take(900), c);
  assert.equal(p.allocated, 4);
});
