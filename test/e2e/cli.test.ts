// The CLI as operators use it: exit codes, --help, check-config output, and the demo.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, runLogship, spawnLogship } from '../helpers/logship.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('--version and --help on every command exit 0', async () => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const v = await runLogship(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), pkg.version);
  // V8 reports a flag it does not know on stderr and goes on: the launcher's flags must all be known.
  assert.equal(v.stderr, '', 'nothing on stderr (bin/logship.cjs sets V8 flags)');
  for (const args of [['--help'], ['run', '--help'], ['check-config', '--help']]) {
    const r = await runLogship(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: logship/);
  }
});

test('usage errors exit 2', async () => {
  assert.equal((await runLogship(['frobnicate'])).code, 2);
  assert.equal((await runLogship(['run'])).code, 2);
});

test('check-config: 0 for the shipped configs, 78 with every problem and its line', async (t) => {
  for (const f of ['configs/all-in-one.yaml', 'configs/client.yaml', 'configs/relay.yaml', 'configs/server.yaml']) {
    const r = await runLogship(['check-config', f]);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
  const dir = await tmpDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'sources:\n  app:\n    type: file\n    include: 7\ndestinations:\n  up:\n    type: ship\n    upstreams: []\npaths:\n  - { from: [app], to: [nowhere] }\n');
  const r = await runLogship(['check-config', bad]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /bad\.yaml:4:\d+: error: sources\.app\.include/);
  assert.match(r.stderr, /bad\.yaml:8:\d+: error: destinations\.up\.upstreams/);
  assert.match(r.stderr, /bad\.yaml:10:\d+: error: paths\[0\]\.to\[0\]: no destination named "nowhere"/);
  const missing = await runLogship(['check-config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /cannot read config file/);
  const runBad = await runLogship(['run', '--config', bad]);
  assert.equal(runBad.code, 78);
});

test('the all-in-one demo: a line appended to the input appears in the output within a second', { timeout: 60_000 }, async (t) => {
  // The README's first command appends to .demo/input/app.log once `npm run demo` runs: the script
  // makes that directory (a fresh checkout has none).
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['demo'] ?? '', /mkdir -p \.demo\/input && node bin\/logship\.cjs run --config configs\/all-in-one\.yaml$/);
  const dir = await tmpDir(t, 'logship-demo-');
  const p = spawnLogship(['run', '--config', join(REPO, 'configs', 'all-in-one.yaml')], { cwd: dir });
  t.after(() => p.stop('SIGKILL'));
  const out = join(dir, '.demo', 'out', 'demo-host', 'app.log');
  // The input directory may also appear after the start (the source watches for it). Wait until
  // the source tails the new file, then time one line end to end.
  await waitFor('the demo to start', () => p.output().includes('logship started'), 20_000);
  await mkdir(join(dir, '.demo', 'input'), { recursive: true });
  await appendFile(join(dir, '.demo', 'input', 'app.log'), 'warming up\n');
  await waitFor('the demo to ship its first line', async () => (await readFile(out, 'utf8').catch(() => '')).includes('warming up'), 20_000);
  const started = Date.now();
  await appendFile(join(dir, '.demo', 'input', 'app.log'), 'hello from the demo\n');
  await waitFor('the demo line', async () => (await readFile(out, 'utf8')).includes('hello from the demo'), 5_000, 10);
  const took = Date.now() - started;
  assert.ok(took < 1_000, `took ${took} ms`);
  const text = await readFile(out, 'utf8');
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z demo-host app: hello from the demo$/m);
  assert.equal(await p.stop('SIGTERM'), 0, p.output());
});

test("the logship command runs libuv's pool with 16 threads, or UV_THREADPOOL_SIZE's when it is set", { timeout: 60_000 }, async (t) => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin['logship'], 'bin/logship.cjs');
  const threads = async (env: NodeJS.ProcessEnv): Promise<number> => {
    const dir = await tmpDir(t, 'logship-pool-');
    const p = spawnLogship(['run', '--config', join(REPO, 'configs', 'all-in-one.yaml')], { cwd: dir, env });
    try {
      await waitFor('logship to start', () => p.output().includes('logship started'), 20_000);
      return (await readdir(`/proc/${p.proc.pid}/task`)).length;
    } finally {
      assert.equal(await p.stop('SIGTERM'), 0, p.output());
    }
  };
  // (the pool's threads all start with it, at its first job: the loader reading dist/main.js)
  const four = await threads({ UV_THREADPOOL_SIZE: '4' });
  const unset = await threads({ UV_THREADPOOL_SIZE: undefined });
  const eight = await threads({ UV_THREADPOOL_SIZE: '8' });
  assert.equal(unset - four, 12, `${four} threads with a pool of 4, ${unset} by default`);
  assert.equal(eight - four, 4, `${four} threads with a pool of 4, ${eight} with 8`);
});
