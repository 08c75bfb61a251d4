// Fault scenario 4 (issue 4): the server stopped (SIGTERM, a real stop) for FAULT_OUTAGE_MS while the
// client keeps writing. The relay keeps acknowledging the client from its disk spool (the client's
// checkpoints advance during the outage), its memory stays bounded (VmRSS sampled, peak reported),
// and once the server is back every line arrives exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../helpers/wait.js';
import {
  announce,
  checkpointBytes,
  createCluster,
  dirBytes,
  expectExactlyOnce,
  faultSettings,
  mb,
  note,
  RssSampler,
  scenarioTimeoutMs,
  startCluster,
} from './harness.js';

const s = faultSettings();
/** The relay's resident memory may not exceed this while the backlog grows on disk. */
const RSS_MAX_BYTES = Number(process.env['FAULT_RSS_MAX_MB'] ?? 256) * 1024 * 1024;

test(`the server stopped for ${s.outageMs} ms while the client keeps writing: the relay spools the backlog in bounded memory, then every line exactly once`, { timeout: scenarioTimeoutMs(s) }, async (t) => {
  const prng = announce(t, s, 'server-outage');
  const c = await createCluster(t, s);
  const relay = c.relays[0]!;
  await startCluster(c);
  const w = c.writer();
  const rss = new RssSampler(relay);
  const from = 0.1 + prng.next() * 0.2;
  await w.reach(from);
  const rssBefore = rss.peak;
  assert.equal(await c.server.stop(), 0, c.server.tail());
  const down = Date.now();
  const ackedAtStop = await checkpointBytes(c.client.stateDir);
  const writtenAtStop = w.written;
  let spoolPeak = 0;
  while (Date.now() - down < s.outageMs) {
    spoolPeak = Math.max(spoolPeak, await dirBytes(c.spoolDir(relay, 'clients')));
    await sleep(200);
  }
  const ackedAtEnd = await checkpointBytes(c.client.stateDir);
  const writtenAtEnd = w.written;
  const rssOutage = rss.peak;
  await c.server.start();
  note(
    t,
    `outage ${Date.now() - down} ms from ${(from * 100).toFixed(0)}% of the writing: ${writtenAtEnd - writtenAtStop} lines written meanwhile; ` +
      `client acked ${mb(ackedAtEnd - ackedAtStop)} during it; relay spool peak ${mb(spoolPeak)}`,
  );
  await w.finished();
  await expectExactlyOnce(t, c, w.expected(), w.totalBytes);
  const peak = await rss.stop();
  note(t, `relay VmRSS peak ${mb(peak)}: ${mb(rssBefore)} before the outage, ${mb(rssOutage)} by its end (${rss.samples} samples; bound ${mb(RSS_MAX_BYTES)})`);
  // The relay acknowledged the client while the server was away: the backlog went to its spool.
  assert.ok(ackedAtEnd > ackedAtStop, `the client's checkpoints did not advance during the outage (${ackedAtStop} → ${ackedAtEnd} bytes)`);
  assert.ok(spoolPeak > 0, 'nothing was spooled during the outage');
  assert.ok(peak > 0 && peak < RSS_MAX_BYTES, `relay VmRSS peak ${mb(peak)}`);
  assert.equal(await relay.stop(), 0, relay.tail());
});
