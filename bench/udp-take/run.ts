// Micro-benchmark of the syslog-udp source's main-thread work per datagram once it is received
// (trim, backlog bound, the sender's flow, batching, and the parse when a batch is cut): rounds of
// 32 datagrams of 200 bytes from one sender, as the native receiver hands them over, into a router
// that takes every batch at once. Reports ns per datagram, wall and CPU, per repetition.
//
//   node --import tsx bench/udp-take/run.ts [--rounds N] [--reps R]
//
// To compare two versions, run it in a worktree of each, alternately (the machine is noisy).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { syslogUdpSource } from '../../src/sources/syslog-udp/index.js';
import { SyslogUdpSource } from '../../src/sources/syslog-udp/source.js';
import { testSourceContext } from '../../test/helpers/context.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '40000' }, reps: { type: 'string', default: '5' } } });
const rounds = Number(args.rounds);
const PER_ROUND = 32;
const SLOT = 256;

const state = mkdtempSync(join(tmpdir(), 'logship-udp-take-'));
const opts = syslogUdpSource.options.parse({ type: 'syslog-udp', listen: 'udp:127.0.0.1:0', max_buffered_bytes: 2 ** 30 });
const src = new SyslogUdpSource(opts, { receiver: 'node' });
await src.start(testSourceContext({ stateDir: state, id: 'udp-take' }, () => undefined));
const slab = Buffer.alloc(PER_ROUND * SLOT);
for (let i = 0; i < PER_ROUND; i++) slab.write(`<13>Dec  4 10:00:00 host app[1]: message ${'x'.repeat(160)} ${i}\n`, i * SLOT, 'latin1');
// The source's per-datagram step (private: this benchmark measures exactly it).
const take = (src as unknown as { _take(b: Buffer, s: number, e: number, a: string, now: number): void })._take.bind(src);

for (let rep = 0; rep < Number(args.reps); rep++) {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const now = Date.now();
    for (let i = 0; i < PER_ROUND; i++) take(slab, i * SLOT, i * SLOT + 200, '127.0.0.1', now);
    if ((r & 63) === 0) await new Promise((resolve) => setImmediate(resolve)); // let batches be pushed
  }
  const cpu = process.cpuUsage(cpu0);
  const n = rounds * PER_ROUND;
  console.log(`rep ${rep + 1}: ${(((performance.now() - wall0) * 1e6) / n).toFixed(0)} ns per datagram wall, ${(((cpu.user + cpu.system) * 1e3) / n).toFixed(0)} ns CPU`);
}
await src.stop();
rmSync(state, { recursive: true, force: true });
