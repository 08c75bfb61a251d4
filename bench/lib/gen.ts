// Load generator, run as its own process by bench/lib/generator.ts so that its CPU is never the
// daemon's: TCP senders (one or many connections, newline or octet-counted), a UDP sender, a file
// appender, and a raw TCP blaster for the loopback limit. Talks to the harness over stdio:
//
//   harness                     gen
//   spawn (spec as argv[2]) ──►  connects / opens, builds templates
//                           ◄──  "ready"
//   "go\n" on stdin         ──►  sends everything, waits for its sockets to close
//                           ◄──  "done {bytes, count, ms}"      (or "error <text>", exit 1)
//
//   node --import tsx bench/lib/gen.ts '<GenSpec as JSON>'

import { once } from 'node:events';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { buildChunk, buildTemplate, type MessageKind, type Template } from './messages.js';

export type GenSpec =
  | {
      mode: 'tcp';
      port: number;
      kind: 'newline' | 'octet-counting';
      count: number;
      size: number;
      /** One connection per host; connection k sends sequence numbers [k*per, (k+1)*per). */
      hosts: string[];
    }
  | { mode: 'udp'; port: number; count: number; size: number; host: string; /** msg/s, 0 = as fast as it goes */ rate: number }
  | { mode: 'file'; path: string; count: number; size: number; host: string }
  | { mode: 'blast'; port: number; bytes: number };

export interface GenDone {
  bytes: number;
  count: number;
  ms: number;
}

const CHUNK_BYTES = 256 * 1024;
const FILE_CHUNK_BYTES = 1024 * 1024;
const UDP_BURST = 256;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function template(kind: MessageKind, size: number, host: string, thread: number, runid: number): Template {
  return buildTemplate({ kind, size, host, thread, runid, time: new Date() });
}

async function connectTcp(port: number): Promise<Socket> {
  const sock = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(sock, 'connect');
  return sock;
}

/** Writes to the socket, waiting for 'drain' when the kernel buffer is full; rejects on error/close. */
function writeOrWait(sock: Socket, buf: Buffer): Promise<void> | undefined {
  if (sock.write(buf)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      sock.off('drain', onDrain);
      sock.off('error', onErr);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onErr = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('connection closed by the receiver'));
    sock.on('drain', onDrain);
    sock.on('error', onErr);
    sock.on('close', onClose);
  });
}

async function endAndClose(sock: Socket): Promise<void> {
  const closed = once(sock, 'close');
  sock.end();
  const timer = setTimeout(() => sock.destroy(), 10_000); // the receiver never closed: the data is out anyway
  await closed.catch(() => undefined);
  clearTimeout(timer);
}

async function sendTcpRange(sock: Socket, tpl: Template, from: number, to: number): Promise<void> {
  const per = Math.max(1, Math.floor(CHUNK_BYTES / tpl.bytes.length));
  for (let s = from; s < to; s += per) {
    const wait = writeOrWait(sock, buildChunk(tpl, s, Math.min(per, to - s)));
    if (wait) await wait;
  }
  await endAndClose(sock);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as GenSpec;
  const runid = Math.floor(Date.now() / 1000);
  let run: () => Promise<{ bytes: number; count: number }>;

  switch (spec.mode) {
    case 'tcp': {
      const n = spec.hosts.length;
      const per = Math.ceil(spec.count / n);
      const tpls = spec.hosts.map((h, k) => template(spec.kind, spec.size, h, k, runid));
      const socks = await Promise.all(spec.hosts.map(() => connectTcp(spec.port)));
      for (const s of socks) s.on('error', () => undefined); // reported through writeOrWait / close
      run = async () => {
        await Promise.all(socks.map((s, k) => sendTcpRange(s, tpls[k]!, Math.min(k * per, spec.count), Math.min((k + 1) * per, spec.count))));
        return { bytes: tpls[0]!.bytes.length * spec.count, count: spec.count };
      };
      break;
    }
    case 'udp': {
      const tpl = template('dgram', spec.size, spec.host, 0, runid);
      const sock: UdpSocket = createSocket('udp4');
      sock.connect(spec.port, '127.0.0.1');
      await once(sock, 'connect');
      sock.setSendBufferSize(4 * 1024 * 1024);
      run = async () => {
        const len = tpl.bytes.length;
        const t0 = performance.now();
        let sent = 0;
        let errors = 0;
        while (sent < spec.count) {
          const n = Math.min(UDP_BURST, spec.count - sent);
          const chunk = buildChunk(tpl, sent, n);
          await new Promise<void>((resolve) => {
            for (let k = 0; k < n; k++) {
              const last = k === n - 1;
              sock.send(chunk, k * len, len, (err) => {
                if (err) errors++;
                if (last) resolve();
              });
            }
          });
          sent += n;
          if (spec.rate > 0) {
            const ahead = (sent / spec.rate) * 1000 - (performance.now() - t0);
            if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
          }
        }
        sock.close();
        return { bytes: len * (spec.count - errors), count: spec.count - errors };
      };
      break;
    }
    case 'file': {
      const tpl = template('file', spec.size, spec.host, 0, runid);
      const fd = openSync(spec.path, 'a');
      run = async () => {
        const per = Math.max(1, Math.floor(FILE_CHUNK_BYTES / tpl.bytes.length));
        for (let s = 0; s < spec.count; s += per) writeSync(fd, buildChunk(tpl, s, Math.min(per, spec.count - s)));
        closeSync(fd);
        return { bytes: tpl.bytes.length * spec.count, count: spec.count };
      };
      break;
    }
    case 'blast': {
      const sock = await connectTcp(spec.port);
      sock.on('error', () => undefined);
      const buf = Buffer.alloc(1024 * 1024, 0x61);
      run = async () => {
        let sent = 0;
        while (sent < spec.bytes) {
          const part = Math.min(buf.length, spec.bytes - sent);
          const wait = writeOrWait(sock, part === buf.length ? buf : buf.subarray(0, part));
          if (wait) await wait;
          sent += part;
        }
        await endAndClose(sock);
        return { bytes: sent, count: 0 };
      };
      break;
    }
  }

  say('ready');
  process.stdin.setEncoding('utf8');
  let input = '';
  for await (const d of process.stdin) {
    input += String(d);
    if (input.includes('go\n')) break;
  }
  const t0 = performance.now();
  const r = await run();
  const done: GenDone = { ...r, ms: performance.now() - t0 };
  say(`done ${JSON.stringify(done)}`);
}

// The generator is its own process (bench/lib/generator.ts starts it), not the logship binary.
main().then(
  // eslint-disable-next-line n/no-process-exit -- stdin stays open: leave without waiting for it
  () => process.exit(0),
  (err: unknown) => {
    say(`error ${err instanceof Error ? err.message : String(err)}`);
    // eslint-disable-next-line n/no-process-exit -- as above: the parent reads the exit code
    process.exit(1);
  },
);
