// One client connection of the unix-stream source: detects its framing, deframes its bytes into
// records for the source's shared LocalFlow, and reports when the flow is full. A bad frame costs
// this connection only. Never throws from socket callbacks.
//
//   first byte (after blank separators):  '1'..'9' → octet counting (RFC 6587 §3.4.1; a frame
//                                                    without a count is read up to LF, like rsyslog)
//                                          other   → non-transparent: a message ends at LF or NUL
//                                                    (RFC 6587 §3.4.2; glibc's syslog() ends each
//                                                    message with NUL on a stream socket)
//
// NUL as a trailer is done by turning NUL bytes into LF before the newline deframer sees them (we
// own the chunks Node hands us): in non-transparent mode no message can contain a NUL anyway.

import type { Socket } from 'node:net';
import { FRAME_FLAG, NewlineDeframer, type OversizePolicy, type RecordDeframer } from '../../codec/framing/newline.js';
import { OctetCountingDeframer } from '../../codec/framing/octet-counting.js';
import type { SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import type { LocalFlow } from '../unix-dgram/flow.js';
import { addMessage, type MessageStats } from '../unix-dgram/message.js';

export interface ConnDeps {
  readonly ctx: SourceContext;
  readonly flow: LocalFlow;
  readonly path: string;
  readonly maxMessageBytes: number;
  readonly oversize: OversizePolicy;
  readonly stats: MessageStats;
  /** The flow went over its bound: the source pauses every connection. */
  readonly onFull: () => void;
  readonly onClosed: (c: StreamConn) => void;
}

export type Framing = 'undecided' | 'octet-counting' | 'non-transparent';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;

export class StreamConn {
  readonly socket: Socket;
  /** Date.now() of the last bytes received. */
  lastActivity: number;
  private readonly _deps: ConnDeps;
  private readonly _add: (src: Buffer, start: number, end: number) => void;
  private _deframer: RecordDeframer | null;
  private _framing: Framing;
  private _closed: boolean;

  constructor(socket: Socket, deps: ConnDeps) {
    this.socket = socket;
    this.lastActivity = Date.now();
    this._deps = deps;
    this._add = (src, start, end) => deps.flow.add(src, start, end);
    this._deframer = null;
    this._framing = 'undecided';
    this._closed = false;
    socket.on('data', (chunk: Buffer) => this._onData(chunk));
    socket.on('end', () => this._onEnd());
    socket.on('error', () => undefined); // 'close' follows; a reset peer is not our error
    socket.once('close', () => {
      this._closed = true;
      this._deframer?.reset();
      deps.ctx.telemetry.emit('local_connection_closed', { path: deps.path, framing: this._framing });
      deps.onClosed(this);
    });
  }

  get framing(): Framing {
    return this._framing;
  }

  /** Close without reading further (stop, idle). */
  close(): void {
    if (!this._closed) this.socket.destroy();
  }

  private _onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    if (this._closed) return;
    if (this._deframer === null) {
      let i = 0;
      while (i < chunk.length && (chunk[i] === LF || chunk[i] === CR || chunk[i] === NUL || chunk[i] === SP)) i++;
      if (i === chunk.length) return; // only separators so far
      chunk = chunk.subarray(i);
      const d = this._deps;
      const opts = { maxMessageBytes: d.maxMessageBytes, oversize: d.oversize };
      if (chunk[0]! >= 0x31 && chunk[0]! <= 0x39) {
        this._framing = 'octet-counting';
        this._deframer = new OctetCountingDeframer(opts);
      } else {
        this._framing = 'non-transparent';
        this._deframer = new NewlineDeframer(opts);
      }
    }
    if (this._framing === 'non-transparent') {
      for (let i = chunk.indexOf(NUL); i !== -1; i = chunk.indexOf(NUL, i + 1)) chunk[i] = LF;
    }
    this._deframer.push(chunk);
    this._drain();
  }

  private _drain(): void {
    const d = this._deframer!;
    try {
      while (d.next()) this._record(d);
    } catch (err) {
      const code = err instanceof LogshipError ? err.code : 'LS_FRAME_INVALID';
      this._deps.ctx.telemetry.emit('local_peer_error', { path: this._deps.path, code, reason: (err as Error).message });
      this.socket.destroy();
      return;
    }
    if (this._deps.flow.full) this._deps.onFull();
  }

  private _onEnd(): void {
    const d = this._deframer;
    if (d === null || this._closed) return;
    this._drain();
    // The peer closed: an unterminated last message is complete.
    if (!this.socket.destroyed && d.finish()) this._record(d);
  }

  private _record(d: RecordDeframer): void {
    const deps = this._deps;
    if ((d.flags & FRAME_FLAG.OVERSIZE) !== 0) {
      deps.stats.truncated++;
      deps.ctx.telemetry.emit('local_message_truncated', { path: deps.path, max_message_bytes: deps.maxMessageBytes, oversize: deps.oversize });
    }
    addMessage(this._add, d.buf, d.start, d.end, deps.maxMessageBytes, deps.stats);
  }
}
