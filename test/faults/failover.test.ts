// Fault scenario 5 (issue 4): two relays in front of one server; the client lists both
// (upstream_policy failover). The relay the client is connected to is killed (-9), the client fails
// over to the other, the killed one comes back; four times, so the client goes back and forth. Each
// relay has its own spool; what one relay acknowledged but had not forwarded when it died reaches
// the server only after its restart, after later batches of the same streams came through the other
// relay. The client flags the batches it sends a new way (rerouted); the server parks them until the
// older lines arrive (docs/protocol.md §4). Every line must arrive exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../helpers/wait.js';
import { announce, atRandomMoments, clientUpstream, createCluster, expectExactlyOnce, faultSettings, note, scenarioTimeoutMs, startCluster } from './harness.js';

const s = faultSettings();
const KILLS = 4;

test("the client's relay killed (-9) and brought back, 4 times, with two relays: the client fails over, every line exactly once, in order", { timeout: scenarioTimeoutMs(s) }, async (t) => {
  const prng = announce(t, s, 'failover');
  const c = await createCluster(t, s, { relays: 2 });
  const [r1, r2] = [c.relays[0]!, c.relays[1]!];
  await startCluster(c);
  const w = c.writer();
  const log: string[] = [];
  const at = await atRandomMoments(prng, w, KILLS, async (i) => {
    // The relay the client is on (alternating when its log does not tell).
    const victim = clientUpstream(c) ?? (i % 2 === 0 ? r1 : r2);
    await victim.kill();
    const downMs = prng.int(500, 2500);
    await sleep(downMs);
    await victim.start();
    log.push(`${victim.name} down ${downMs} ms`);
  });
  note(t, `kills at ${at.map((f) => `${(f * 100).toFixed(0)}%`).join(', ')} of the writing: ${log.join('; ')}`);
  await w.finished();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  const connects = (n: typeof r1): number => n.events('listener_connection_opened').length;
  note(t, `client connections accepted: relay-1 ${connects(r1)}, relay-2 ${connects(r2)}; client: ${c.client.events('ship_connected').length} connects`);
  // The server parked rerouted batches until the other relay's lines came, never in vain (each relay
  // was back within seconds, well inside reorder_wait_ms).
  const waits = c.server.events('file_dest_reorder_wait').length;
  note(t, `server: ${waits} streams waited for a relay's older lines, ${c.server.events('file_dest_reordered').length} reordered`);
  assert.equal(c.server.events('file_dest_reorder_timeout').length, 0, c.server.tail());
  // The client did fail over: both relays served it.
  assert.ok(connects(r1) > 0 && connects(r2) > 0, 'the client never used one of the relays');
  assert.equal(await r1.stop(), 0, r1.tail());
  assert.equal(await r2.stop(), 0, r2.tail());
});
