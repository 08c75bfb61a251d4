// The native UDP receiver's lifecycle (src/sources/syslog-udp/native.ts over native/udp_recv.c):
// a closed handle is dead (no use of freed memory), a receiver closed from inside its own callback
// delivers nothing more and frees its port. Datagrams go over 127.0.0.1.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test, type TestContext } from 'node:test';
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
