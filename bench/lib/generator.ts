// Harness side of the load generator: starts bench/lib/gen.ts as its own process, waits for it to be
// ready (connected, file open), says "go", and resolves with what it sent. Every wait is bounded; a
// generator that outlives its bound is killed by its pid.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GenDone, GenSpec } from './gen.js';
import { track } from './proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const GEN = join(HERE, 'gen.ts');
/** The repo root: `--import tsx` resolves tsx from the working directory. */
const REPO = join(HERE, '..', '..');

export interface Generator {
  readonly pid: number;
  /** Starts sending; resolves when everything is sent (sockets closed, file written). */
  go(timeoutMs: number): Promise<GenDone>;
  kill(): void;
}

export async function startGenerator(spec: GenSpec, readyTimeoutMs = 30_000): Promise<Generator> {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', GEN, JSON.stringify(spec)], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(proc);
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (d: string) => {
    err = (err + d).slice(-4096);
  });
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  proc.stdin!.on('error', () => undefined);

  const waitLine = (prefix: string, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`generator (${spec.mode}) said nothing like "${prefix}" within ${timeoutMs} ms: ${out}${err}`));
      }, timeoutMs);
      const check = (): void => {
        const lines = out.split('\n');
        const hit = lines.find((l) => l.startsWith(prefix));
        const bad = lines.find((l) => l.startsWith('error '));
        if (hit !== undefined || bad !== undefined || exited) {
          clearTimeout(timer);
          if (hit !== undefined) resolve(hit.slice(prefix.length).trim());
          else reject(new Error(`generator (${spec.mode}) failed: ${bad ?? `exited (${proc.exitCode})`} ${err}`));
          return;
        }
        waiters.push(check);
      };
      check();
    });

  await waitLine('ready', readyTimeoutMs);
  return {
    pid: proc.pid ?? -1,
    go: async (timeoutMs) => {
      proc.stdin!.write('go\n');
      const done = await waitLine('done', timeoutMs);
      return JSON.parse(done) as GenDone;
    },
    kill: () => {
      if (!exited) proc.kill('SIGKILL');
    },
  };
}
