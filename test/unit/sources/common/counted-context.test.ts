import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch } from '../../../../src/core/batch.js';
import { countedContext } from '../../../../src/sources/common/counted-context.js';
import { testSourceContext } from '../../../helpers/context.js';

const batch = (): Batch =>
  new Batch(Buffer.from('a\nbb\n'), Uint32Array.of(2, 5), { host: 'h', program: 'p', facility: 1, severity: 5, timeMs: 0 }, { origin: 'n', stream: 's', offset: 0 });

test('push runs before, the router push, then after; it forwards the context', async () => {
  const steps: string[] = [];
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, () => void steps.push('router'));
  const counted = countedContext(ctx, {
    before: () => steps.push('before'),
    failed: () => steps.push('failed'),
    after: (b) => steps.push(`after ${b.data.length}`),
  });
  assert.equal(counted.id, ctx.id);
  assert.equal(counted.node, ctx.node);
  assert.equal(counted.telemetry, ctx.telemetry);
  await counted.push(batch());
  assert.deepEqual(steps, ['before', 'router', 'after 5']);
});

test('a failed router push or before() does not reject: failed, then after', async () => {
  const steps: string[] = [];
  const boom = new Error('boom');
  const ctx = testSourceContext({ stateDir: '/nonexistent' }, () => Promise.reject(boom));
  const counted = countedContext(ctx, {
    failed: (err) => steps.push(`failed ${(err as Error).message}`),
    after: () => steps.push('after'),
  });
  await counted.push(batch());
  const throwing = countedContext(ctx, {
    before: () => {
      throw new Error('parse');
    },
    failed: (err) => steps.push(`failed ${(err as Error).message}`),
    after: () => steps.push('after'),
  });
  await throwing.push(batch());
  assert.deepEqual(steps, ['failed boom', 'after', 'failed parse', 'after']);
});
