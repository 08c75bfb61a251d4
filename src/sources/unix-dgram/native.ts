// Typed wrapper over the native binding of unix-dgram@2.0.7 (Node has no AF_UNIX datagram
// sockets). Socket calls only: no parsing, no batching.
//
// We call the binding (build/Release/unix_dgram.node) directly instead of the package's JS shim
// (lib/unix_dgram.js) for two reasons:
//  - the shim's receive callback reads `buf.length` even when recvmsg() failed and `buf` is null:
//    a TypeError thrown inside a native callback is an uncaught exception, and would stop the
//    process (a bad peer must cost at most one message);
//  - the shim reports errors by emitting 'error' on an EventEmitter, which throws when nobody
//    listens; return values are simpler to own.
//
// Facts from the binding's source (src/unix_dgram.cc) that shape the callers:
//  - one recvmsg() per readiness event of a level-triggered uv_poll, into a 65536-byte buffer:
//    a longer datagram arrives cut to 65536 bytes, with no MSG_TRUNC report (RECV_LIMIT);
//  - the socket cannot be paused: it reads as long as it is open;
//  - paths are copied with strncpy into sun_path (108 bytes): a longer path would be cut
//    silently, so callers must check it (MAX_SOCKET_PATH_BYTES);
//  - every call returns 0 or -errno; `send` on a connected socket returns 1 on EAGAIN/ENOBUFS.
//  - The binding is loaded lazily, so configurations without a unix-dgram source never need it.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { requireAddon } from '../../util/addon.js';

/** Bytes the binding's recvmsg() reads at most per datagram. */
export const RECV_LIMIT = 65_536;
/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

type RecvCallback = (status: number, buf: Buffer | null, path: string | null) => void;

interface Binding {
  readonly AF_UNIX: number;
  readonly SOCK_DGRAM: number;
  socket(domain: number, type: number, protocol: number, recv: RecvCallback, writable: () => void): number;
  bind(fd: number, path: string): number;
  connect(fd: number, path: string): number;
  sendto(fd: number, buf: Buffer, offset: number, length: number, path: string): number;
  close(fd: number): number;
}

let binding: Binding | undefined;

function loadBinding(): Binding {
  if (binding !== undefined) return binding;
  const root = dirname(createRequire(import.meta.url).resolve('unix-dgram/package.json'));
  const b = requireAddon<Binding>(root, 'unix_dgram');
  if (b instanceof Error) throw new UnixDgramError('ENOBINDING', 'load', b);
  binding = b;
  return b;
}

/** A failed socket call: `code` is the errno name (ECONNREFUSED, EADDRINUSE…). */
export class UnixDgramError extends Error {
  readonly code: string;
  readonly syscall: string;
  constructor(code: string, syscall: string, cause?: unknown) {
    super(
      code === 'ENOBINDING'
        ? 'the unix-dgram native module is not built; run `npm rebuild unix-dgram` (it needs python3, make and g++)'
        : `${syscall} failed: ${code}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'UnixDgramError';
    this.code = code;
    this.syscall = syscall;
  }
}

function check(ret: number, syscall: string): void {
  if (ret < 0) throw new UnixDgramError(getSystemErrorName(ret), syscall);
}

export interface UnixDgramHandlers {
  /** One received datagram (a fresh Buffer the callee may keep). Must not throw. */
  readonly message: (buf: Buffer) => void;
  /** recvmsg() failed (the socket stays open). Must not throw. */
  readonly error: (code: string) => void;
}

/** One AF_UNIX SOCK_DGRAM socket (non-blocking, close-on-exec). Throws UnixDgramError. */
export class UnixDgramSocket {
  private readonly _b: Binding;
  private _fd: number;

  constructor(handlers?: UnixDgramHandlers) {
    this._b = loadBinding();
    const recv: RecvCallback = (status, buf) => {
      // Never throw from here: an exception in a native callback would end the process.
      try {
        if (status < 0 || buf === null) handlers?.error(getSystemErrorName(status < 0 ? status : -5));
        else handlers?.message(buf);
      } catch {
        // handlers are documented not to throw; a bug there must not stop the process
      }
    };
    const fd = this._b.socket(this._b.AF_UNIX, this._b.SOCK_DGRAM, 0, recv, () => undefined);
    check(fd, 'socket');
    this._fd = fd;
  }

  get closed(): boolean {
    return this._fd < 0;
  }

  bind(path: string): void {
    checkPathLength(path);
    check(this._b.bind(this._fd, path), 'bind');
  }

  connect(path: string): void {
    checkPathLength(path);
    check(this._b.connect(this._fd, path), 'connect');
  }

  /** Sends one datagram to `path`; throws UnixDgramError (EAGAIN when the receiver's queue is full). */
  sendTo(buf: Buffer, path: string): void {
    checkPathLength(path);
    check(this._b.sendto(this._fd, buf, 0, buf.length, path), 'sendto');
  }

  /** Closes the socket; no callback runs after this. Idempotent. */
  close(): void {
    if (this._fd < 0) return;
    const fd = this._fd;
    this._fd = -1;
    this._b.close(fd);
  }
}

function checkPathLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) throw new UnixDgramError('ENAMETOOLONG', 'path');
}

/**
 * Whether a process is receiving on the datagram socket at `path`: connect() succeeds on a live
 * socket and fails with ECONNREFUSED on a stale one (its owner is gone).
 */
export function isDgramSocketLive(path: string): boolean {
  const probe = new UnixDgramSocket();
  try {
    probe.connect(path);
    return true;
  } catch (err) {
    if (err instanceof UnixDgramError && err.code === 'ECONNREFUSED') return false;
    // Anything else (EACCES, EPROTOTYPE: a stream socket…) does not prove that it is stale.
    return true;
  } finally {
    probe.close();
  }
}
