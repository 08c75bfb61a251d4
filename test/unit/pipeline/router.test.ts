// The router: fan-out by paths and filters, per-record filtering by compaction, bounded writes in
// flight per destination (backpressure), retries of retryable outcomes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch, indexLines, type BatchMeta } from '../../../src/core/batch.js';
import type { ComponentContext, Destination } from '../../../src/core/component.js';
import { DELIVERED, retryable, type Outcome } from '../../../src/core/outcome.js';
import { compileFilter } from '../../../src/filters/expr.js';
import { Router } from '../../../src/pipeline/router.js';
import { memoryLogger } from '../../helpers/context.js';
import { ComponentTelemetry, Counters } from '../../../src/observe/metrics.js';

const META: BatchMeta = { host: 'h', program: 'app', facility: 1, severity: 5, timeMs: 0 };

function batch(text: string, offset = 0, meta: BatchMeta = META): Batch {
  const data = Buffer.from(text);
  return new Batch(data, indexLines(data), meta, { origin: 'o', stream: 's', offset });
}

class Recorder implements Destination {
  readonly maxInFlight: number;
  readonly got: Batch[] = [];
  pending: Array<() => void> = [];
  outcomes: Outcome[] = [];
  hold = false;
  constructor(maxInFlight = 4) {
    this.maxInFlight = maxInFlight;
  }
  async start(_ctx: ComponentContext): Promise<void> {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  async write(b: Batch): Promise<Outcome> {
    this.got.push(b);
    if (this.hold) await new Promise<void>((r) => this.pending.push(r));
    return this.outcomes.shift() ?? DELIVERED;
  }
}

const tel = () => new ComponentTelemetry(new Counters(), memoryLogger(), 'destination', 'test', 'd');

test('a message filter keeps only matching records, with their stream offsets and the batch end', async () => {
  const d = new Recorder();
  const r = new Router([{ name: 'd', destination: d, telemetry: tel() }], [{ from: ['s'], to: ['d'], filter: compileFilter('message contains "ERROR"') }]);
  const b = batch('ok 1\nERROR 2\nok 3\nERROR 4\nok 5\n', 1000);
  await r.push('s', b);
  assert.equal((await b.settled).kind, 'delivered');
  assert.equal(d.got.length, 1);
  const c = d.got[0]!;
  assert.equal(c.data.toString(), 'ERROR 2\nERROR 4\n');
  assert.deepEqual([c.recordOffset(0), c.recordOffset(1)], [1005, 1018]);
  assert.equal(c.endOffset, b.endOffset);
});

test('batch-level filters route whole batches; no match settles delivered without a write', async () => {
  const a = new Recorder();
  const z = new Recorder();
  const r = new Router(
    [
      { name: 'a', destination: a, telemetry: tel() },
      { name: 'z', destination: z, telemetry: tel() },
    ],
    [
      { from: ['s'], to: ['a'], filter: compileFilter('severity <= warning') },
      { from: ['s'], to: ['z'], filter: compileFilter('program == app') },
    ],
  );
  const b = batch('x\n');
  await r.push('s', b);
  assert.equal((await b.settled).kind, 'delivered');
  assert.equal(a.got.length, 0);
  assert.equal(z.got[0], b); // whole batch, not a copy
  const none = batch('y\n', 0, { ...META, program: 'other' });
  await r.push('s', none);
  assert.equal((await none.settled).kind, 'delivered');
  assert.equal(z.got.length, 1);
});

test('two paths to one destination: the union of what each keeps, written once', async () => {
  const d = new Recorder();
  const r = new Router(
    [{ name: 'd', destination: d, telemetry: tel() }],
    [
      { from: ['s'], to: ['d'], filter: compileFilter('message contains "a"') },
      { from: ['s'], to: ['d'], filter: compileFilter('message contains "b"') },
    ],
  );
  await r.push('s', batch('a\nb\nc\nab\n'));
  assert.equal(d.got.length, 1);
  assert.equal(d.got[0]!.data.toString(), 'a\nb\nab\n');
});

test('backpressure: push waits while the destination has max_in_flight writes outstanding', async () => {
  const d = new Recorder(2);
  d.hold = true;
  const r = new Router([{ name: 'd', destination: d, telemetry: tel() }], [{ from: ['s'], to: ['d'] }]);
  await r.push('s', batch('1\n'));
  await r.push('s', batch('2\n'));
  let third = false;
  const p = r.push('s', batch('3\n')).then(() => (third = true));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(third, false);
  d.pending.shift()!();
  await p;
  assert.equal(third, true);
  for (const f of d.pending.splice(0)) f();
  d.hold = false;
  assert.equal(await r.drain(1000), true);
});

test('retryable outcomes are retried until delivered; after stopRetrying they settle retryable', async () => {
  const d = new Recorder();
  d.outcomes = [retryable(new Error('x'), 1), retryable(new Error('y'), 1)];
  const r = new Router([{ name: 'd', destination: d, telemetry: tel() }], [{ from: ['s'], to: ['d'] }]);
  const b = batch('1\n');
  await r.push('s', b);
  assert.equal((await b.settled).kind, 'delivered');
  assert.equal(d.got.length, 3);
  d.outcomes = [retryable(new Error('z'), 60_000)];
  const b2 = batch('2\n');
  await r.push('s', b2);
  await new Promise((res) => setTimeout(res, 10));
  r.stopRetrying();
  assert.equal((await b2.settled).kind, 'retryable');
});
