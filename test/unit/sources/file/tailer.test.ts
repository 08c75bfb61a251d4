// Tailer idle safety checks: spread over ±25 %, doubling from poll_interval_ms up to the max.
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { test } from 'node:test';
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
