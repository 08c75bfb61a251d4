// The UDP side of the syslog destination (RFC 5426): one datagram per record, batches sent one
// after the other in write() order on one connected UDP socket (the name is resolved when it is
// (re)created). Owns the socket loop, the queue of batches not yet sent and one encoder.
//
//   write(batch) ─► _writes ─► _pump(): encode; send every datagram; all callbacks ok ─► delivered
//                                                          send error / ICMP refusal ─► retryable,
//                                                          new socket after backoff
//
// Delivery: a batch is `delivered` once each of its datagrams was handed to the kernel. UDP has
// no acknowledgement: a datagram lost on the way, or refused by a closed port, is gone. A refusal
// arrives later, as an ICMP error on the socket; it fails the batch being sent at that moment
// (retried whole) and the socket is replaced after a backoff, which slows a sender whose receiver
// is down, but batches sent before the refusal arrived stay lost. Messages longer than
// max_message_bytes are cut and counted. The queue of batches and their outcomes is write-queue.ts.

import { lookup } from 'node:dns/promises';
import { createSocket, type Socket } from 'node:dgram';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { retryable, type Outcome } from '../../core/outcome.js';
import { sleepUnlessAborted, upstream, UpstreamRotation } from '../../transport/upstream.js';
import { SyslogEncoder, type Datagrams } from './encode.js';
import { parseTarget, type SyslogDestinationOptions, type SyslogTarget } from './options.js';
import { formatFailed, settle, settleDelivered, shutdownError, WriteQueue, type WriteEntry } from './write-queue.js';

type State = 'new' | 'running' | 'closed';

export class DatagramSender implements Destination {
  readonly maxInFlight: number;
  private readonly _opts: SyslogDestinationOptions;
  private readonly _target: SyslogTarget;
  private readonly _label: string;
  private readonly _encoder: SyslogEncoder;
  private readonly _rotation: UpstreamRotation;
  private readonly _abort: AbortController;
  private readonly _writes: WriteQueue;
  private _state: State;
  private _ctx: ComponentContext | null;
  private _socket: Socket | null;
  /** The batch whose datagrams are being sent, if any. */
  private _sending: WriteEntry | null;
  /** Set when the socket failed: the loop replaces it. */
  private _broken: ((err: Error) => void) | null;
  private _loop: Promise<void> | null;

  constructor(opts: SyslogDestinationOptions) {
    const t = parseTarget(opts.target);
    if (!t.ok || t.value.transport !== 'udp') throw new LogshipError('LS_CONFIG_INVALID', `syslog destination: target ${t.ok ? opts.target : t.error} is not udp:`);
    this._opts = opts;
    this._target = t.value;
    this._label = opts.target;
    this.maxInFlight = opts.max_in_flight;
    this._encoder = new SyslogEncoder(opts.format);
    this._rotation = new UpstreamRotation([upstream(t.value.host, t.value.port)], { backoffMinMs: opts.backoff_min_ms, backoffMaxMs: opts.backoff_max_ms });
    this._abort = new AbortController();
    this._writes = new WriteQueue();
    this._state = 'new';
    this._ctx = null;
    this._socket = null;
    this._sending = null;
    this._broken = null;
    this._loop = null;
  }

  get connected(): boolean {
    return this._socket !== null;
  }

  get pending(): number {
    return this._writes.pending;
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'syslog destination started twice');
    this._ctx = ctx;
    this._state = 'running';
    this._loop = this._run();
  }

  write(batch: Batch): Promise<Outcome> {
    if (this._state !== 'running') return Promise.resolve(retryable(shutdownError()));
    const p = this._writes.add(batch);
    this._pump();
    return p;
  }

  flush(): Promise<void> {
    return this._writes.flush();
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this._abort.abort();
    this._writes.shutdown();
    this._broken?.(shutdownError());
    await this._loop;
  }

  /** Sends the next queued batch unless one is being sent or there is no socket. */
  private _pump(): void {
    const socket = this._socket;
    if (socket === null || this._sending !== null) return;
    const entry = this._writes.take();
    if (entry === undefined) return;
    let d: Datagrams;
    try {
      d = this._encoder.encodeDatagrams(entry.batch, this._opts.max_message_bytes);
    } catch (err) {
      settle(entry, formatFailed(err));
      this._pump();
      return;
    }
    if (d.truncated > 0) this._ctx?.telemetry.emit('syslog_dest_truncated', { max_message_bytes: this._opts.max_message_bytes }, d.truncated);
    this._sending = entry;
    const n = d.starts.length;
    let left = n;
    let bytes = 0;
    let failed: Error | null = null;
    const onSent = (err: Error | null): void => {
      if (err !== null) failed ??= err;
      if (--left > 0) return;
      // Settled already (the socket failed meanwhile): nothing more to do for this batch.
      if (this._sending !== entry) return;
      this._sending = null;
      if (failed !== null) this._fail(failed, entry);
      else if (!entry.done) settleDelivered(entry, this._ctx?.telemetry, n, bytes);
      this._pump();
    };
    if (n === 0) {
      left = 1;
      onSent(null);
      return;
    }
    for (let i = 0; i < n; i++) {
      const len = d.ends[i]! - d.starts[i]!;
      bytes += len;
      try {
        socket.send(d.data, d.starts[i]!, len, (err) => onSent(err ?? null));
      } catch (err) {
        // send() throws synchronously on a closed socket or bad arguments.
        onSent(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /**
   * The socket failed (a send error, or an ICMP refusal reported on the socket): the batch being
   * sent (or `failed`, whose sends just completed) is retried whole; the socket is replaced.
   */
  private _fail(err: Error, failed: WriteEntry | null = null): void {
    const e = new LogshipError('LS_SYSLOG_SEND', `syslog destination: sending to ${this._label} failed: ${err.message}`, { cause: err });
    const sending = failed ?? this._sending;
    this._sending = null;
    if (sending !== null) settle(sending, retryable(e));
    // No more sends on this socket; the loop closes it and opens another after a backoff.
    this._socket = null;
    this._broken?.(e);
  }

  /** The socket loop: resolve + connect → send until broken → back off → again. Never rejects. */
  private async _run(): Promise<void> {
    const ctx = this._ctx!;
    const signal = this._abort.signal;
    while (this._state === 'running') {
      let socket: Socket;
      try {
        socket = await this._open(signal);
      } catch (err) {
        if (this._state !== 'running') break;
        ctx.telemetry.emit('syslog_dest_connect_failed', { target: this._label, err });
        await sleepUnlessAborted(this._rotation.failed(), signal);
        continue;
      }
      if (this._state !== 'running') {
        // close() came while connecting: nothing would wake the wait below.
        closeQuietly(socket);
        break;
      }
      this._rotation.connected(Date.now());
      ctx.telemetry.emit('syslog_dest_connected', { target: this._label, queued: this._writes.queued });
      const reason = await new Promise<Error>((resolve) => {
        this._broken = resolve;
        socket.on('error', (err) => this._fail(err));
        this._socket = socket;
        this._pump();
      });
      this._broken = null;
      this._socket = null;
      // A batch still being sent on the old socket is retried (its late callbacks are ignored).
      const sending = this._sending;
      this._sending = null;
      if (sending !== null) settle(sending, retryable(reason));
      closeQuietly(socket);
      if (this._state !== 'running') break;
      ctx.telemetry.emit('syslog_dest_send_failed', { target: this._label, err: reason, queued: this._writes.queued });
      await sleepUnlessAborted(this._rotation.lost(Date.now()), signal);
    }
  }

  /** A UDP socket of the target's address family, connected to it (the name resolved now). */
  private async _open(signal: AbortSignal): Promise<Socket> {
    const { address, family } = await lookup(this._target.host);
    if (signal.aborted) throw shutdownError();
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    return new Promise<Socket>((resolve, reject) => {
      const onError = (err: Error): void => {
        closeQuietly(socket);
        reject(new LogshipError('LS_SYSLOG_SEND', `cannot open a UDP socket to ${this._label}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.connect(this._target.port, address, () => {
        socket.removeListener('error', onError);
        resolve(socket);
      });
    });
  }
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
