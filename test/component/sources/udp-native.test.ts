// The native UDP receiver's lifecycle (src/sources/syslog-udp/native.ts over native/udp_recv.c):
// a closed handle is dead (no use of freed memory), a receiver closed from inside its own callback
// delivers nothing more and frees its port; and its coalescing: a steady sender is read in rounds,
// not a datagram per wakeup, the pause is capped by the receive buffer and halves when the queue
// fills. Datagrams go over 127.0.0.1; senders that must not share the receiver's event loop run on
// a worker thread.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { NativeUdpReceiver, udpBinding } from '../../../src/sources/syslog-udp/native.js';
import { sleep, waitFor } from '../../helpers/wait.js';

function binding(): Exclude<ReturnType<typeof udpBinding>, Error> {
  const b = udpBinding();
  if (b instanceof Error) throw b; // the tests need it built (npm ci builds it)
  return b;
}

async function sender(t: TestContext): Promise<Socket> {
  const s = createSocket('udp4');
  t.after(() => s.close());
  return s;
}

const send = (s: Socket, port: number, msg: string): Promise<void> => new Promise((resolve, reject) => s.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

test('a closed receiver handle is dead: port throws EBADF, close again is a no-op, a receiver opened after it is untouched', async (t) => {
  const b = binding();
  const got: string[] = [];
  const a = new NativeUdpReceiver(b, '127.0.0.1', 0, undefined, { datagrams: () => undefined, error: () => undefined });
  a.close();
  await sleep(10); // the receiver's memory is freed on a later loop turn
  const other = new NativeUdpReceiver(b, '127.0.0.1', 0, undefined, {
    datagrams: (r, n) => {
      for (let i = 0; i < n; i++) got.push(r.slab.toString('latin1', i * r.slotBytes, i * r.slotBytes + r.length(i)));
    },
    error: () => undefined,
  });
  t.after(() => other.close());
  assert.throws(() => a.port, { code: 'EBADF' });
  assert.throws(() => b.close({}), { code: 'EINVAL' }, 'an object that is not a handle is refused');
  a.close();
  const s = await sender(t);
  await send(s, other.port, 'still here');
  await waitFor('the datagram', () => got.length === 1, 5000);
  assert.deepEqual(got, ['still here']);
});

test('closed from inside its callback: no more calls, and the port is free again', async (t) => {
  const b = binding();
  let calls = 0;
  let firstCount = 0;
  const r = new NativeUdpReceiver(b, '127.0.0.1', 0, undefined, {
    datagrams: (rcv, n) => {
      calls++;
      firstCount = n;
      rcv.close();
    },
    error: () => undefined,
  });
  const port = r.port;
  const s = await sender(t);
  for (let i = 0; i < 100; i++) await send(s, port, `d${i}`);
  await waitFor('the first call', () => calls > 0, 5000);
  await sleep(100);
  assert.equal(calls, 1);
  assert.ok(firstCount >= 1);
  const again = new NativeUdpReceiver(b, '127.0.0.1', port, undefined, { datagrams: () => undefined, error: () => undefined });
  assert.equal(again.port, port);
  again.close();
});

/** net.core.rmem_max: SO_RCVBUF asks are capped there (the kernel then doubles what it grants). */
const rmemMax = (): number => Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());

/** The coalescing cap the receiver should compute for a SO_RCVBUF ask (see native/udp_recv.c). */
function expectedCap(ask: number): number {
  const cap = Math.min(1000, Math.floor((1000 * 2 * Math.min(ask, rmemMax())) / (8 * 1024 * 1024)));
  return cap < 16 ? 0 : cap;
}

/**
 * A sender on a worker thread (the receiver's event loop stays free): after `go` (when given)
 * becomes 1, `count` datagrams of `size` bytes to `port`, one every `gapUs` µs (0: as fast as it
 * goes); `done` becomes 1 once all are sent. The socket is connected first: a connected socket's
 * send goes out at once (an unconnected one waits for an address lookup on the next tick, which a
 * worker that never yields would turn into one burst at the end).
 */
function workerSender(t: TestContext, o: { port: number; count: number; size: number; gapUs: number; go?: Int32Array; done: Int32Array }): Promise<void> {
  const code = `
    const { workerData: w } = require('node:worker_threads');
    const s = require('node:dgram').createSocket('udp4');
    s.connect(w.port, '127.0.0.1', () => {
      if (w.go) Atomics.wait(w.go, 0, 0, 10000);
      const msg = Buffer.alloc(w.size, 120);
      const spin = (us) => { const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000)); while (process.hrtime.bigint() < end); };
      let left = w.count;
      for (let i = 0; i < w.count; i++) {
        s.send(msg, () => { if (--left === 0) { Atomics.store(w.done, 0, 1); Atomics.notify(w.done, 0); s.close(); } });
        if (w.gapUs > 0) spin(w.gapUs);
      }
    });
  `;
  const worker = new Worker(code, { eval: true, workerData: o });
  t.after(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', () => resolve());
  });
}

test('coalescing: a steady sender is read a round at a time, not a datagram per wakeup; the pause grows to its cap; nothing is lost', async (t) => {
  const b = binding();
  const ask = 4 * 1024 * 1024;
  const cap = expectedCap(ask);
  assert.ok(cap >= 500, `needs net.core.rmem_max of 2 MiB or more for a cap of 500 µs or more (have ${rmemMax()}: cap ${cap})`);
  let got = 0;
  let first = 0;
  let last = 0;
  const r = new NativeUdpReceiver(b, '127.0.0.1', 0, ask, {
    datagrams: (_r, n) => {
      got += n;
      last = performance.now();
      if (first === 0) first = last;
    },
    error: () => undefined,
  });
  t.after(() => r.close());
  assert.equal(r.stats.capUs, cap);
  // 3000 datagrams about 100 µs apart: polled again as soon as drained, the receiver wakes for
  // nearly every one (it reads one in a few µs): here about 2900 calls, against about 300 with
  // the pause (one a millisecond).
  const count = 3000;
  const done = new Int32Array(new SharedArrayBuffer(4));
  await workerSender(t, { port: r.port, count, size: 200, gapUs: 100, done });
  await waitFor('every datagram', () => got === count, 10_000);
  const st = r.stats;
  assert.equal(st.pauseUs, cap, 'an idle queue at each pause end doubles the pause up to its cap');
  // A call per round of up to SLOTS datagrams, about one round a pause, a few while the pause grows.
  const bound = Math.ceil(count / b.SLOTS) + Math.ceil((1.5 * (last - first) * 1000) / cap) + 10;
  t.diagnostic(`${st.calls} calls for ${count} datagrams in ${Math.round(last - first)} ms (bound ${bound})`);
  assert.ok(st.calls <= bound, `${st.calls} calls for ${count} datagrams in ${Math.round(last - first)} ms (bound ${bound})`);
});

test('coalescing: the pause is capped in proportion to the receive buffer, and off for a small one', async (t) => {
  const b = binding();
  for (const ask of [100_000, 60_000]) {
    const cap = expectedCap(ask);
    let got = 0;
    const r = new NativeUdpReceiver(b, '127.0.0.1', 0, ask, { datagrams: (_r, n) => (got += n), error: () => undefined });
    t.after(() => r.close());
    assert.equal(r.stats.capUs, cap, `SO_RCVBUF ask ${ask}`);
    const s = await sender(t);
    for (let i = 0; i < 20; i++) await send(s, r.port, `d${i}`);
    await waitFor(`the datagrams (ask ${ask})`, () => got === 20, 5000);
    const { pauseUs } = r.stats;
    if (cap > 0) assert.ok(pauseUs >= 16 && pauseUs <= cap, `pause ${pauseUs} µs outside [16, ${cap}]`);
    else assert.equal(pauseUs, 0, 'no coalescing: no pause');
  }
});

test('coalescing: a queue found over a quarter full when a pause ends halves the pause; the burst is read whole', async (t) => {
  const b = binding();
  const ask = 4 * 1024 * 1024;
  assert.ok(expectedCap(ask) >= 500, `needs net.core.rmem_max of 2 MiB or more (have ${rmemMax()})`);
  const go = new Int32Array(new SharedArrayBuffer(4));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const burst = 2500; // of 300 bytes: over 3 MB of queue as the kernel counts it, over a quarter of 8 MiB
  let got = 0;
  let blocked = false;
  const r = new NativeUdpReceiver(b, '127.0.0.1', 0, ask, {
    datagrams: (_r, n) => {
      got += n;
      if (blocked) return;
      blocked = true;
      // The first datagram's call holds the event loop while the burst arrives; the pause that
      // follows this call ends on a queue of the whole burst.
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
      const deadline = Date.now() + 10_000;
      while (Atomics.load(done, 0) === 0 && Date.now() < deadline) Atomics.wait(done, 0, 0, 10);
    },
    error: () => undefined,
  });
  t.after(() => r.close());
  const sent = workerSender(t, { port: r.port, count: burst, size: 300, gapUs: 0, go, done });
  const s = await sender(t);
  await send(s, r.port, 'first');
  await sent;
  await waitFor('the whole burst', () => got === burst + 1, 10_000);
  assert.ok(r.stats.shrinks >= 1, JSON.stringify(r.stats));
});
