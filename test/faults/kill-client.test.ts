// Fault scenario 1 (issue 4): kill -9 of the client several times at seeded random moments while
// the writer keeps appending, restart each time. The client resumes from its checkpoints (advanced
// only on acknowledgement), so every line reaches the server's files exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announce, atRandomMoments, createCluster, crash, expectExactlyOnce, faultSettings, note, scenarioTimeoutMs, startCluster } from './harness.js';

const s = faultSettings();
const KILLS = 4;

test('kill -9 of the client 4 times at random moments, restarted each time: every line exactly once, in order', { timeout: scenarioTimeoutMs(s) }, async (t) => {
  const prng = announce(t, s, 'kill-client');
  const c = await createCluster(t, s);
  await startCluster(c);
  const w = c.writer();
  const at = await atRandomMoments(prng, w, KILLS, async () => crash(c.client, prng.int(0, 1500)));
  note(t, `client killed at ${at.map((f) => `${(f * 100).toFixed(0)}%`).join(', ')} of the writing`);
  await w.finished();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  assert.equal(c.client.kills, KILLS);
  assert.equal(await c.client.stop(), 0, c.client.tail());
});
