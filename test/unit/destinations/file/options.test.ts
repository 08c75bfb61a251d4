import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileDestinationOptions } from '../../../../src/destinations/file/options.js';

test('defaults', () => {
  const o = fileDestinationOptions.parse({ type: 'file', base_dir: '/srv/logs' });
  assert.deepEqual(o, {
    type: 'file',
    base_dir: '/srv/logs',
    path: '${host}/${program}.log',
    template: 'default',
    fsync: true,
    max_open_files: 256,
    max_tracked_streams: 100_000,
    reorder_wait_ms: 20_000,
    max_in_flight: 16,
    dir_mode: '0755',
    file_mode: '0640',
  });
});

test('an unknown macro is reported at its key, naming the macro', () => {
  const r = fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', path: '${hostname}/x.log', template: '${MESAGE}' });
  assert.equal(r.success, false);
  const issues = r.error!.issues;
  const path = issues.find((i) => i.path.join('.') === 'path');
  const tpl = issues.find((i) => i.path.join('.') === 'template');
  assert.ok(path && /\$\{hostname\}/.test(path.message), JSON.stringify(issues));
  assert.ok(tpl && /\$\{MESAGE\}/.test(tpl.message), JSON.stringify(issues));
});

test('escaping path templates, unknown keys and bad modes are refused', () => {
  assert.equal(fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', path: '../${host}' }).success, false);
  assert.equal(fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', path: '/abs/${host}' }).success, false);
  assert.equal(fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', colour: 'red' }).success, false);
  assert.equal(fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', file_mode: '0999' }).success, false);
  assert.equal(fileDestinationOptions.safeParse({ type: 'file' }).success, false);
  assert.equal(fileDestinationOptions.safeParse({ type: 'file', base_dir: 'x', template: 'raw', dir_mode: '2750' }).success, true);
});

test('every key has a description', () => {
  for (const [k, v] of Object.entries(fileDestinationOptions.shape)) assert.ok(v.description, k);
});
