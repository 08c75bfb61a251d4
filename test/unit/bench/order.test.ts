// The benchmark alternates its contenders in ABBA order (issue 5: alternating runs; bench/README.md).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contenders, roundOrder } from '../../../bench/lib/daemons.js';

test('roundOrder: as given in odd rounds, reversed in even ones; each contender once per round', () => {
  const cs = contenders(['logship', 'rsyslog', 'syslog-ng'], true).map((c) => c.label);
  assert.deepEqual(cs, ['logship fsync', 'logship no-fsync', 'rsyslog', 'syslog-ng']);
  const rounds = [1, 2, 3, 4].map((run) => roundOrder(cs, run));
  assert.deepEqual(rounds[0], cs);
  assert.deepEqual(rounds[1], ['syslog-ng', 'rsyslog', 'logship no-fsync', 'logship fsync']);
  assert.deepEqual(rounds[2], cs);
  assert.deepEqual(rounds[3], rounds[1]);
  assert.deepEqual(cs, ['logship fsync', 'logship no-fsync', 'rsyslog', 'syslog-ng'], 'the given order is left as it is');
  // Over two rounds, every contender runs once in each position's mirror: first and last alike.
  for (const c of cs) assert.equal(rounds[0]!.indexOf(c) + rounds[1]!.indexOf(c), cs.length - 1);
});
