import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordFields } from '../../../../src/codec/syslog/parse.js';
import { Batch, indexLines, type BatchMeta } from '../../../../src/core/batch.js';
import { compileParts, groupRecordPaths, parsePathTemplate, parseTemplate, renderTemplate } from '../../../../src/destinations/file/path-template.js';
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

// ---- issue 3: per-record paths of syslog batches ---------------------------------------------

function syslogBatch(lines: string[]): Batch {
  const data = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  return new Batch(data, indexLines(data), { ...META, host: 'sender', program: 'meta', format: 'syslog' }, { origin: 'o', stream: 's', offset: 0 });
}

function group(text: string, b: Batch, sanitize: (v: string) => string = sanitizePathComponent) {
  const r = parsePathTemplate(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return groupRecordPaths(compileParts(r.parts), b, recordFields(b), sanitize);
}

test('issue 3: ${PID} ${MSGID} ${SDATA} are line macros, not path macros', () => {
  for (const m of ['PID', 'MSGID', 'SDATA', 'MESSAGE']) {
    assert.equal(parseTemplate(`\${host}/\${${m}}.log`, 'path').ok, false, m);
    assert.equal(parseTemplate(`\${${m}}`, 'line').ok, true, m);
  }
});

test('issue 3: records are grouped by the path their own host, program, PRI and date render to', () => {
  const b = syslogBatch([
    '<13>1 2026-11-23T10:00:00Z web-1 nginx - - - a',
    '<13>1 2026-11-23T10:00:01Z db-2 postgres - - - b',
    '<13>1 2026-11-23T23:59:59Z web-1 nginx - - - c',
    '<13>1 2026-11-24T00:00:00Z web-1 nginx - - - d',
    'not syslog',
    '<13>1 2026-11-23T10:00:02Z db-2 postgres - - - e',
  ]);
  const r = group('${host}/${program}-${YEAR}${MONTH}${DAY}.log', b);
  assert.deepEqual(r.paths, ['web-1/nginx-20261123.log', 'db-2/postgres-20261123.log', 'web-1/nginx-20261124.log', 'sender/meta-20261103.log']);
  assert.deepEqual(r.groups, [[0, 2], [1, 5], [3], [4]]);
  const byPri = group('${facility}/${severity}.log', syslogBatch(['<13>x: a', '<14>x: b', '<13>x: c', '<165>1 - h a - - - d']));
  assert.deepEqual(byPri.paths, ['user/notice.log', 'user/info.log', 'local4/notice.log']);
  assert.deepEqual(byPri.groups, [[0, 2], [1], [3]]);
});

test('issue 3: a path is rendered once per distinct tuple, not once per record', () => {
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) lines.push(`<13>1 2026-11-23T10:00:${String(i % 60).padStart(2, '0')}Z h${i % 3} app - - - m${i}`);
  let calls = 0;
  const counting = (v: string): string => {
    calls++;
    return sanitizePathComponent(v);
  };
  const r = group('${host}/${program}/${HOUR}.log', syslogBatch(lines), counting);
  assert.deepEqual(r.paths, ['h0/app/10.log', 'h1/app/10.log', 'h2/app/10.log']);
  assert.deepEqual(r.groups.map((g) => g?.length), [334, 333, 333]);
  assert.equal(calls, 3 * 3, 'three macros, three tuples');
});

test('issue 3: hosts and programs from messages are sanitized; tuples that sanitize alike share a file', () => {
  const r = group('${host}/${program}.log', syslogBatch(['<13>1 - ../../etc ../x - - - a', '<13>1 - .. a/b - - - b', '<13>1 - _.. a_b - - - c']));
  for (const p of r.paths) {
    const parts = p.split('/');
    assert.equal(parts.length, 2, p);
    assert.ok(!parts.includes('..') && !parts.includes('.'), p);
  }
  assert.deepEqual(r.paths, ['_._.._etc/_._x.log', '_./a_b.log', '_../a_b.log']);
});

test('issue 3: a template without macros puts every record in one group', () => {
  const r = group('all.log', syslogBatch(['<13>1 - a b - - - x', '<13>1 - c d - - - y']));
  assert.deepEqual(r, { paths: ['all.log'], groups: [null] }, 'null: every record, no index list');
  const one = group('${host}.log', syslogBatch(['<13>1 - a b - - - x', '<13>1 - a d - - - y']));
  assert.deepEqual(one, { paths: ['a.log'], groups: [null] }, 'one path rendered from fields: every record');
  const late = group('${host}.log', syslogBatch(['<13>1 - a b - - - x', '<13>1 - a d - - - y', '<13>1 - b d - - - z', '<13>1 - a d - - - w']));
  assert.deepEqual(late, { paths: ['a.log', 'b.log'], groups: [[0, 1, 3], [2]] }, 'a second path late in the batch');
});
