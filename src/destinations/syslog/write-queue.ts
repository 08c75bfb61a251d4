// The write side both syslog senders share (stream.ts for TCP/TLS, datagram.ts for UDP): the
// batches accepted by write() and not yet taken by the socket loop, in write() order, and the
// promise of each one's Outcome, which is settled exactly once. No sockets here.
//
//   write(batch) ─► add() ─► entries ─► take() ─► the sender encodes and sends ─► settle(entry, outcome)
//                     └─► Promise<Outcome>, counted in `pending` until it resolves      (or at close:
//                                                                 shutdown() ─► retryable(LS_SHUTDOWN))

import type { Batch } from '../../core/batch.js';
import type { Telemetry } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { DELIVERED, rejected, retryable, type Outcome } from '../../core/outcome.js';

/** One accepted batch; `done` once its outcome is settled (later outcomes are ignored). */
export interface WriteEntry {
  readonly batch: Batch;
  readonly resolve: (o: Outcome) => void;
  done: boolean;
}

export class WriteQueue {
  /** Accepted, not yet taken by the sender. */
  private _entries: WriteEntry[];
  /** The promise of every write() not yet answered. */
  private readonly _outstanding: Set<Promise<Outcome>>;

  constructor() {
    this._entries = [];
    this._outstanding = new Set();
  }

  /** Batches queued and not yet taken. */
  get queued(): number {
    return this._entries.length;
  }

  /** Batches accepted and not yet answered (queued, or taken and not settled). */
  get pending(): number {
    return this._outstanding.size;
  }

  /** Queues `batch`; the promise resolves with its outcome and never rejects. */
  add(batch: Batch): Promise<Outcome> {
    let resolve!: (o: Outcome) => void;
    const p = new Promise<Outcome>((r) => {
      resolve = r;
    });
    this._outstanding.add(p);
    void p.then(() => this._outstanding.delete(p));
    this._entries.push({ batch, resolve, done: false });
    return p;
  }

  /** The oldest queued batch not settled yet, out of the queue; undefined when there is none. */
  take(): WriteEntry | undefined {
    let e: WriteEntry | undefined;
    while ((e = this._entries.shift()) !== undefined && e.done);
    return e;
  }

  /** Resolves when every batch added so far is answered. */
  async flush(): Promise<void> {
    await Promise.all([...this._outstanding]);
  }

  /** At close: every batch still queued resolves retryable(LS_SHUTDOWN) (its source keeps it). */
  shutdown(): void {
    const queued = this._entries;
    this._entries = [];
    for (const e of queued) settle(e, retryable(shutdownError()));
  }
}

/** Settles `e` with `o` unless it is settled already. */
export function settle(e: WriteEntry, o: Outcome): void {
  if (e.done) return;
  e.done = true;
  e.resolve(o);
}

/** Counts the batch's messages and bytes as sent and settles it delivered. */
export function settleDelivered(e: WriteEntry, telemetry: Telemetry | undefined, messages: number, bytes: number): void {
  telemetry?.emit('syslog_dest_messages', {}, messages);
  telemetry?.emit('syslog_dest_bytes', {}, bytes);
  settle(e, DELIVERED);
}

/** The outcome of a batch the encoder failed on: a formatter bug would fail every resend the same way, so it is reported lost. */
export function formatFailed(err: unknown): Outcome {
  return rejected(new LogshipError('LS_INTERNAL', 'syslog destination: a batch could not be formatted', { cause: err }));
}

export function shutdownError(): LogshipError {
  return new LogshipError('LS_SHUTDOWN', 'syslog destination is shutting down; the batch will be sent again after restart');
}
