import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleSweepMs, ListenerBase, type BoundAddress } from '../../../../src/sources/common/listener-base.js';

/** The smallest listener: binds nothing, counts its sweeps. */
class Fake extends ListenerBase {
  sweeps = 0;
  constructor() {
    super({ name: 'fake', source: 'fake source' });
  }
  start(listen: string, kind: 'tcp' | 'udp'): BoundAddress {
    const at = this._listenAddress(listen, kind);
    this._running({ host: at.host, port: at.port === 0 ? 4242 : at.port }, () => this.sweeps++, 60_000);
    return at;
  }
  stop(): boolean {
    return this._stopping();
  }
  get state(): string {
    return this._state;
  }
}

test('address() and port throw LS_INTERNAL before start, tell the bound address after', () => {
  const l = new Fake();
  assert.throws(() => l.address(), { code: 'LS_INTERNAL', message: 'fake address() called before start()' });
  assert.throws(() => l.port, { code: 'LS_INTERNAL' });
  assert.deepEqual(l.start('tcp:127.0.0.1:0', 'tcp'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(l.address(), { host: '127.0.0.1', port: 4242 });
  assert.equal(l.port, 4242);
  assert.equal(l.state, 'running');
  assert.equal(l.stop(), true);
});

test('a listen address of another kind is LS_STARTUP; a second start is LS_INTERNAL', () => {
  const l = new Fake();
  assert.throws(() => l.start('udp:127.0.0.1:514', 'tcp'), { code: 'LS_STARTUP', message: 'fake: listen "udp:127.0.0.1:514" is not tcp:HOST:PORT' });
  assert.throws(() => l.start('unix+dgram:/dev/log', 'udp'), { code: 'LS_STARTUP', message: 'fake: listen "unix+dgram:/dev/log" is not udp:HOST:PORT' });
  assert.equal(l.state, 'new');
  l.start('udp:127.0.0.1:514', 'udp');
  assert.throws(() => l.start('udp:127.0.0.1:514', 'udp'), { code: 'LS_INTERNAL', message: 'fake source started twice' });
  assert.equal(l.stop(), true);
});

test('stop: false when nothing runs (never started, stopped already), and the state is stopped', () => {
  const never = new Fake();
  assert.equal(never.stop(), false);
  assert.equal(never.state, 'stopped');
  const l = new Fake();
  l.start('tcp:[::1]:6514', 'tcp');
  assert.equal(l.stop(), true);
  assert.equal(l.stop(), false);
  assert.equal(l.state, 'stopped');
  assert.throws(() => l.start('tcp:[::1]:6514', 'tcp'), { code: 'LS_INTERNAL' });
});

test('idle sweep period: a quarter of the timeout, from 10 ms to 1 s', () => {
  assert.equal(idleSweepMs(0), 10);
  assert.equal(idleSweepMs(100), 25);
  assert.equal(idleSweepMs(300_000), 1000);
});
