// Client and server as real processes on 127.0.0.1: 100,000 sequence-numbered lines over four files,
// with a rename rotation and a copytruncate in the middle, then with kill -9 of the client, then of
// the server. The server's files must hold every line exactly once, in order per file.
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort, spawnLogship, type LogshipProcess } from '../helpers/logship.js';
import { tmpDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';

const FILES = ['a', 'b', 'c', 'd'];
const TOTAL = 100_000;
const PER_FILE = TOTAL / FILES.length;
const CHUNK = 250;
const PAYLOAD = 'x'.repeat(60);

interface Setup {
  dir: string;
  input: string;
  out: string;
  clientConfig: string;
  serverConfig: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t, 'logship-e2e-');
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  await mkdir(input, { recursive: true });
  const port = await freePort();
  const clientConfig = join(dir, 'client.yaml');
  const serverConfig = join(dir, 'server.yaml');
  await writeFile(
    clientConfig,
    `node: { name: client-1, state_dir: ${join(dir, 'client-state')} }
log: { level: warn }
sources:
  app: { type: file, include: ["${input}/*.log"], start_at: beginning, poll_interval_ms: 200 }
destinations:
  up: { type: ship, upstreams: ["127.0.0.1:${port}"], backoff_max_ms: 500 }
paths:
  - { from: [app], to: [up] }
`,
  );
  await writeFile(
    serverConfig,
    `node: { name: server, state_dir: ${join(dir, 'server-state')} }
log: { level: warn }
sources:
  in: { type: ship-listener, listen: "tcp:127.0.0.1:${port}" }
destinations:
  files: { type: file, base_dir: ${out}, path: "\${host}/\${program}.log", template: raw }
paths:
  - { from: [in], to: [files] }
`,
  );
  return { dir, input, out, clientConfig, serverConfig };
}

const line = (f: string, seq: number): string => `${f} ${String(seq).padStart(7, '0')} ${PAYLOAD}\n`;

async function writeRange(input: string, f: string, from: number, to: number): Promise<void> {
  for (let s = from; s < to; s += CHUNK) {
    let chunk = '';
    for (let i = s; i < Math.min(to, s + CHUNK); i++) chunk += line(f, i);
    await appendFile(join(input, `${f}.log`), chunk);
    await sleep(15); // paced, so kills land mid-stream
  }
}

async function outputLines(out: string, f: string): Promise<string[]> {
  try {
    const text = await readFile(join(out, 'client-1', `${f}.log`), 'utf8');
    return text === '' ? [] : text.slice(0, -1).split('\n');
  } catch {
    return [];
  }
}

async function waitForLines(out: string, f: string, n: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${n} lines of ${f}`, async () => (await outputLines(out, f)).length >= n, timeoutMs, 100);
}

/** Every line of every file exactly once, in order. */
async function assertExactlyOnce(out: string, perFile: number): Promise<void> {
  for (const f of FILES) await waitForLines(out, f, perFile);
  await sleep(500); // anything late would be a duplicate
  for (const f of FILES) {
    const lines = await outputLines(out, f);
    const expected = Array.from({ length: perFile }, (_, i) => line(f, i).slice(0, -1));
    if (lines.length !== expected.length || lines.some((l, i) => l !== expected[i])) {
      const firstBad = lines.findIndex((l, i) => l !== expected[i]);
      assert.fail(`${f}: ${lines.length} lines, expected ${perFile}; first difference at line ${firstBad}: ${JSON.stringify(lines[firstBad])}`);
    }
  }
}

function started(p: LogshipProcess, t: TestContext): LogshipProcess {
  t.after(async () => {
    await p.stop('SIGKILL');
  });
  return p;
}

test('100,000 lines over four files with a rename rotation and a copytruncate arrive exactly once', { timeout: 180_000 }, async (t) => {
  const s = await setup(t);
  const server = started(spawnLogship(['run', '--config', s.serverConfig]), t);
  const client = started(spawnLogship(['run', '--config', s.clientConfig]), t);
  const half = PER_FILE / 2;
  // The client must be tailing before a rotation: a file renamed before logship ever saw it
  // is not its to read. So: a first slice, shipped, then the rest of the first halves.
  await Promise.all(FILES.map((f) => writeRange(s.input, f, 0, 1_000)));
  for (const f of FILES) await waitForLines(s.out, f, 1_000);
  await Promise.all(FILES.map((f) => writeRange(s.input, f, 1_000, half)));
  // a: rename rotation while c and d keep being written.
  await rename(join(s.input, 'a.log'), join(s.input, 'a.log.1'));
  // b: copytruncate, after what was written has been shipped (copytruncate loses what is
  // written between the copy and the truncate by design; see README).
  await waitForLines(s.out, 'b', half);
  await copyFile(join(s.input, 'b.log'), join(s.input, 'b.log.1'));
  await truncate(join(s.input, 'b.log'), 0);
  await Promise.all(FILES.map((f) => writeRange(s.input, f, half, PER_FILE)));
  await assertExactlyOnce(s.out, PER_FILE);
  assert.equal(await client.stop('SIGTERM'), 0, client.output());
  assert.equal(await server.stop('SIGTERM'), 0, server.output());
});

test('kill -9 of the client mid-stream, a rotation while it is down, restart: every line exactly once', { timeout: 180_000 }, async (t) => {
  const s = await setup(t);
  started(spawnLogship(['run', '--config', s.serverConfig]), t);
  let client = started(spawnLogship(['run', '--config', s.clientConfig]), t);
  const writing = Promise.all(FILES.map((f) => writeRange(s.input, f, 0, PER_FILE * 0.6)));
  await waitForLines(s.out, 'a', PER_FILE * 0.2);
  await client.stop('SIGKILL');
  await writing;
  // c rotates while the client is down: its unread tail must still be shipped from c.log.1.
  await rename(join(s.input, 'c.log'), join(s.input, 'c.log.1'));
  client = started(spawnLogship(['run', '--config', s.clientConfig]), t);
  const rest = Promise.all(FILES.map((f) => writeRange(s.input, f, PER_FILE * 0.6, PER_FILE)));
  await waitForLines(s.out, 'd', PER_FILE * 0.7);
  await client.stop('SIGKILL');
  await rest;
  started(spawnLogship(['run', '--config', s.clientConfig]), t);
  await assertExactlyOnce(s.out, PER_FILE);
});

test('kill -9 of the server mid-stream, restart: every line exactly once', { timeout: 180_000 }, async (t) => {
  const s = await setup(t);
  let server = started(spawnLogship(['run', '--config', s.serverConfig]), t);
  started(spawnLogship(['run', '--config', s.clientConfig]), t);
  const writing = Promise.all(FILES.map((f) => writeRange(s.input, f, 0, PER_FILE)));
  await waitForLines(s.out, 'a', PER_FILE * 0.2);
  await server.stop('SIGKILL');
  await sleep(300);
  server = started(spawnLogship(['run', '--config', s.serverConfig]), t);
  await waitForLines(s.out, 'b', PER_FILE * 0.6);
  await server.stop('SIGKILL');
  started(spawnLogship(['run', '--config', s.serverConfig]), t);
  await writing;
  await assertExactlyOnce(s.out, PER_FILE);
});
