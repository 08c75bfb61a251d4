// Fault scenario 5b (issue 4): a relay that held acknowledged lines is down for longer than the
// server's reorder_wait_ms. relay-1 takes the client's batches into its spool and acknowledges them
// while the server is stopped (SIGSTOP), so it cannot forward them; then it is killed (-9). The
// client fails over to relay-2, whose newer batches the server parks, then, after reorder_wait_ms,
// writes past the gap and keeps the skipped ranges as holes (in its journal). When relay-1 comes
// back it delivers its spool: the late lines fill the holes. Every line must arrive exactly once;
// the late ones after newer lines of their stream (README "Delivery guarantees").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep, waitFor } from '../helpers/wait.js';
import { announce, createCluster, expectOnceInAnyOrder, faultSettings, note, scenarioTimeoutMs, startCluster } from './harness.js';

const s = faultSettings();
const REORDER_WAIT_MS = 300;

test('a relay with acknowledged lines down longer than reorder_wait_ms: they arrive late, after newer ones, still exactly once', { timeout: scenarioTimeoutMs(s) }, async (t) => {
  announce(t, s, 'failover-late');
  if (!s.spool) {
    t.skip('needs the relays spool (FAULT_SPOOL=off)');
    return;
  }
  const c = await createCluster(t, s, { relays: 2, reorderWaitMs: REORDER_WAIT_MS });
  const [r1, r2] = [c.relays[0]!, c.relays[1]!];
  await startCluster(c);
  const w = c.writer();
  // The client is on relay-1 (first in its list) and lines flow.
  await waitFor('relay-1 to serve the client', () => r1.events('listener_connection_opened').length > 0, 10_000);
  await sleep(1000);
  // relay-1 keeps acknowledging into its spool what it cannot forward, then dies with it.
  c.server.pause();
  await sleep(1000);
  await r1.kill();
  c.server.resume();
  // The client fails over to relay-2; the server parks its re-routed batches, then writes them.
  await waitFor('the server to give up waiting', () => c.server.events('file_dest_reorder_timeout').length > 0, 10_000 + 10 * REORDER_WAIT_MS);
  await sleep(500);
  await r1.start();
  await w.finished();
  const r = await expectOnceInAnyOrder(t, c, w.expected(), w.totalBytes);
  const late = c.server.events('file_dest_late_lines').length;
  note(
    t,
    `server: ${c.server.events('file_dest_reorder_wait').length} waits, ${c.server.events('file_dest_reorder_timeout').length} timeouts, ` +
      `${late} late-line writes; ${r.totalOutOfOrder} lines out of order`,
  );
  // relay-1's spooled lines came after the newer ones: written late, into the holes, once.
  assert.ok(late > 0, 'no late lines: relay-1 delivered nothing after its restart');
  assert.ok(r.totalOutOfOrder > 0, 'nothing out of order: the scenario did not produce a late range');
  assert.equal(await r1.stop(), 0, r1.tail());
  assert.equal(await r2.stop(), 0, r2.tail());
});
