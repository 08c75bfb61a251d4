// Fault scenario 3 (issue 4): kill -9 of the server several times at seeded random moments, restart
// each time. The relay resends what the server had not acknowledged; the server's journal and
// dedupe by (origin, stream, offset) keep every line exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announce, atRandomMoments, createCluster, crash, expectExactlyOnce, faultSettings, note, scenarioTimeoutMs, startCluster } from './harness.js';

const s = faultSettings();
const KILLS = 4;

test('kill -9 of the server 4 times at random moments, restarted each time: every line exactly once, in order', { timeout: scenarioTimeoutMs(s) }, async (t) => {
  const prng = announce(t, s, 'kill-server');
  const c = await createCluster(t, s);
  await startCluster(c);
  const w = c.writer();
  const at = await atRandomMoments(prng, w, KILLS, async () => crash(c.server, prng.int(0, 1500)));
  note(t, `server killed at ${at.map((f) => `${(f * 100).toFixed(0)}%`).join(', ')} of the writing`);
  await w.finished();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  assert.equal(c.server.kills, KILLS);
  assert.equal(await c.server.stop(), 0, c.server.tail());
});
