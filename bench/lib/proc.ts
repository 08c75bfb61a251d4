// Process control for the harness: starts daemons in the foreground with their output in a log file,
// stops them by their own pid (SIGTERM, then SIGKILL after a bound), and reads what the kernel says
// about them: CPU time (utime+stime of every thread, /proc/PID/stat) and peak RSS (VmHWM,
// /proc/PID/status). Every child the harness starts is tracked and killed if the harness dies.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills `proc` (by its pid) if the harness exits first. */
export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => killAllTracked());
  }
}

export function killAllTracked(): void {
  for (const p of live) {
    if (p.pid !== undefined) signalPid(p.pid, 'SIGKILL');
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

let clkTck: number | undefined;
/** Clock ticks per second of /proc/PID/stat's times (getconf CLK_TCK; 100 on Linux). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime+stime of the process (all its threads) in seconds, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** CPU time the whole machine spent busy (user + nice + system, all CPUs, /proc/stat), in seconds:
 *  compared with the CPU of the benchmark's own processes it tells how much other work ran. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return (f[0]! + f[1]! + f[2]!) / clockTicks();
  } catch {
    return NaN;
  }
}

/** A field of /proc/PID/status in kB (VmHWM: peak RSS, VmRSS: current RSS), or undefined. */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonSpec {
  /** For messages: "logship server", "rsyslog client"… */
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout and stderr go here. */
  logFile: string;
}

export class Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<DaemonExit>;
  private _proc: ChildProcess;
  private _gone = false;
  private _stopping: Promise<DaemonExit> | undefined;

  private constructor(name: string, proc: ChildProcess, logFile: string) {
    this.name = name;
    this._proc = proc;
    this.pid = proc.pid ?? -1;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this._gone = true;
        resolve({ code, signal });
      });
      proc.once('error', () => {
        this._gone = true;
        resolve({ code: null, signal: null });
      });
    });
  }

  static start(spec: DaemonSpec): Daemon {
    const fd = openSync(spec.logFile, 'a');
    try {
      const proc = spawn(spec.cmd, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', fd, fd] });
      track(proc);
      return new Daemon(spec.name, proc, spec.logFile);
    } finally {
      closeSync(fd);
    }
  }

  get alive(): boolean {
    return !this._gone && this._proc.exitCode === null && this._proc.signalCode === null;
  }

  /** The end of its log, for error messages. */
  logTail(bytes = 2000): string {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text.slice(-bytes);
    } catch {
      return '';
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs = 10_000): Promise<DaemonExit> {
    this._stopping ??= (async () => {
      if (this.alive && this.pid > 0) {
        signalPid(this.pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (this.alive) signalPid(this.pid, 'SIGKILL');
        }, timeoutMs);
        await this.exited;
        clearTimeout(timer);
      }
      return this.exited;
    })();
    return this._stopping;
  }
}
