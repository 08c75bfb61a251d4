import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchMeta } from '../../../../src/core/batch.js';
import { compileParts, parsePathTemplate, parseTemplate, renderTemplate } from '../../../../src/destinations/file/path-template.js';
import { sanitizePathComponent } from '../../../../src/util/path-sanitize.js';

const META: BatchMeta = { host: 'web-1', program: 'nginx', facility: 16, severity: 6, timeMs: Date.UTC(2026, 10, 3, 4, 5, 6, 7) };

function render(text: string, meta: BatchMeta = META): string {
  const r = parsePathTemplate(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return renderTemplate(compileParts(r.parts), meta, sanitizePathComponent);
}

test('parses literals and macros', () => {
  const r = parseTemplate('a/${host}-$x${program}.log', 'path');
  assert.ok(r.ok);
  assert.deepEqual(r.parts, [
    { kind: 'literal', text: 'a/' },
    { kind: 'macro', name: 'host' },
    { kind: 'literal', text: '-$x' },
    { kind: 'macro', name: 'program' },
    { kind: 'literal', text: '.log' },
  ]);
});

test('an unknown macro is rejected with a message naming it', () => {
  const r = parseTemplate('${host}/${hots}.log', 'path');
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /\$\{hots\}/);
  const l = parseTemplate('${ISODATE} ${msg}', 'line');
  assert.equal(l.ok, false);
  assert.match(l.ok ? '' : l.message, /\$\{msg\}/);
});

test('${MESSAGE} is for line templates only', () => {
  assert.equal(parseTemplate('${MESSAGE}.log', 'path').ok, false);
  assert.equal(parseTemplate('${MESSAGE}', 'line').ok, true);
});

test('an unterminated macro is rejected', () => {
  const r = parseTemplate('${host/x.log', 'path');
  assert.equal(r.ok, false);
});

test('path templates must stay relative and inside base_dir', () => {
  for (const bad of ['/var/log/${host}.log', '../${host}.log', '${host}/../x.log', '${host}/./x.log', '${host}//x.log', '${host}/', '', 'a\nb']) {
    assert.equal(parsePathTemplate(bad).ok, false, bad);
  }
  for (const good of ['${host}/${program}.log', '${host}..log', 'x/..${host}/y', 'all.log']) {
    assert.equal(parsePathTemplate(good).ok, true, good);
  }
});

test('renders every macro (UTC, zero padded)', () => {
  assert.equal(render('${host}/${program}.log'), 'web-1/nginx.log');
  assert.equal(render('${YEAR}/${MONTH}/${DAY}/${HOUR}${MIN}${SEC}'), '2026/11/03/040506');
  assert.equal(render('${facility}.${severity}.${PRI}'), 'local0.info.134');
  assert.equal(render('${ISODATE}'), '2026-11-03T04:05:06.007Z');
});

test('network values are sanitized before joining the path', () => {
  const evil: BatchMeta = { ...META, host: '../../etc', program: 'a/b\u0000' };
  assert.equal(render('${host}/${program}.log', evil), '_._.._etc/a_b_.log');
  assert.equal(render('.${host}', { ...META, host: '.' }), '._');
  assert.equal(render('${host}/${program}', { ...META, host: '', program: '..' }), '_/_.');
});

test('a bad timeMs does not throw', () => {
  const out = render('${ISODATE}', { ...META, timeMs: Number.NaN });
  assert.match(out, /^\d{4}-\d{2}-\d{2}T/);
});
