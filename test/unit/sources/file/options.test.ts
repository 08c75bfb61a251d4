// File source options: defaults, syslog names and numbers, cross-field rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileSourceOptions, maxPollIntervalMs } from '../../../../src/sources/file/options.js';

test('defaults', () => {
  const o = fileSourceOptions.parse({ type: 'file', include: ['/var/log/*.log'] });
  assert.deepEqual(o, {
    type: 'file',
    include: ['/var/log/*.log'],
    exclude: [],
    start_at: 'end',
    facility: 'user',
    severity: 'notice',
    format: 'raw',
    max_line_bytes: 65_536,
    partial_flush_ms: 1000,
    read_chunk_bytes: 1_048_576,
    poll_interval_ms: 1000,
    rotate_wait_ms: 10_000,
    checkpoint_interval_ms: 200,
  });
});

test('facility and severity take names or numbers; unknown ones are refused at their key', () => {
  assert.equal(fileSourceOptions.safeParse({ type: 'file', include: ['a'], facility: 'local7', severity: 3 }).success, true);
  for (const [key, value] of [
    ['facility', 'local9'],
    ['facility', 24],
    ['severity', 'loud'],
    ['severity', 8],
  ] as const) {
    const r = fileSourceOptions.safeParse({ type: 'file', include: ['a'], [key]: value });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, [key]);
  }
});

test('unknown keys, an empty include and a chunk smaller than a line are refused', () => {
  assert.equal(fileSourceOptions.safeParse({ type: 'file', include: ['a'], follow: true }).success, false);
  assert.equal(fileSourceOptions.safeParse({ type: 'file', include: [] }).success, false);
  const r = fileSourceOptions.safeParse({ type: 'file', include: ['a'], max_line_bytes: 4096, read_chunk_bytes: 4096 });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues[0]?.path, ['read_chunk_bytes']);
});

test('every key has a description', () => {
  for (const [key, schema] of Object.entries(fileSourceOptions.shape)) {
    assert.ok(typeof schema.description === 'string' && schema.description.length > 0, key);
  }
});

test('max_poll_interval_ms: 30 s by default (poll_interval_ms if longer), never below poll_interval_ms', () => {
  const parse = (o: Record<string, unknown>) => fileSourceOptions.parse({ type: 'file', include: ['a'], ...o });
  assert.equal(maxPollIntervalMs(parse({})), 30_000);
  assert.equal(maxPollIntervalMs(parse({ poll_interval_ms: 60_000 })), 60_000);
  assert.equal(maxPollIntervalMs(parse({ poll_interval_ms: 500, max_poll_interval_ms: 500 })), 500);
  const r = fileSourceOptions.safeParse({ type: 'file', include: ['a'], poll_interval_ms: 2000, max_poll_interval_ms: 1000 });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues[0]?.path, ['max_poll_interval_ms']);
});
