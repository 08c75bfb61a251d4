// Fault scenario 6 (issue 4): the relay's spool reaches its cap (max_bytes) while the server is down.
// (a) when_full: block — the relay stops taking batches, so the client's checkpoints stop advancing
//     (it is slowed, it keeps its place in its files); nothing is lost once the server is back.
// (b) when_full: drop-oldest — the relay keeps acknowledging and drops its oldest spooled batches,
//     counting them (spool_dropped / spool_stopped carry total_dropped_records); exactly that many
//     lines are missing at the server, and what arrived is in order with no duplicate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, isExactlyDropped } from '../helpers/checker.js';
import { sleep, waitFor } from '../helpers/wait.js';
import {
  announce,
  checkpointBytes,
  createCluster,
  expectExactlyOnce,
  faultSettings,
  mb,
  note,
  clusterProblems,
  scenarioTimeoutMs,
  segmentBytes,
  settle,
  verdict,
} from './harness.js';
import { LINE_BYTES } from './writer.js';

const s = faultSettings();
const MAX_BYTES = 2 * 1024 * 1024;
const SEGMENT_BYTES = 256 * 1024;

test('spool full, when_full: block, server down: the client is held (checkpoints stop), nothing lost when the server returns', { timeout: scenarioTimeoutMs(s, 30_000) }, async (t) => {
  announce(t, s, 'spool-full-block');
  const c = await createCluster(t, s, { spool: { max_bytes: MAX_BYTES, segment_bytes: SEGMENT_BYTES, when_full: 'block' } });
  const relay = c.relays[0]!;
  const spool = c.spoolDir(relay, 'clients');
  await relay.start();
  await c.client.start();
  const w = c.writer();
  await w.finished();
  // Held: the checkpoints stand still for 3 s well short of what was written.
  const held = await waitFor(
    "the client's checkpoints to stop advancing",
    async () => {
      const a = await checkpointBytes(c.client.stateDir);
      await sleep(3_000);
      const b = await checkpointBytes(c.client.stateDir);
      return a === b ? b : 0;
    },
    60_000,
    0,
  );
  const spooled = await segmentBytes(spool);
  note(t, `held: client acked ${mb(held)} of ${mb(w.totalBytes)} written; relay spool ${mb(spooled)} (cap ${mb(MAX_BYTES)}); spool_full_blocking events: ${relay.events('spool_full_blocking').length}`);
  assert.ok(held < w.totalBytes / 2, `the client was not held back: ${mb(held)} of ${mb(w.totalBytes)} acknowledged with the server down`);
  assert.ok(spooled <= MAX_BYTES, `spool holds ${spooled} bytes, more than max_bytes ${MAX_BYTES}`);
  assert.ok(spooled > MAX_BYTES / 2, `spool holds ${mb(spooled)}: the cap was not reached`);
  await c.server.start();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  assert.equal(await relay.stop(), 0, relay.tail());
});

test('spool full, when_full: drop-oldest, server down: exactly the counted drops are missing, the rest once and in order', { timeout: scenarioTimeoutMs(s, 30_000) }, async (t) => {
  announce(t, s, 'spool-full-drop-oldest');
  const c = await createCluster(t, s, { spool: { max_bytes: MAX_BYTES, segment_bytes: SEGMENT_BYTES, when_full: 'drop-oldest' } });
  const relay = c.relays[0]!;
  const spool = c.spoolDir(relay, 'clients');
  await relay.start();
  await c.client.start();
  const w = c.writer();
  await w.finished();
  // Never held: the relay acknowledges everything (and drops its oldest to make room).
  await waitFor("the client's checkpoints to reach the end of its files", async () => (await checkpointBytes(c.client.stateDir)) >= w.totalBytes, 60_000, 200);
  const spooled = await segmentBytes(spool);
  assert.ok(spooled <= MAX_BYTES, `spool holds ${spooled} bytes, more than max_bytes ${MAX_BYTES}`);
  assert.ok(spooled > MAX_BYTES / 2, `spool holds ${spooled} bytes: the cap was not reached (or ${spool} is not the spool)`);
  await c.server.start();
  // How many arrive is what the relay says it did not drop: wait until the output stops growing.
  const st = await settle(c.out, w.totalBytes, 5_000, 0);
  assert.equal(await relay.stop(), 0, relay.tail());
  const stopped = relay.events('spool_stopped');
  assert.equal(stopped.length, 1, `expected one spool_stopped line:\n${relay.tail()}`);
  const dropped = Number(stopped[0]!['total_dropped_records']);
  const logged = relay.events('spool_dropped').map((e) => Number(e['total_dropped_records']));
  note(t, `relay spool ${mb(spooled)} at the end of the writing (cap ${mb(MAX_BYTES)}); spool_dropped lines: ${logged.length} (last total ${logged.at(-1) ?? 0}); spool_stopped total_dropped_records ${dropped}`);
  note(t, `server files ${mb(st.bytes)}: ${st.bytes / LINE_BYTES} lines of ${w.total}`);
  const r = await verdict(t, c.out, w.expected());
  assert.ok(Number.isInteger(dropped) && dropped > 0, `the cap was never reached (total_dropped_records ${String(stopped[0]!['total_dropped_records'])})`);
  assert.ok(logged.length > 0 && logged.every((v, i) => v <= dropped && (i === 0 || v >= logged[i - 1]!)), `spool_dropped totals ${logged.join(', ')} vs ${dropped}`);
  if (!isExactlyDropped(r, dropped)) throw new Error(`expected exactly ${dropped} lines missing (the counted drops):\n${formatReport(r)}\n${clusterProblems(c)}`);
});
