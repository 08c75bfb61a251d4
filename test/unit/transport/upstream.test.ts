// Unit tests of upstream selection (ordered failover, backoff) and address parsing. No sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostPort, parseListenAddress } from '../../../src/transport/listener.js';
import { backoffDelay, sleepUnlessAborted, upstream, UpstreamRotation } from '../../../src/transport/upstream.js';

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
