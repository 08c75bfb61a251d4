// Fault scenario 2 (issue 4): kill -9 of the relay (with its disk spool) several times at seeded
// random moments, restart each time. What the relay acknowledged is in its spool and is forwarded
// after the restart; what it had not, the client resends; the server's dedupe removes what was
// forwarded twice. Every line exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announce, atRandomMoments, createCluster, crash, expectExactlyOnce, faultSettings, note, scenarioTimeoutMs, startCluster } from './harness.js';

const s = faultSettings();
const KILLS = 4;

test('kill -9 of the relay (spool on) 4 times at random moments, restarted each time: every line exactly once, in order', { timeout: scenarioTimeoutMs(s) }, async (t) => {
  const prng = announce(t, s, 'kill-relay');
  const c = await createCluster(t, s);
  const relay = c.relays[0]!;
  await startCluster(c);
  const w = c.writer();
  const at = await atRandomMoments(prng, w, KILLS, async () => crash(relay, prng.int(0, 1500)));
  note(t, `relay killed at ${at.map((f) => `${(f * 100).toFixed(0)}%`).join(', ')} of the writing`);
  await w.finished();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  assert.equal(relay.kills, KILLS);
  assert.equal(await relay.stop(), 0, relay.tail());
});
