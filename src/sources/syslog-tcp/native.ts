// Typed wrapper over logship's own TCP reader (native/tcp_read.c, built by `npm run build:native`):
// an accepted plain-TCP syslog connection read on Node's loop straight into the buffer of the batch
// being built, records cut in C (at LF, or by octet counts when the first byte is a digit), one
// JavaScript call per batch. Where it is not built (not Linux, no compiler), tcpBinding() says why
// and connections are read through node:net.
// Decision: docs/decisions/0008-tcp-reader.md.
//
//   socket (node:net, paused, never read) ── fd ──► dup ──► reader ──► batch(data, whole, ends)
//   the reader owns its duplicate of the fd; the socket stays the connection's owner (close, stop)

import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { countNotEnded, countTooLarge, defaultMaxFrameBytes } from '../../codec/framing/octet-counting.js';
import type { LogshipError } from '../../core/errors.js';
import { guarded, ownAddon } from '../../util/addon.js';
import type { ReadBuffers } from '../common/buffers.js';

export interface Binding {
  attach(
    fd: number,
    maxMessageBytes: number,
    truncate: boolean,
    batchBytes: number,
    delayMs: number,
    maxFrameBytes: number,
    ends: Uint32Array,
    onEvent: (status: number, bytes: number, records: number, truncated: number, split: number, want: number) => Buffer | undefined,
  ): object;
  pause(handle: object, on: boolean): void;
  finish(handle: object): void;
  pending(handle: object): number;
  lastRead(handle: object): number;
  close(handle: object): void;
}

const ST_BATCH = 0;
const ST_NEED = 1;
const ST_EOF = 2;
const ST_OCTET = 3;
const ST_FRAMING = 4;
/** FRAMING's `records` when the octet count passed maxFrameBytes (else the byte after the count). */
const COUNT_TOO_LARGE = 256;

/** The most records of one batch (as the record batcher's MAX_RECORDS). */
const MAX_RECORDS = 65536;
/** Every reader's record ends are copied here for the length of one call (the loop has one thread). */
const SHARED_ENDS = new Uint32Array(MAX_RECORDS);

/** The binding, or the error that says why it cannot be loaded. Loaded once. */
export const tcpBinding = ownAddon<Binding>('logship_tcp', 'native TCP reader');

/**
 * Whether buffers of `bufferBytes` can hold a message of `maxMessageBytes` with the reader's spare
 * bytes (native/tcp_read.c, hold_buffer); a larger maximum is read through node:net.
 */
export function fitsReader(maxMessageBytes: number, bufferBytes: number): boolean {
  return bufferBytes >= maxMessageBytes + 4 + Math.floor(bufferBytes / maxMessageBytes);
}

/**
 * The file descriptor of a node:net socket, or undefined. Node keeps it on the socket's internal
 * handle (`_handle.fd`); a socket without one (TLS, Windows, a Node that moved it) is read by node:net.
 */
export function socketFd(socket: Socket): number | undefined {
  const handle: unknown = (socket as unknown as { _handle?: unknown })._handle;
  if (typeof handle !== 'object' || handle === null) return undefined;
  const fd: unknown = (handle as { fd?: unknown }).fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

export interface TcpReaderHandlers {
  /**
   * A batch: `data` holds records, each ended by LF (none holds another), `ends` their end offsets
   * (the caller's copy); `whole` is the buffer behind `data`, now the caller's (a pooled one, or for
   * a small batch a copy of its own size).
   */
  readonly batch: (data: Buffer, whole: Buffer, ends: Uint32Array) => void;
  /** Messages longer than the maximum cut since the last call: `truncated` kept their first piece, `split` became pieces. */
  readonly oversize: (truncated: number, split: number) => void;
  /** The peer closed its side; everything it sent was delivered. */
  readonly eof: () => void;
  /** The first byte is a digit: the connection uses octet counting (before its first batch). */
  readonly octet: () => void;
  /** The octet framing broke; what was whole was delivered. The reader stopped. */
  readonly framing: (err: LogshipError) => void;
  /** A read failed (errno name); what was received was delivered. */
  readonly error: (code: string) => void;
}

export interface TcpReaderOptions {
  readonly maxMessageBytes: number;
  readonly oversize: 'truncate' | 'split';
  readonly batchBytes: number;
  readonly delayMs: number;
}

export class NativeTcpReader {
  private readonly _b: Binding;
  private readonly _handle: object;
  private _closed: boolean;

  /** Starts reading a duplicate of `fd`; throws an Error with the errno name as `code`. */
  constructor(b: Binding, fd: number, opts: TcpReaderOptions, pool: ReadBuffers, handlers: TcpReaderHandlers) {
    this._b = b;
    this._closed = false;
    let current: Buffer | undefined;
    // Handlers run guarded: the reader always gets its answer (a buffer when it wants one).
    const maxFrameBytes = defaultMaxFrameBytes(opts.maxMessageBytes);
    const onEvent = (status: number, bytes: number, records: number, truncated: number, split: number, want: number): Buffer | undefined => {
      if (truncated + split > 0) guarded(() => handlers.oversize(truncated, split));
      if (status === ST_BATCH) {
        const whole = current!;
        // A small batch (cut by the delay: a slow sender) is copied out, and the reader keeps its
        // buffer: a few lines would otherwise hold a whole batch buffer each until they settle.
        const small = bytes * 2 < whole.length;
        const data = small ? Buffer.from(whole.subarray(0, bytes)) : whole.subarray(0, bytes);
        guarded(() => handlers.batch(data, small ? data : whole, SHARED_ENDS.slice(0, records)));
        if (small && want === 0) pool.give(whole);
        if (small && want !== 0) return whole; // what follows the batch moves to its start
        current = want !== 0 ? pool.take(pool.size) : undefined;
        return current;
      }
      if (status === ST_NEED) {
        current = pool.take(pool.size);
        return current;
      }
      if (status === ST_EOF) guarded(handlers.eof);
      else if (status === ST_OCTET) guarded(handlers.octet);
      else if (status === ST_FRAMING) guarded(() => handlers.framing(records === COUNT_TOO_LARGE ? countTooLarge(maxFrameBytes) : countNotEnded(bytes, records)));
      else if (status < 0) guarded(() => handlers.error(getSystemErrorName(status)));
      return undefined;
    };
    this._handle = b.attach(fd, opts.maxMessageBytes, opts.oversize === 'truncate', opts.batchBytes, opts.delayMs, maxFrameBytes, SHARED_ENDS, onEvent);
  }

  /** Bytes received and not yet handed over in a batch. */
  get pending(): number {
    return this._closed ? 0 : this._b.pending(this._handle);
  }

  /** When bytes last arrived (or reading resumed), ms since the epoch. */
  get lastReadMs(): number {
    return this._closed ? 0 : this._b.lastRead(this._handle);
  }

  /** Stop (true) or resume (false) reading: backpressure. */
  pause(on: boolean): void {
    if (!this._closed) this._b.pause(this._handle, on);
  }

  /** Deliver now what was received, the unterminated last message as a record, and stop reading. */
  finish(): void {
    if (!this._closed) this._b.finish(this._handle);
  }

  /** Stop and close the duplicate fd (the socket itself is the caller's). Idempotent. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._b.close(this._handle);
  }
}
