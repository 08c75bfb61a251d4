// The machine's limits, measured in the same run as the daemons so every figure can be read as a
// fraction of them: loopback TCP throughput (our generator process blasting 1 MiB writes to a
// receiver in the harness) and sequential disk writes with fsync (in the dir the daemons write to).

import { once } from 'node:events';
import { closeSync, fdatasyncSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startGenerator } from './generator.js';

export interface Limits {
  /** Loopback TCP, one connection, MB/s (1 MB = 10^6 bytes), best of 3. */
  loopbackMBps: number;
  /** Sequential 1 MiB writes, then one fsync, MB/s, best of 2. */
  diskSeqMBps: number;
  /** 64 KiB appends, each followed by fdatasync: syncs per second (a group commit's floor). */
  diskSyncsPerSec: number;
  loopbackBytes: number;
  diskBytes: number;
}

export async function measureLoopback(bytes: number): Promise<number> {
  const server = createServer();
  let received = 0;
  let t0 = 0;
  let t1 = 0;
  const finished = new Promise<void>((resolve) => {
    server.once('connection', (sock) => {
      sock.on('data', (d: Buffer) => {
        if (t0 === 0) t0 = performance.now();
        received += d.length;
      });
      sock.once('end', () => {
        t1 = performance.now();
        sock.end();
        resolve();
      });
      sock.on('error', () => resolve());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    const gen = await startGenerator({ mode: 'blast', port, bytes });
    await gen.go(120_000);
    await finished;
  } finally {
    server.close();
  }
  if (received !== bytes || t1 <= t0) throw new Error(`loopback test received ${received} of ${bytes} bytes`);
  return bytes / 1e6 / ((t1 - t0) / 1000);
}

export function measureDisk(dir: string, bytes: number, syncs: number): { seqMBps: number; syncsPerSec: number } {
  const file = join(dir, 'disk-limit.bin');
  const buf = Buffer.alloc(1024 * 1024, 0x62);
  let fd = openSync(file, 'w');
  const t0 = performance.now();
  try {
    for (let w = 0; w < bytes; w += buf.length) writeSync(fd, buf, 0, Math.min(buf.length, bytes - w));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const seqMBps = bytes / 1e6 / ((performance.now() - t0) / 1000);
  rmSync(file, { force: true });

  const small = buf.subarray(0, 64 * 1024);
  fd = openSync(file, 'w');
  const t2 = performance.now();
  try {
    for (let i = 0; i < syncs; i++) {
      writeSync(fd, small);
      fdatasyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
  const syncsPerSec = syncs / ((performance.now() - t2) / 1000);
  rmSync(file, { force: true });
  return { seqMBps, syncsPerSec };
}

/** The best of a few tries of each: a limit is what the machine can do, and other work on it only
 *  ever lowers a try. */
export async function measureLimits(dir: string, quick: boolean): Promise<Limits> {
  const loopbackBytes = (quick ? 256 : 1024) * 1024 * 1024;
  const diskBytes = (quick ? 64 : 512) * 1024 * 1024;
  let loopbackMBps = 0;
  for (let i = 0; i < 3; i++) loopbackMBps = Math.max(loopbackMBps, await measureLoopback(loopbackBytes));
  let diskSeqMBps = 0;
  let diskSyncsPerSec = 0;
  for (let i = 0; i < 2; i++) {
    const d = measureDisk(dir, diskBytes, quick ? 100 : 300);
    diskSeqMBps = Math.max(diskSeqMBps, d.seqMBps);
    diskSyncsPerSec = Math.max(diskSyncsPerSec, d.syncsPerSec);
  }
  return { loopbackMBps, diskSeqMBps, diskSyncsPerSec, loopbackBytes, diskBytes };
}
