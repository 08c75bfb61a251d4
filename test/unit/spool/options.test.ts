// The `spool` key of source blocks: defaults, validation with key paths, refused on file sources,
// and kept out of the plug-in's own schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigText } from '../../../src/config/index.js';
import { spoolOptions } from '../../../src/spool/options.js';

const config = (sourceExtra: string, type = 'syslog-tcp', listen = '\n    listen: "tcp:127.0.0.1:5514"') => `
node: { name: relay-1, state_dir: /tmp/logship-state }
sources:
  in:
    type: ${type}${listen}
${sourceExtra}
destinations:
  up: { type: ship, upstreams: ["127.0.0.1:5515"] }
paths:
  - { from: [in], to: [up] }
`;

test('spool options: the documented defaults', () => {
  assert.deepEqual(spoolOptions.parse({}), { max_bytes: 1024 * 1024 * 1024, when_full: 'block', fsync: true, fsync_interval_ms: 0, segment_bytes: 16 * 1024 * 1024 });
});

test('a spool on a non-file source is parsed onto the component, and the plug-in never sees it', () => {
  const r = loadConfigText('c.yaml', config('    spool:\n      max_bytes: 1048576\n      when_full: drop-oldest\n      segment_bytes: 65536'));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const s = r.config.sources[0]!;
  assert.deepEqual(s.spool, { max_bytes: 1048576, when_full: 'drop-oldest', fsync: true, fsync_interval_ms: 0, segment_bytes: 65536 });
  assert.equal('spool' in s.options, false);
  // `spool: {}` (or an empty `spool:`) means the defaults; no key means no spool.
  for (const empty of ['    spool: {}', '    spool:']) {
    const e = loadConfigText('c.yaml', config(empty));
    assert.ok(e.ok && e.config.sources[0]!.spool?.when_full === 'block', empty);
  }
  const none = loadConfigText('c.yaml', config(''));
  assert.ok(none.ok && none.config.sources[0]!.spool === undefined);
  const listener = loadConfigText('c.yaml', config('    spool: { fsync: false }', 'ship-listener'));
  assert.ok(listener.ok && listener.config.sources[0]!.spool?.fsync === false);
});

test('bad spool keys are reported under sources.<name>.spool with their line', () => {
  const r = loadConfigText('c.yaml', config('    spool:\n      when_full: panic\n      colour: blue'));
  assert.equal(r.ok, false);
  if (r.ok) return;
  const byPath = new Map(r.issues.map((i) => [i.path, i]));
  for (const p of ['sources.in.spool.when_full', 'sources.in.spool.colour']) {
    assert.ok(byPath.has(p), `${p} in ${JSON.stringify(r.issues)}`);
    assert.equal(typeof byPath.get(p)!.line, 'number', p);
  }
  // Segments must be small enough that whole ones can be freed at the cap.
  const big = loadConfigText('c.yaml', config('    spool:\n      max_bytes: 65536\n      segment_bytes: 65536'));
  assert.ok(!big.ok && big.issues.some((i) => i.path === 'sources.in.spool.segment_bytes'), JSON.stringify(!big.ok && big.issues));
});

test('a spool on a file source is a config error naming the key', () => {
  const r = loadConfigText('c.yaml', config('    spool: {}', 'file', '\n    include: ["/var/log/app/*.log"]'));
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.issues.length, 1, JSON.stringify(r.issues));
  assert.equal(r.issues[0]!.path, 'sources.in.spool');
  assert.equal(r.issues[0]!.line, 7);
});
