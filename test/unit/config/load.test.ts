import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { loadConfig, loadConfigText } from '../../../src/config/index.js';

const good = `
node:
  name: web-1
  state_dir: /tmp/logship-state
sources:
  app:
    type: file
    include: ["/var/log/app/*.log"]
destinations:
  up:
    type: ship
    upstreams: ["127.0.0.1:5514"]
paths:
  - from: [app]
    filter: "severity <= warning"
    to: [up]
`;

test('a valid config loads, frozen, with defaults and the derived role', () => {
  const r = loadConfigText('c.yaml', good);
  assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
  if (!r.ok) return;
  assert.equal(r.config.node.name, 'web-1');
  assert.equal(r.config.node.role, 'client');
  assert.equal(r.config.node.receives, false, 'a file source does not listen');
  assert.equal(r.config.sources[0]!.options['start_at'], 'end');
  assert.ok(Object.isFrozen(r.config));
  assert.ok(Object.isFrozen(r.config.sources[0]!.options));
  assert.equal(r.config.paths[0]!.filter?.compiled.matchBatch({ host: 'h', program: 'p', facility: 1, severity: 3, timeMs: 0 }), true);
});

test('receives: true when a source listens for other hosts (syslog over TCP, TLS or UDP, the ship listener)', () => {
  const listening = `
node: { name: srv, state_dir: /tmp/logship-state }
sources:
  app: { type: file, include: ["/var/log/app/*.log"] }
  net: { type: syslog-tcp, listen: "tcp:127.0.0.1:5514" }
destinations:
  out: { type: file, base_dir: /tmp/logship-out }
paths:
  - from: [app, net]
    to: [out]
`;
  const r = loadConfigText('c.yaml', listening);
  assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
  if (!r.ok) return;
  assert.equal(r.config.node.receives, true);
  assert.equal(r.config.node.role, 'client', 'the role follows the ship protocol only');
});

test('an unknown key is reported at the key itself, with its line', () => {
  const r = loadConfigText('c.yaml', `${good}\n`.replace('  name: web-1\n', '  name: web-1\n  colour: blue\n'));
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(
    r.issues.map((i) => [i.path, i.line, i.message]),
    [['node.colour', 4, 'unknown key']],
  );
});

test('plug-in and path problems are all listed together', () => {
  const bad = `
node: { name: web-1, state_dir: /tmp/x }
sources:
  app:
    type: file
    include: "not-a-list"
    start_at: middle
  sock:
    type: carrier-pigeon
destinations:
  up:
    type: ship
paths:
  - from: [app, nope]
    filter: "severity <= bogus"
    to: [up, missing]
`;
  const r = loadConfigText('c.yaml', bad);
  assert.equal(r.ok, false);
  if (r.ok) return;
  const paths = r.issues.map((i) => i.path);
  for (const p of ['sources.app.include', 'sources.app.start_at', 'sources.sock.type', 'destinations.up.upstreams', 'paths[0].from[1]', 'paths[0].filter', 'paths[0].to[1]']) {
    assert.ok(paths.includes(p), `missing issue for ${p}: ${JSON.stringify(r.issues)}`);
  }
  const filterIssue = r.issues.find((i) => i.path === 'paths[0].filter')!;
  assert.match(filterIssue.message, /column 13/);
  assert.equal(filterIssue.line, 15);
  assert.equal(r.issues.find((i) => i.path === 'sources.sock.type')!.line, 9);
});

test('invalid YAML gives its line', () => {
  const r = loadConfigText('c.yaml', 'sources:\n  a: [1, 2\n');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.ok(r.issues[0]!.line !== undefined);
});

test('listener conflicts and duplicate output paths are refused; unused components warned', () => {
  const r = loadConfigText(
    'c.yaml',
    `
node: { name: s, state_dir: /tmp/x }
sources:
  a: { type: ship-listener, listen: "tcp:127.0.0.1:5514" }
  b: { type: ship-listener, listen: "tcp:127.0.0.1:5514" }
destinations:
  f1: { type: file, base_dir: /tmp/out }
  f2: { type: file, base_dir: /tmp/out }
  spare: { type: blackhole }
paths:
  - { from: [a, b], to: [f1, f2] }
`,
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.issues.map((i) => i.path).sort(), ['destinations.f2.path', 'sources.b.listen']);
  assert.deepEqual(r.warnings.map((w) => w.path), ['destinations.spare']);
});

test('a config with no paths is refused', () => {
  const r = loadConfigText('c.yaml', 'node: { name: a, state_dir: /tmp/x }\n');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.issues.map((i) => i.path), ['paths']);
});

test('an unreadable config file is an LS_CONFIG_READ error', async () => {
  await assert.rejects(loadConfig('/nonexistent/logship.yaml'), (err: { code?: string }) => err.code === 'LS_CONFIG_READ');
});

test('the shipped configs are valid', async () => {
  for (const f of ['configs/all-in-one.yaml', 'configs/client.yaml', 'configs/relay.yaml', 'configs/server.yaml']) {
    const r = loadConfigText(f, await readFile(f, 'utf8'));
    assert.equal(r.ok, true, `${f}: ${JSON.stringify(!r.ok && r.issues)}`);
  }
});
