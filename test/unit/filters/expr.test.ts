import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchMeta } from '../../../src/core/batch.js';
import { compileFilter, FilterSyntaxError } from '../../../src/filters/expr.js';

const meta = (o: Partial<BatchMeta>): BatchMeta => ({ host: 'web-1', program: 'nginx', facility: 1, severity: 5, timeMs: 0, ...o });

test('severity comparisons follow syslog numbering (lower is more severe)', () => {
  const f = compileFilter('severity <= warning');
  assert.equal(f.matchBatch(meta({ severity: 4 })), true);
  assert.equal(f.matchBatch(meta({ severity: 0 })), true);
  assert.equal(f.matchBatch(meta({ severity: 5 })), false);
  assert.equal(compileFilter('severity > 6').matchBatch(meta({ severity: 7 })), true);
  assert.equal(compileFilter('severity == err').matchBatch(meta({ severity: 3 })), true);
  assert.equal(compileFilter('severity != error').matchBatch(meta({ severity: 3 })), false);
});

test('ranges and sets', () => {
  const r = compileFilter('severity in emerg..err');
  assert.deepEqual([0, 1, 2, 3, 4].map((s) => r.matchBatch(meta({ severity: s }))), [true, true, true, true, false]);
  const s = compileFilter('facility in (local0, local7, 3)');
  assert.deepEqual([16, 23, 3, 1].map((f) => s.matchBatch(meta({ facility: f }))), [true, true, true, false]);
});

test('host and program: equality, glob, regex', () => {
  assert.equal(compileFilter('host == web-1').matchBatch(meta({})), true);
  assert.equal(compileFilter('host == "web-*"').matchBatch(meta({ host: 'web-22' })), true);
  assert.equal(compileFilter('host == web-*').matchBatch(meta({ host: 'db-1' })), false);
  assert.equal(compileFilter('host == web-1.example.com').matchBatch(meta({ host: 'web-1.example.com' })), true);
  assert.equal(compileFilter('program =~ /^ngi/').matchBatch(meta({})), true);
  assert.equal(compileFilter('program !~ /^NGI/i').matchBatch(meta({})), false);
});

test('and, or, not, parentheses and precedence', () => {
  const f = compileFilter('not (program == cron or program == sshd) and (severity <= err or facility == local0)');
  assert.equal(f.matchBatch(meta({ program: 'app', severity: 2 })), true);
  assert.equal(f.matchBatch(meta({ program: 'cron', severity: 2 })), false);
  assert.equal(f.matchBatch(meta({ program: 'app', severity: 6, facility: 16 })), true);
  assert.equal(f.matchBatch(meta({ program: 'app', severity: 6, facility: 1 })), false);
  // and binds tighter than or
  const g = compileFilter('host == a or host == b and severity == 0');
  assert.equal(g.matchBatch(meta({ host: 'a', severity: 7 })), true);
  assert.equal(g.matchBatch(meta({ host: 'b', severity: 7 })), false);
});

test('syntax errors name the column', () => {
  const cases: Array<[string, number]> = [
    ['severity <= bogus', 13],
    ['colour == red', 1],
    ['severity <= warning and', 24],
    ['(host == a', 11],
    ['host == "unterminated', 9],
    ['program =~ /(/', 12],
    ['host < a', 6],
    ['', 1],
  ];
  for (const [src, col] of cases) {
    assert.throws(
      () => compileFilter(src),
      (err: unknown) => err instanceof FilterSyntaxError && err.col === col,
      `expected a syntax error at column ${col} for ${JSON.stringify(src)}`,
    );
  }
});
