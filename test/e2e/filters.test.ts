// Filters at both ends: a client filters before sending (per batch for plain lines, per record for
// syslog lines), a server routes by filter to several destinations.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, spawnLogship } from '../helpers/logship.js';
import { tmpDir } from '../helpers/tmp.js';
import { sleep, waitFor } from '../helpers/wait.js';

const read = (f: string): Promise<string[]> =>
  readFile(f, 'utf8').then(
    (t) => t.split('\n').filter((l) => l !== ''),
    () => [],
  );

test('client-side and server-side filters', { timeout: 60_000 }, async (t) => {
  const dir = await tmpDir(t, 'logship-filters-');
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  await mkdir(input);
  const port = await freePort();
  await writeFile(
    join(dir, 'server.yaml'),
    `node: { name: server, state_dir: ${join(dir, 'server-state')} }
log: { level: warn }
filters:
  errors: "severity <= err"
sources:
  in: { type: ship-listener, listen: "tcp:127.0.0.1:${port}" }
destinations:
  all: { type: file, base_dir: ${out}, path: all.log, template: "\${facility}.\${severity} \${program} \${MESSAGE}" }
  errors: { type: file, base_dir: ${out}, path: errors.log, template: "\${severity} \${MESSAGE}" }
  cron: { type: file, base_dir: ${out}, path: "\${program}.log", template: raw }
paths:
  - { from: [in], to: [all] }
  - { from: [in], filter: errors, to: [errors] }
  - { from: [in], filter: "program == cron* and not message =~ /^skip/", to: [cron] }
`,
  );
  await writeFile(
    join(dir, 'client.yaml'),
    `node: { name: client, state_dir: ${join(dir, 'client-state')} }
log: { level: warn }
sources:
  sys: { type: file, include: ["${input}/sys.log"], start_at: beginning, format: syslog }
  debug: { type: file, include: ["${input}/debug.log"], start_at: beginning, severity: debug }
  app: { type: file, include: ["${input}/app.log"], start_at: beginning, severity: info, program: app }
destinations:
  up: { type: ship, upstreams: ["127.0.0.1:${port}"] }
paths:
  # plain lines: decided per batch from the source's metadata (debug.log never leaves the client)
  - { from: [debug, app], filter: "severity <= info", to: [up] }
  # syslog lines: decided per record from each message's own PRI
  - { from: [sys], filter: "severity <= warning or program == cron", to: [up] }
`,
  );
  const server = spawnLogship(['run', '--config', join(dir, 'server.yaml')]);
  t.after(() => server.stop('SIGKILL'));
  const client = spawnLogship(['run', '--config', join(dir, 'client.yaml')]);
  t.after(() => client.stop('SIGKILL'));

  await appendFile(join(input, 'debug.log'), 'noisy 1\nnoisy 2\n');
  await appendFile(join(input, 'app.log'), 'app started\n');
  await appendFile(
    join(input, 'sys.log'),
    [
      '<11>Nov  3 01:02:03 h1 kernel: disk on fire', // user.err → sent; errors
      '<14>Nov  3 01:02:04 h1 sshd[9]: accepted', // user.info → dropped at the client
      '<12>Nov  3 01:02:05 h1 sshd[9]: warning one', // user.warning → sent; not an error
      '<78>Nov  3 01:02:06 h1 cron[5]: job ran', // cron.info → sent because program == cron
      '<78>Nov  3 01:02:07 h1 cron[5]: skip this in cron.log', // sent; not in cron.log
      '<15>Nov  3 01:02:08 h1 app: debug detail', // user.debug → dropped at the client
      '',
    ].join('\n'),
  );

  const all = join(out, 'all.log');
  await waitFor('all five lines', async () => (await read(all)).length >= 5, 20_000);
  await sleep(500);
  assert.deepEqual((await read(all)).sort(), [
    'cron.info cron job ran',
    'cron.info cron skip this in cron.log',
    'user.err kernel disk on fire',
    'user.info app app started',
    'user.warning sshd warning one',
  ]);
  assert.deepEqual(await read(join(out, 'errors.log')), ['err disk on fire']);
  assert.deepEqual(await read(join(out, 'cron.log')), ['<78>Nov  3 01:02:06 h1 cron[5]: job ran']);
  assert.equal(await client.stop('SIGTERM'), 0, client.output());
  assert.equal(await server.stop('SIGTERM'), 0, server.output());
});
