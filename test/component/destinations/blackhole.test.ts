import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batch, indexLines } from '../../../src/core/batch.js';
import { blackholeDestination } from '../../../src/destinations/blackhole/index.js';
import { testContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';

const batch = (text: string): Batch => {
  const data = Buffer.from(text);
  return new Batch(data, indexLines(data), { host: 'h', program: 'p', facility: 1, severity: 6, timeMs: 0 }, { origin: 'o', stream: 's', offset: 0 });
};

test('delivers everything and counts lines and bytes', async (t) => {
  const ctx = testContext({ stateDir: await tmpDir(t) });
  const d = blackholeDestination.create(blackholeDestination.options.parse({ type: 'blackhole', delay_ms: 5 }));
  await d.start(ctx);
  const outs = await Promise.all([d.write(batch('a\nb\n')), d.write(batch('ccc\n'))]);
  assert.deepEqual(outs.map((o) => o.kind), ['delivered', 'delivered']);
  assert.equal(ctx.counters.get('logship_blackhole_lines_total'), 3);
  assert.equal(ctx.counters.get('logship_blackhole_bytes_total'), 8);
  await d.close();
  const late = await d.write(batch('x\n'));
  assert.equal(late.kind === 'retryable' && (late.error as { code?: string }).code, 'LS_SHUTDOWN');
});
