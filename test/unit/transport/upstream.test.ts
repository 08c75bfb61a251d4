// Unit tests of upstream selection (ordered rotation, per-upstream health, backoff), name
// resolution through an injected lookup, and address parsing. No sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogshipError } from '../../../src/core/errors.js';
import { parseHostPort, parseListenAddress } from '../../../src/transport/listener.js';
import {
  backoffDelay,
  firstUsable,
  resolveUpstream,
  sleepUnlessAborted,
  untilNextUsable,
  upstream,
  UpstreamHealth,
  UpstreamRotation,
  type Lookup,
} from '../../../src/transport/upstream.js';

test('backoff doubles from min, caps at max, and is jittered between half and all of the step', () => {
  assert.equal(backoffDelay(0, 100, 10_000, () => 1), 100);
  assert.equal(backoffDelay(0, 100, 10_000, () => 0), 50);
  assert.equal(backoffDelay(3, 100, 10_000, () => 1), 800);
  assert.equal(backoffDelay(20, 100, 10_000, () => 1), 10_000);
  assert.equal(backoffDelay(1000, 100, 10_000, () => 0), 5000);
});

test('failover tries every upstream in order without waiting, then backs off growing per pass', () => {
  const r = new UpstreamRotation([upstream('a', 1), upstream('b', 2), upstream('c', 3)], { backoffMinMs: 100, backoffMaxMs: 1000, random: () => 1 });
  const seen: string[] = [];
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    seen.push(r.current().label);
    delays.push(r.failed());
  }
  assert.deepEqual(seen, ['a:1', 'b:2', 'c:3', 'a:1', 'b:2', 'c:3', 'a:1', 'b:2', 'c:3']);
  assert.deepEqual(delays, [0, 0, 100, 0, 0, 200, 0, 0, 400]);
});

test('after a lost connection the first upstream is tried again; quick losses keep backing off, long ones reset', () => {
  const r = new UpstreamRotation([upstream('a', 1), upstream('b', 2)], { backoffMinMs: 100, backoffMaxMs: 1000, random: () => 1 });
  r.failed();
  assert.equal(r.current().label, 'b:2');
  r.connected(0);
  assert.equal(r.lost(10), 100);
  assert.equal(r.current().label, 'a:1');
  r.connected(20);
  assert.equal(r.lost(30), 200, 'a connection dropped at once does not reset the backoff');
  r.connected(100);
  assert.equal(r.lost(100 + 1000), 100, 'a connection that lived backoff_max resets it');
});

test('host:port parsing: names, IPv4, bracketed IPv6; errors say what is wrong', () => {
  assert.deepEqual(parseHostPort('relay.example:5140', false), { ok: true, value: { host: 'relay.example', port: 5140 } });
  assert.deepEqual(parseHostPort('[::1]:80', false), { ok: true, value: { host: '::1', port: 80 } });
  assert.deepEqual(parseHostPort('1.2.3.4:0', true), { ok: true, value: { host: '1.2.3.4', port: 0 } });
  for (const bad of ['h', 'h:', ':5', 'h:0', 'h:65536', 'h:5x', '::1:5', '[::1]5', '[::1']) {
    const r = parseHostPort(bad, false);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.ok(r.error.length > 0);
  }
});

test('listen addresses of every kind parse; unknown schemes do not', () => {
  assert.deepEqual(parseListenAddress('tcp:0.0.0.0:5140'), { ok: true, value: { kind: 'tcp', host: '0.0.0.0', port: 5140 } });
  assert.deepEqual(parseListenAddress('tcp:[::]:0'), { ok: true, value: { kind: 'tcp', host: '::', port: 0 } });
  assert.deepEqual(parseListenAddress('udp:127.0.0.1:514'), { ok: true, value: { kind: 'udp', host: '127.0.0.1', port: 514 } });
  assert.deepEqual(parseListenAddress('unix+dgram:/dev/log'), { ok: true, value: { kind: 'unix+dgram', path: '/dev/log' } });
  assert.equal(parseListenAddress('http://x:1').ok, false);
  assert.equal(parseListenAddress('tcp:host').ok, false);
  assert.equal(parseListenAddress('unix+stream:').ok, false);
});

test('sleepUnlessAborted returns at once when aborted', async () => {
  const ac = new AbortController();
  const started = Date.now();
  const p = sleepUnlessAborted(10_000, ac.signal);
  ac.abort();
  await p;
  assert.ok(Date.now() - started < 1000);
});

test('health: a failure marks an upstream down for its own growing backoff; it is usable again once that passed', () => {
  const h = new UpstreamHealth(upstream('a', 1), { backoffMinMs: 100, backoffMaxMs: 1000, random: () => 1 });
  assert.equal(h.state, 'unknown');
  assert.equal(h.usable(0), true);
  assert.equal(h.failed(1000), true, 'first failure: marked down (an event)');
  assert.equal(h.state, 'down');
  assert.equal(h.retryAt, 1100);
  assert.equal(h.usable(1099), false);
  assert.equal(h.usable(1100), true);
  assert.equal(h.failed(1100), false, 'already down: no second event');
  assert.equal(h.retryAt, 1300, 'the backoff doubles');
  assert.equal(h.failed(1300), false);
  assert.equal(h.retryAt, 1700);
  assert.equal(h.connected(1700), true, 'back up after being down');
  assert.equal(h.state, 'up');
  assert.equal(h.usable(1700), true);
  assert.equal(h.connected(1800), false, 'already up');
});

test('health: quick losses keep growing the backoff, a connection that lived backoff_max resets it', () => {
  const h = new UpstreamHealth(upstream('a', 1), { backoffMinMs: 100, backoffMaxMs: 1000, random: () => 1 });
  h.connected(0);
  assert.equal(h.lost(10), true);
  assert.equal(h.retryAt, 10 + 100);
  h.connected(200);
  h.lost(210);
  assert.equal(h.retryAt, 210 + 200, 'dropped at once: the backoff grows');
  h.connected(500);
  h.lost(500 + 1000);
  assert.equal(h.retryAt, 1500 + 100, 'lived backoff_max: reset');
});

test('firstUsable follows list order and skips upstreams in backoff; untilNextUsable is the earliest retry', () => {
  const opts = { backoffMinMs: 100, backoffMaxMs: 1000, random: () => 1 };
  const hs = [new UpstreamHealth(upstream('a', 1), opts), new UpstreamHealth(upstream('b', 2), opts), new UpstreamHealth(upstream('c', 3), opts)];
  assert.equal(firstUsable(hs, 0), 0);
  assert.equal(untilNextUsable(hs, 0), 0);
  hs[0]!.failed(0);
  assert.equal(firstUsable(hs, 1), 1);
  assert.equal(firstUsable(hs, 1, 1), -1, 'only the ones preferred over index 1');
  hs[1]!.failed(0);
  hs[1]!.failed(100); // b: retry at 300
  hs[2]!.failed(50); // c: retry at 150
  assert.equal(firstUsable(hs, 60), -1);
  assert.equal(untilNextUsable(hs, 60), 40, 'a is usable again at 100');
  assert.equal(firstUsable(hs, 100), 0);
  assert.equal(firstUsable(hs, 100, 0), -1);
});

test('resolveUpstream: IP literals are not looked up; names are asked on every call, never cached', async () => {
  const calls: string[] = [];
  let answer = '127.0.0.2';
  const lookup: Lookup = async (name) => {
    calls.push(name);
    return [{ address: answer, family: 4 }];
  };
  assert.deepEqual(await resolveUpstream(upstream('127.0.0.1', 5), { timeoutMs: 100, lookup }), [{ address: '127.0.0.1', family: 4 }]);
  assert.deepEqual(await resolveUpstream(upstream('::1', 5), { timeoutMs: 100, lookup }), [{ address: '::1', family: 6 }]);
  assert.deepEqual(calls, []);
  assert.equal((await resolveUpstream(upstream('relay.test', 5), { timeoutMs: 100, lookup }))[0]!.address, '127.0.0.2');
  answer = '127.0.0.1';
  assert.equal((await resolveUpstream(upstream('relay.test', 5), { timeoutMs: 100, lookup }))[0]!.address, '127.0.0.1');
  assert.deepEqual(calls, ['relay.test', 'relay.test']);
});

test('resolveUpstream: a name that does not resolve, resolves to nothing, or hangs is LS_SHIP_RESOLVE; abort is LS_SHUTDOWN', async () => {
  const notFound: Lookup = async () => {
    throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
  };
  const empty: Lookup = async () => [];
  const hang: Lookup = () => new Promise(() => {});
  const up = upstream('nowhere.invalid', 5140);
  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'resolved';
    } catch (err) {
      assert.ok(err instanceof LogshipError);
      return err.code;
    }
  };
  assert.equal(await codeOf(resolveUpstream(up, { timeoutMs: 1000, lookup: notFound })), 'LS_SHIP_RESOLVE');
  assert.equal(await codeOf(resolveUpstream(up, { timeoutMs: 1000, lookup: empty })), 'LS_SHIP_RESOLVE');
  assert.equal(await codeOf(resolveUpstream(up, { timeoutMs: 30, lookup: hang })), 'LS_SHIP_RESOLVE');
  const ac = new AbortController();
  const p = codeOf(resolveUpstream(up, { timeoutMs: 10_000, lookup: hang, signal: ac.signal }));
  ac.abort();
  assert.equal(await p, 'LS_SHUTDOWN');
  // the reason names the upstream and the resolver's code
  await resolveUpstream(up, { timeoutMs: 1000, lookup: notFound }).catch((err: LogshipError) => {
    assert.match(err.message, /nowhere\.invalid:5140/);
    assert.match(err.message, /ENOTFOUND/);
  });
});
