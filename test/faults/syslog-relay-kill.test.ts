// Fault scenario 7 (issue 4): syslog senders over TCP (RFC 5424, octet counting) feed the relay's
// syslog-tcp source, which has a disk spool; the relay is killed (-9). TCP syslog has no
// acknowledgements, so "acknowledged" here means: the sender finished and closed, the relay read
// everything (it closed its side after the sender's FIN) and had time to spool it. Those lines must
// survive every kill and arrive exactly once, in order per sender:
//   round A (server up):   send, wait until the server has them all, kill -9 the relay, restart;
//   round B (server down): send, wait until the relay's spool is quiet, kill -9 the relay, restart,
//                          kill -9 it again, restart, then start the server;
//   round C (server up):   send once more.
import { test } from 'node:test';
import { sleep } from '../helpers/wait.js';
import {
  announce,
  createCluster,
  dirBytes,
  expectExactlyOnce,
  faultSettings,
  mb,
  note,
  quiet,
  scenarioTimeoutMs,
  settle,
} from './harness.js';
import { sendSyslog, syslogLineBytes } from './syslog-sender.js';

const s = faultSettings();
const SENDERS = 4;
const ROUNDS = 3;
/** Half of FAULT_LINES, over 4 senders and 3 rounds. */
const PER_ROUND = Math.max(10, Math.floor(s.lines / 2 / SENDERS / ROUNDS));

test('syslog-tcp senders into the relay (spool on), relay killed (-9) after each round: every line the relay had read arrives exactly once, in order', { timeout: scenarioTimeoutMs(s, 60_000) }, async (t) => {
  const prng = announce(t, s, 'syslog-relay-kill');
  const c = await createCluster(t, s, { syslog: true });
  const relay = c.relays[0]!;
  const spool = c.spoolDir(relay, 'syslog');
  const ids = Array.from({ length: SENDERS }, (_, i) => `S${String(i).padStart(2, '0')}`);
  const bytesPerRound = ids.reduce((a, id) => a + syslogLineBytes(id) * PER_ROUND, 0);
  const round = (r: number): Promise<void[]> => Promise.all(ids.map((id) => sendSyslog(c.syslogPort, id, r * PER_ROUND, (r + 1) * PER_ROUND)));
  await c.server.start();
  await relay.start();

  // A: everything reaches the server, then the relay dies: replaying its spool must not duplicate.
  await round(0);
  const a = await settle(c.out, bytesPerRound, 20_000, 0);
  note(t, `round A: ${ids.length} × ${PER_ROUND} messages at the server after ${a.waitedMs} ms`);
  await sleep(prng.int(0, 500));
  await relay.kill();
  await relay.start();

  // B: the server is down; the lines exist only in the relay's spool when it dies, twice.
  await c.server.stop();
  await round(1);
  const spooled = await quiet(spool, 1_000);
  note(t, `round B: relay spool ${mb(spooled)} with the server down`);
  await relay.kill();
  await relay.start();
  await sleep(prng.int(0, 300));
  await relay.kill();
  await relay.start();
  await c.server.start();

  // C: and the relay still takes new connections after all that.
  await round(2);
  await expectExactlyOnce(
    t,
    c,
    new Map(ids.map((id) => [id, ROUNDS * PER_ROUND])),
    bytesPerRound * ROUNDS,
  );
  note(t, `relay spool now ${mb(await dirBytes(spool))}`);
});
