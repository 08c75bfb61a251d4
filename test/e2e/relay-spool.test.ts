// Client → relay (ship listener with a disk spool) → server, as real processes on 127.0.0.1.
// 1. kill -9 of the relay mid-stream (three times, once with a backlog in its spool while the server
//    is down), restart: every line in the server's files exactly once.
// 2. the server down while the client writes: the relay acknowledges from its spool (the client's
//    checkpoints reach the end of its files), survives a kill -9 with the backlog on disk, and
//    once the server is up everything arrives exactly once.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort, spawnLogship, type LogshipProcess } from '../helpers/logship.js';
import { tmpDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';

const FILES = ['a', 'b', 'c'];
const PER_FILE = 15_000;
const CHUNK = 200;
const PAYLOAD = 'y'.repeat(50);

interface Setup {
  input: string;
  out: string;
  client: string;
  relay: string;
  server: string;
  clientState: string;
  relayState: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t, 'logship-relay-');
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  await mkdir(input, { recursive: true });
  const relayPort = await freePort();
  const serverPort = await freePort();
  const s: Setup = {
    input,
    out,
    client: join(dir, 'client.yaml'),
    relay: join(dir, 'relay.yaml'),
    server: join(dir, 'server.yaml'),
    clientState: join(dir, 'client-state'),
    relayState: join(dir, 'relay-state'),
  };
  await writeFile(
    s.client,
    `node: { name: client-1, state_dir: ${s.clientState} }
log: { level: warn }
sources:
  app: { type: file, include: ["${input}/*.log"], start_at: beginning, poll_interval_ms: 200, checkpoint_interval_ms: 200 }
destinations:
  up: { type: ship, upstreams: ["127.0.0.1:${relayPort}"], backoff_max_ms: 300 }
paths:
  - { from: [app], to: [up] }
`,
  );
  await writeFile(
    s.relay,
    `node: { name: relay-1, state_dir: ${s.relayState} }
log: { level: info }
sources:
  clients:
    type: ship-listener
    listen: "tcp:127.0.0.1:${relayPort}"
    spool: { max_bytes: 67108864, segment_bytes: 4096, fsync: true, when_full: block }
destinations:
  central: { type: ship, upstreams: ["127.0.0.1:${serverPort}"], backoff_max_ms: 300 }
paths:
  - { from: [clients], to: [central] }
`,
  );
  await writeFile(
    s.server,
    `node: { name: server, state_dir: ${join(dir, 'server-state')} }
log: { level: warn }
sources:
  in: { type: ship-listener, listen: "tcp:127.0.0.1:${serverPort}" }
destinations:
  files: { type: file, base_dir: ${out}, path: "\${host}/\${program}.log", template: raw }
paths:
  - { from: [in], to: [files] }
`,
  );
  return s;
}

const line = (f: string, seq: number): string => `${f} ${String(seq).padStart(7, '0')} ${PAYLOAD}\n`;

async function writeRange(input: string, f: string, from: number, to: number, pauseMs = 10): Promise<void> {
  for (let s = from; s < to; s += CHUNK) {
    let chunk = '';
    for (let i = s; i < Math.min(to, s + CHUNK); i++) chunk += line(f, i);
    await appendFile(join(input, `${f}.log`), chunk);
    await sleep(pauseMs);
  }
}

async function outputLines(out: string, f: string): Promise<string[]> {
  const text = await readFile(join(out, 'client-1', `${f}.log`), 'utf8').catch(() => '');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

async function waitForLines(out: string, f: string, n: number, timeoutMs = 40_000): Promise<void> {
  await waitFor(`${n} lines of ${f}`, async () => (await outputLines(out, f)).length >= n, timeoutMs, 100);
}

/** Every line of every file exactly once, in order. */
async function assertExactlyOnce(out: string): Promise<void> {
  for (const f of FILES) await waitForLines(out, f, PER_FILE);
  await sleep(700); // anything late would be a duplicate
  for (const f of FILES) {
    const lines = await outputLines(out, f);
    const firstBad = lines.findIndex((l, i) => l !== line(f, i).slice(0, -1));
    if (lines.length !== PER_FILE || firstBad !== -1) {
      assert.fail(`${f}: ${lines.length} lines, expected ${PER_FILE}; first difference at line ${firstBad}: ${JSON.stringify(lines[firstBad])}`);
    }
  }
}

function started(p: LogshipProcess, t: TestContext): LogshipProcess {
  t.after(async () => {
    await p.stop('SIGKILL');
  });
  return p;
}

test('kill -9 of the relay mid-stream (also with a backlog in its spool), restart: every line exactly once', { timeout: 90_000 }, async (t) => {
  const s = await setup(t);
  const server = started(spawnLogship(['run', '--config', s.server]), t);
  let relay = started(spawnLogship(['run', '--config', s.relay]), t);
  started(spawnLogship(['run', '--config', s.client]), t);
  let written = false;
  const writing = Promise.all(FILES.map((f) => writeRange(s.input, f, 0, PER_FILE, 25))).then(() => (written = true));
  await waitForLines(s.out, 'a', PER_FILE * 0.2);
  await relay.stop('SIGKILL');
  assert.equal(written, false, 'the relay was killed mid-stream');
  await sleep(300);
  relay = started(spawnLogship(['run', '--config', s.relay]), t);
  // The server goes away: the relay keeps acknowledging into its spool; then it dies with that
  // backlog on disk, and comes back before the server does.
  await waitForLines(s.out, 'b', PER_FILE * 0.4);
  await server.stop('SIGKILL');
  const spoolDir = join(s.relayState, 'spool', 'clients');
  await waitFor('a backlog in the spool', async () => (await readdir(spoolDir)).filter((n) => n.endsWith('.seg')).length >= 2, 20_000);
  await relay.stop('SIGKILL');
  relay = started(spawnLogship(['run', '--config', s.relay]), t);
  await sleep(300);
  started(spawnLogship(['run', '--config', s.server]), t);
  await waitForLines(s.out, 'c', PER_FILE * 0.7);
  await relay.stop('SIGKILL');
  relay = started(spawnLogship(['run', '--config', s.relay]), t);
  await writing;
  await assertExactlyOnce(s.out);
  assert.equal(await relay.stop('SIGTERM'), 0, relay.output());
  const stopped = relay
    .output()
    .split('\n')
    .filter((l) => l.includes('"spool_stopped"'))
    .map((l) => JSON.parse(l) as { total_dropped_records: number; backlog_bytes: number });
  assert.equal(stopped.length, 1, relay.output());
  assert.equal(stopped[0]!.total_dropped_records, 0);
  assert.equal(stopped[0]!.backlog_bytes, 0);
});

test('server down: the relay acknowledges from its spool, keeps the backlog across kill -9, then delivers it exactly once', { timeout: 90_000 }, async (t) => {
  const s = await setup(t);
  let relay = started(spawnLogship(['run', '--config', s.relay]), t);
  started(spawnLogship(['run', '--config', s.client]), t);
  await Promise.all(FILES.map((f) => writeRange(s.input, f, 0, PER_FILE, 2)));
  // With no server at all, the client's checkpoints still reach the end of every file: the relay
  // acknowledged each batch once it was durable in its spool.
  const sizes = new Map<string, number>();
  for (const f of FILES) sizes.set(join(s.input, `${f}.log`), (await stat(join(s.input, `${f}.log`))).size);
  await waitFor(
    'client checkpoints at the end of every file',
    async () => {
      const cp = JSON.parse(await readFile(join(s.clientState, 'checkpoints', 'app.json'), 'utf8')) as { files: { path: string; offset: number }[] };
      return [...sizes].every(([p, size]) => cp.files.some((e) => e.path === p && e.offset === size));
    },
    30_000,
    100,
  );
  const segs = (await readdir(join(s.relayState, 'spool', 'clients'))).filter((n) => n.endsWith('.seg'));
  assert.ok(segs.length >= 2, `the backlog is on disk: ${segs.join(' ')}`);
  // The relay dies with the whole backlog in its spool, and comes back.
  await relay.stop('SIGKILL');
  relay = started(spawnLogship(['run', '--config', s.relay]), t);
  await waitFor('the relay reopened its spool', () => relay.output().includes('"spool_opened"'), 10_000);
  const opened = JSON.parse(relay.output().split('\n').find((l) => l.includes('"spool_opened"'))!) as { backlog_records: number };
  assert.ok(opened.backlog_records >= FILES.length * PER_FILE, `backlog of ${opened.backlog_records} records`);
  // Now the server comes up.
  started(spawnLogship(['run', '--config', s.server]), t);
  await assertExactlyOnce(s.out);
  await waitFor('delivered segments deleted', async () => (await readdir(join(s.relayState, 'spool', 'clients'))).filter((n) => n.endsWith('.seg')).length <= 1, 10_000);
});
