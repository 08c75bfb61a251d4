// Named pipe (FIFO) plumbing of the pipe source: check or create the FIFO, and open it for reading
// without ever seeing end-of-file. No parsing here.
//
// Creating: Node has no mkfifo(), so we run coreutils' `mkfifo -m MODE -- PATH` once at start
// (execFile, no shell). A native addon only for that was not worth it, and coreutils is on every
// machine logship targets.
//
// Reading: the FIFO is opened O_RDWR | O_NONBLOCK and wrapped in a net.Socket (libuv treats it as
// a pipe stream, epoll-driven). Holding a write end ourselves means the read side never reaches
// EOF when the last writer closes, so writers may open, write and close at will, and nothing
// busy-loops on a writer-less FIFO (opening O_RDONLY would see EOF at once and again after every
// writer). Linux defines O_RDWR on a FIFO (fifo(7)); POSIX leaves it open, Linux is our target.

import { execFile } from 'node:child_process';
import { closeSync, constants, fstatSync, open as openCb } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { LogshipError } from '../../core/errors.js';
import { describeKind, type KeyRef } from '../unix-dgram/local-path.js';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** 'exists' when a FIFO is already at `path`; 'missing' when nothing is. Refuses anything else. */
export async function checkFifo(path: string, ref: KeyRef): Promise<'exists' | 'missing'> {
  try {
    const st = await lstat(path);
    if (st.isFIFO()) return 'exists';
    throw new LogshipError(
      'LS_STARTUP',
      `${ref.who}: ${ref.key} ${path} exists and is ${describeKind(st)}, not a named pipe; remove it or set \`${ref.key}\` to another path.`,
    );
  } catch (err) {
    if (err instanceof LogshipError) throw err;
    if (errno(err) === 'ENOENT') return 'missing';
    throw new LogshipError('LS_STARTUP', `${ref.who}: cannot check ${ref.key} ${path}: ${errno(err) ?? String(err)}`, { cause: err });
  }
}

/** Creates the FIFO with `mkfifo -m MODE -- PATH`. */
export function makeFifo(path: string, mode: string, ref: KeyRef): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', ['-m', mode, '--', path], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve();
        return;
      }
      const why = errno(err) === 'ENOENT' ? 'the mkfifo program (coreutils) was not found' : stderr.trim() || err.message;
      reject(new LogshipError('LS_STARTUP', `${ref.who}: cannot create the named pipe ${path} (${ref.key}): ${why}`, { cause: err }));
    });
  });
}

/** Opens the FIFO for reading (never EOF: see the header) as a stream that can pause. */
export function openFifo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // libuv adds O_CLOEXEC itself.
    openCb(path, constants.O_RDWR | constants.O_NONBLOCK, (err, fd) => {
      if (err !== null) {
        reject(err);
        return;
      }
      try {
        // The path may have been replaced since checkFifo(): never wrap anything else.
        if (!fstatSync(fd).isFIFO()) throw Object.assign(new Error(`${path} is no longer a named pipe`), { code: 'ENOTFIFO' });
        resolve(new Socket({ fd, readable: true, writable: false }));
      } catch (e) {
        closeSync(fd);
        reject(e as Error);
      }
    });
  });
}
