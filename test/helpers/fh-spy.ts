// Watches a method of node:fs/promises FileHandle for the rest of one test: each call is passed,
// with the path its descriptor names (/proc/self/fd), to `around`, which runs it (or delays it,
// or fails it instead). For observing which fs calls a component makes (an fdatasync, a write's
// order) and injecting a failure into one file's write; restored after the test.
import { readlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { TestContext } from 'node:test';

const SPIED = Symbol('spied');

export type FileHandleMethod = 'write' | 'writev' | 'datasync' | 'truncate';

/** The path a descriptor of this process names ('' once closed). */
export function pathOfFd(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

export async function spyFileHandle(t: TestContext, method: FileHandleMethod, around: (path: string, call: () => Promise<unknown>) => Promise<unknown>): Promise<void> {
  const probe = await open('/dev/null', 'r');
  const proto = Object.getPrototypeOf(probe) as Record<FileHandleMethod, (this: FileHandle, ...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  const original = proto[method];
  // Restored after the test in the order hooks run (first added, first run): one spy at a time.
  if (SPIED in original) throw new Error(`FileHandle.${method} is already spied on`);
  proto[method] = function (this: FileHandle, ...args: unknown[]): Promise<unknown> {
    return around(pathOfFd(this.fd), () => original.apply(this, args));
  };
  Object.defineProperty(proto[method], SPIED, { value: true });
  t.after(() => {
    proto[method] = original;
  });
}

/** Records the paths `method` is called on, in order (the calls run unchanged). */
export async function recordCalls(t: TestContext, method: FileHandleMethod): Promise<string[]> {
  const calls: string[] = [];
  await spyFileHandle(t, method, (path, call) => {
    calls.push(path);
    return call();
  });
  return calls;
}
