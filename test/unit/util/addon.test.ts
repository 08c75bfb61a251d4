// util/addon.ts: loading logship's own addons once (or saying why not), the ones the code can do
// without, and handlers called from an addon that never throw into it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LINE_RUNS_ABI } from '../../../src/destinations/file/line-runs.js';
import { guarded, optionalAddon, ownAddon } from '../../../src/util/addon.js';

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

test('optionalAddon: the addon, or null where it is not built or of another calling convention; set(null) goes without, set(undefined) brings it back', () => {
  const fmt = optionalAddon<{ lines: unknown }>('logship_fmt', 'native line writer', LINE_RUNS_ABI);
  const b = fmt.get();
  assert.ok(b !== null && typeof b.lines === 'function', 'built (npm ci builds it)');
  fmt.set(null);
  assert.equal(fmt.get(), null);
  const stand = { lines: (): number => 0 };
  fmt.set(stand);
  assert.equal(fmt.get(), stand);
  fmt.set(undefined);
  assert.equal(fmt.get(), b);
  assert.equal(optionalAddon<unknown>('logship_no_such_addon', 'the test addon', 1).get(), null);
  assert.equal(optionalAddon<unknown>('logship_fmt', 'native line writer', LINE_RUNS_ABI + 1).get(), null, 'a stale build is not used');
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
