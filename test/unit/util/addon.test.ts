// util/addon.ts: loading logship's own addons once (or saying why not), and handlers called from an
// addon that never throw into it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guarded, ownAddon } from '../../../src/util/addon.js';

test('ownAddon loads a built addon of the project once, and says what is not built', () => {
  const tcp = ownAddon<{ attach: unknown }>('logship_tcp', 'native TCP reader');
  const b = tcp();
  if (b instanceof Error) throw b; // the tests need it built (npm ci builds it)
  assert.equal(typeof b.attach, 'function');
  assert.equal(tcp(), b);
  const missing = ownAddon<unknown>('logship_no_such_addon', 'the test addon');
  const e = missing();
  assert.ok(e instanceof Error);
  assert.match(e.message, /^the test addon not built: /);
  assert.equal(missing(), e, 'tried once');
});

test('guarded runs the handler; what it throws is rethrown on the next tick, not into the caller', (t) => {
  let ran = false;
  guarded(() => {
    ran = true;
  });
  assert.ok(ran);
  const later: (() => void)[] = [];
  t.mock.method(process, 'nextTick', (fn: () => void) => void later.push(fn));
  const bug = new Error('a bug in a handler');
  assert.doesNotThrow(() =>
    guarded(() => {
      throw bug;
    }),
  );
  t.mock.restoreAll();
  assert.equal(later.length, 1);
  assert.throws(later[0]!, (e) => e === bug);
});
