// What the machine is, for the report: CPUs, model, kernel, memory and how busy it was when the run
// started (other work on a 2-core machine makes figures noisy). Reads /proc and os only.

import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  model: string;
  kernel: string;
  memGB: number;
  /** 1-minute load average when the run started. */
  load1: number;
}

export function machine(): Machine {
  let model = '?';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1]!.trim();
  } catch {
    // not Linux: keep '?'
  }
  return { nproc: availableParallelism(), model, kernel: release(), memGB: totalmem() / 1024 ** 3, load1: loadavg()[0]! };
}
