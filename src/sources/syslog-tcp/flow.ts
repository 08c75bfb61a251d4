// Hand-off of received syslog messages to the router, shared by syslog-udp, syslog-tcp and
// syslog-tls: one RecordBatcher per connection (TCP/TLS) or per sender address (UDP), with the
// backlog (bytes received but not yet taken by the router) counted so that the caller can pause
// its socket (TCP) or drop and count (UDP) above a bound. No sockets here.
//
//   add() ──► RecordBatcher ──► batch ──► push chain ──► ctx.push (router) resolves
//   backlog += n + 1                                       backlog -= batch bytes
//
// The backlog is released when a push resolves, not when a batch is cut: the batcher's timer also
// cuts batches (every maxDelayMs) that nobody awaits, and a slow router would otherwise let an
// unbounded chain of small timer batches pile up.
//
// Each record of a Batch is one line (the file destination relies on it), but an octet-counted
// frame or a datagram may hold LF bytes: inner LFs become spaces before the batch is pushed (one
// memchr pass per batch; the length does not change). syslog-ng's `no-multi-line` does the same.
// An LF-framed connection's records cannot hold one: its flow skips that pass (noInnerNewlines).
//
// Each batch is parsed (codec/syslog) before it is pushed: batch.fields is then ready for filters,
// templates and the syslog destination, and messages that are not syslog are counted.
//
// Sockets cannot be re-read and syslog has no acks: a batch is pushed and not waited for
// (batch.settled is not observed). A disk spool comes later (DESIGN.md "Delivery").

import type { Batch, BatchMeta } from '../../core/batch.js';
import type { SourceContext } from '../../core/component.js';
import { FRAME_FLAG, type RecordDeframer } from '../../codec/framing/newline.js';
import { countMalformed, recordFields } from '../../codec/syslog/parse.js';
import { countedContext } from '../common/counted-context.js';
import type { ReadBuffers } from '../common/buffers.js';
import { RecordBatcher } from '../common/record-batcher.js';

/** A batch is cut at this size… */
export const SYSLOG_BATCH_BYTES = 256 * 1024;
/** …or when its first record has waited this long (low latency for interactive senders). */
export const SYSLOG_BATCH_DELAY_MS = 10;

/** Bytes received and not yet taken by the router: shared by the flows of one UDP source. */
export class Backlog {
  bytes: number;
  constructor() {
    this.bytes = 0;
  }
}

export class SyslogFlow {
  /** Peer's address, for telemetry fields. */
  readonly remote: string;
  /** Last time a record was added (ms since epoch), for idle eviction of UDP senders. */
  lastAddAt: number;
  private readonly _ctx: SourceContext;
  private readonly _batcher: RecordBatcher;
  private readonly _backlog: Backlog;
  private _own: number;
  /** Set when no record can hold an LF (LF-framed stream): batches skip flattenInnerNewlines. */
  private _lfFree: boolean;

  constructor(ctx: SourceContext, meta: Omit<BatchMeta, 'timeMs'>, remote: string, backlog: Backlog = new Backlog()) {
    this.remote = remote;
    this.lastAddAt = Date.now();
    this._ctx = ctx;
    this._backlog = backlog;
    this._own = 0;
    this._lfFree = false;
    // The batcher pushes through this context (common/counted-context.ts: its push never rejects).
    const counted = countedContext(ctx, {
      before: (b) => {
        if (!this._lfFree) flattenInnerNewlines(b);
        // Parsed once here (filters, templates and the syslog destination read the cache), which
        // also counts the messages that are not syslog.
        const malformed = countMalformed(recordFields(b));
        if (malformed > 0) ctx.telemetry.emit('syslog_malformed', { remote }, malformed);
      },
      failed: (err, b) => ctx.telemetry.emit('syslog_push_failed', { err, remote, records: b.count }),
      after: (b) => {
        this._own -= b.data.length;
        this._backlog.bytes -= b.data.length;
      },
    });
    this._batcher = new RecordBatcher(counted, { meta, maxBatchBytes: SYSLOG_BATCH_BYTES, maxDelayMs: SYSLOG_BATCH_DELAY_MS });
  }

  /**
   * A whole batch read elsewhere (the native TCP reader): `data`, a view of the pooled buffer
   * `whole`, holds records each ended by LF (none holds one), `ends` their end offsets.
   */
  addBatch(data: Buffer, whole: Buffer, ends: Uint32Array): void {
    this.lastAddAt = Date.now();
    this._own += data.length;
    this._backlog.bytes += data.length;
    void this._batcher.pushBatch(data, whole, ends);
  }

  /** The pool this flow's batch buffers come from. */
  get buffers(): ReadBuffers {
    return this._batcher.buffers;
  }

  /** From now on every record added is LF-free (the stream is LF-framed): no batch needs flattening. */
  noInnerNewlines(): void {
    this._lfFree = true;
  }

  /** Bytes this flow received and the router has not taken yet. */
  get backlogBytes(): number {
    return this._own;
  }

  /**
   * Add one record: bytes [start, end) of buf (terminator already removed), with the FRAME_FLAG
   * bits the deframer set (oversize messages are counted here, once each). `stable`: buf is never
   * written again (a received chunk), so the record need not be copied before its batch is cut.
   * `now`: the clock, when the caller adds many records at once and reads it once for them.
   */
  add(buf: Buffer, start: number, end: number, flags: number, stable = false, now = Date.now()): void {
    this.lastAddAt = now;
    this._take(buf, start, end, flags, stable);
  }

  /**
   * Add every whole record the deframer has, as add() does, until this flow's backlog reaches
   * `bound`: then returns true (the caller pauses its input), else false (all taken). One clock
   * read for the lot. The deframer throws as its next() does (broken framing).
   */
  addFrom(d: RecordDeframer, bound: number): boolean {
    this.lastAddAt = Date.now();
    while (d.next()) {
      this._take(d.buf, d.start, d.end, d.flags, d.stable);
      if (this._own >= bound) return true;
    }
    return false;
  }

  private _take(buf: Buffer, start: number, end: number, flags: number, stable: boolean): void {
    if ((flags & FRAME_FLAG.OVERSIZE) !== 0) {
      this._ctx.telemetry.emit((flags & FRAME_FLAG.TRUNCATED) !== 0 ? 'syslog_message_truncated' : 'syslog_message_split', { remote: this.remote });
    }
    const n = end - start + 1;
    this._own += n;
    this._backlog.bytes += n;
    // The returned promise (a full batch being pushed) is observed through backlogBytes/flush().
    void this._batcher.add(buf, start, end, stable);
  }

  /** Push what waits; resolves once the router has taken everything added so far. Never rejects. */
  flush(): Promise<void> {
    return this._batcher.flush();
  }

  /** Same as flush(): the batcher holds no timer once flushed. */
  close(): Promise<void> {
    return this._batcher.close();
  }
}

/**
 * Every record of a Batch is one line: LF bytes inside a record become spaces. One pass over the
 * batch with indexOf; an LF is a terminator when it is the last byte of a record.
 */
export function flattenInnerNewlines(b: Batch): number {
  const d = b.data;
  const ends = b.ends;
  let k = 0;
  let n = 0;
  for (let i = d.indexOf(0x0a); i !== -1; i = d.indexOf(0x0a, i + 1)) {
    while (k < ends.length && ends[k]! - 1 < i) k++;
    if (k < ends.length && ends[k]! - 1 === i) continue;
    d[i] = 0x20;
    n++;
  }
  return n;
}

/** "::ffff:10.0.0.1" → "10.0.0.1": an IPv4 peer of a dual-stack socket is named by its IPv4 address. */
export function peerHost(address: string | undefined): string {
  if (address === undefined || address.length === 0) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
