// The syslog-udp source (RFC 5426): one message per datagram. Datagrams are batched per sender
// address (at most MAX_UDP_SENDERS flows, idle ones evicted). UDP cannot be paused: while the
// pipeline is more than max_buffered_bytes behind, datagrams are dropped and counted, so memory
// stays bounded.
//
//   datagrams ─► trim CR/LF/NUL ─► backlog > max_buffered_bytes? drop + count
//                                 └► flow of the sender's IP (RecordBatcher) ─► router
//                                 └► no flow and MAX_UDP_SENDERS flows: the overflow flow ─► router
//
// Datagrams are read by logship's native receiver (native.ts: recvmmsg, up to 32 per system call
// and one JavaScript call for them all, read from one slab) where it is built, else by node:dgram
// (one 'message' event and one Buffer per datagram: about 2.5 µs more per datagram).
//
// Past the cap, a new sender does not evict a busy one: with more senders than the cap taking
// turns, that made a flow, a stream, a buffer and a one-record batch per datagram. Its datagrams
// share one overflow flow (host OVERFLOW_HOST, for messages without a hostname of their own) until
// an idle flow frees a place.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { FRAME_FLAG } from '../../codec/framing/newline.js';
import { withDeadline } from '../../util/deadline.js';
import { ListenerBase } from '../common/listener-base.js';
import { Backlog, peerHost, SyslogFlow } from '../syslog-tcp/flow.js';
import { messageSettings, type SyslogMessageSettings } from '../syslog-tcp/options.js';
import { STOP_BOUND_MS } from '../syslog-tcp/server.js';
import { NativeUdpReceiver, udpBinding, type Binding } from './native.js';
import type { SyslogUdpOptions } from './options.js';

/** How datagrams are read: 'auto' is the native receiver where built, else node:dgram. */
export type UdpReceiverKind = 'auto' | 'native' | 'node';

/** Test seams: the receiver to use (both are tested), and the addon loader (a missing build). */
export interface SyslogUdpInternals {
  readonly receiver?: UdpReceiverKind;
  readonly binding?: () => Binding | Error;
}

/** Senders with a batcher of their own at once; a new one evicts the least recently heard. */
export const MAX_UDP_SENDERS = 256;
/** A sender silent for this long has its batcher flushed and dropped. */
export const UDP_SENDER_IDLE_MS = 30_000;
/** meta.host of the overflow flow: the host of its messages that carry no hostname. */
export const OVERFLOW_HOST = 'udp-overflow';

export class SyslogUdpSource extends ListenerBase implements Source {
  private readonly _opts: SyslogUdpOptions;
  private readonly _message: SyslogMessageSettings;
  private readonly _backlog: Backlog;
  private readonly _flows: Map<string, SyslogFlow>;
  /** Senders past MAX_UDP_SENDERS share this flow (created on first use, evicted when idle). */
  private _overflow: SyslogFlow | null;
  private readonly _flushing: Set<Promise<void>>;
  private _ctx: SourceContext | null;
  private _socket: Socket | null;
  private _native: NativeUdpReceiver | null;
  private readonly _receiver: UdpReceiverKind;
  private readonly _binding: () => Binding | Error;
  /** The flow _flowFor found last and the address it was for (most datagrams follow their sender's). */
  private _lastAddress: string | undefined;
  private _lastFlow: SyslogFlow | undefined;

  /** `internals` are test seams; the factory passes none. */
  constructor(opts: SyslogUdpOptions, internals: SyslogUdpInternals = {}) {
    super({ name: 'syslog-udp', source: 'syslog-udp source' });
    this._opts = opts;
    this._message = messageSettings(opts);
    this._backlog = new Backlog();
    this._flows = new Map();
    this._overflow = null;
    this._flushing = new Set();
    this._ctx = null;
    this._socket = null;
    this._native = null;
    this._receiver = internals.receiver ?? 'auto';
    this._binding = internals.binding ?? udpBinding;
    this._lastAddress = undefined;
    this._lastFlow = undefined;
  }

  /** Which receiver reads the socket (once started). */
  get receiverKind(): 'native' | 'node' | undefined {
    return this._native !== null ? 'native' : this._socket !== null ? 'node' : undefined;
  }

  /** Bytes received and not yet taken by the router. */
  get backlogBytes(): number {
    return this._backlog.bytes;
  }

  /** Senders that currently have a batcher of their own. */
  get senders(): number {
    return this._flows.size;
  }

  /** True while the overflow flow (senders past MAX_UDP_SENDERS) exists. */
  get overflowing(): boolean {
    return this._overflow !== null;
  }

  async start(ctx: SourceContext): Promise<void> {
    const { host, port } = this._listenAddress(this._opts.listen, 'udp');
    this._ctx = ctx;
    // The addon binds numeric addresses only: a host name (resolved) or a scoped IPv6 address
    // (fe80::1%eth0) is left to node:dgram.
    if (this._receiver === 'native' || (this._receiver === 'auto' && isIP(host) !== 0 && !host.includes('%'))) {
      const b = this._binding();
      if (b instanceof Error) {
        if (this._receiver === 'native') throw new LogshipError('LS_STARTUP', `syslog-udp: ${b.message}`, { cause: b });
        ctx.telemetry.emit('syslog_udp_fallback', { reason: b.message });
      } else {
        let r: NativeUdpReceiver;
        try {
          r = new NativeUdpReceiver(b, host, port, this._opts.receive_buffer_bytes, {
            datagrams: (rcv, count) => this._onDatagrams(rcv, count),
            // Receive errors (ICMP-driven, buffer) are transient: count them, keep serving.
            error: (code) => ctx.telemetry.emit('syslog_connection_error', { err: new Error(`recvmmsg failed: ${code}`) }),
          });
        } catch (err) {
          throw new LogshipError('LS_STARTUP', `cannot listen on udp:${host}:${port}: ${(err as Error).message}; free the port or change listen`, { cause: err });
        }
        this._native = r;
        this._running({ host, port: r.port }, () => this._evictIdle(), 1000);
        ctx.telemetry.emit('syslog_listening', { listen: `udp:${host}:${r.port}`, receiver: 'native' });
        return;
      }
    }
    const socket = createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      ...(this._opts.receive_buffer_bytes === undefined ? {} : { recvBufferSize: this._opts.receive_buffer_bytes }),
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new LogshipError('LS_STARTUP', `cannot listen on udp:${host}:${port}: ${err.message}; free the port or change listen`, { cause: err }));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.removeListener('error', onError);
        resolve();
      });
    });
    // Receive errors after bind (ICMP-driven, buffer) are transient: count them, keep serving.
    socket.on('error', (err) => ctx.telemetry.emit('syslog_connection_error', { err }));
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this._onMessage(msg, rinfo));
    this._socket = socket;
    const bound = socket.address();
    this._running({ host: bound.address, port: bound.port }, () => this._evictIdle(), 1000);
    ctx.telemetry.emit('syslog_listening', { listen: `udp:${bound.address}:${bound.port}`, receiver: 'node' });
  }

  /** Close the socket; push what was received, within STOP_BOUND_MS. */
  async stop(): Promise<void> {
    if (!this._stopping()) return;
    const socket = this._socket;
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this._socket = null;
    this._native?.close();
    this._native = null;
    for (const key of [...this._flows.keys()]) this._evict(key);
    this._evictOverflow();
    await withDeadline(Promise.all([...this._flushing]).then(() => undefined), Date.now() + STOP_BOUND_MS);
  }

  private _onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this._state !== 'running') return;
    this._take(msg, 0, msg.length, rinfo.address, Date.now());
  }

  /** A round of the native receiver: `count` datagrams in its slab (copied out before returning). */
  private _onDatagrams(r: NativeUdpReceiver, count: number): void {
    if (this._state !== 'running') return;
    const slab = r.slab;
    const size = r.slotBytes;
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const start = i * size;
      this._take(slab, start, start + r.length(i), r.address(i), now);
    }
  }

  /** One datagram: bytes [start, end) of buf, from `address`, received at `now`. Copies what it keeps. */
  private _take(buf: Buffer, start: number, end: number, address: string, now: number): void {
    while (end > start) {
      const c = buf[end - 1];
      if (c !== 0x0a && c !== 0x0d && c !== 0x00) break;
      end--;
    }
    const n = end - start;
    if (n === 0) return;
    const max = this._message.maxMessageBytes;
    const cost = (this._message.oversize === 'truncate' ? Math.min(n, max) : n) + 1;
    if (this._backlog.bytes + cost > this._opts.max_buffered_bytes) {
      this._ctx!.telemetry.emit('syslog_udp_dropped', { remote: address, backlog_bytes: this._backlog.bytes, max_buffered_bytes: this._opts.max_buffered_bytes });
      return;
    }
    const flow = this._flowFor(address);
    if (n <= max) {
      flow.add(buf, start, end, 0, false, now);
    } else if (this._message.oversize === 'truncate') {
      flow.add(buf, start, start + max, FRAME_FLAG.OVERSIZE | FRAME_FLAG.TRUNCATED, false, now);
    } else {
      for (let s = start; s < end; s += max) flow.add(buf, s, Math.min(s + max, end), (s === start ? FRAME_FLAG.OVERSIZE : 0) | FRAME_FLAG.SPLIT, false, now);
    }
  }

  private _flowFor(address: string): SyslogFlow {
    if (address === this._lastAddress) return this._lastFlow!;
    const host = peerHost(address);
    let flow = this._flows.get(host);
    if (flow !== undefined) return this._remember(address, flow);
    if (this._flows.size >= MAX_UDP_SENDERS) {
      this._ctx!.telemetry.emit('syslog_udp_overflow', { remote: host, max_senders: MAX_UDP_SENDERS }, 1);
      this._overflow ??= this._newFlow(OVERFLOW_HOST);
      return this._overflow;
    }
    flow = this._newFlow(host);
    this._flows.set(host, flow);
    return this._remember(address, flow);
  }

  /** A sender's own flow (never the overflow one: each of its datagrams is counted). */
  private _remember(address: string, flow: SyslogFlow): SyslogFlow {
    this._lastAddress = address;
    this._lastFlow = flow;
    return flow;
  }

  private _newFlow(host: string): SyslogFlow {
    const m = this._message;
    return new SyslogFlow(this._ctx!, { host, program: m.program, facility: m.facility, severity: m.severity, format: 'syslog' }, host, this._backlog);
  }

  private _closeFlow(flow: SyslogFlow): void {
    if (flow === this._lastFlow) {
      this._lastAddress = undefined;
      this._lastFlow = undefined;
    }
    const flushed = flow.close();
    this._flushing.add(flushed);
    void flushed.finally(() => this._flushing.delete(flushed));
  }

  private _evictOverflow(): void {
    const o = this._overflow;
    if (o === null) return;
    this._overflow = null;
    this._closeFlow(o);
  }

  private _evict(key: string): void {
    const flow = this._flows.get(key);
    if (flow === undefined) return;
    this._flows.delete(key);
    this._closeFlow(flow);
  }

  private _evictIdle(): void {
    const now = Date.now();
    for (const [k, f] of this._flows) {
      if (now - f.lastAddAt >= UDP_SENDER_IDLE_MS && f.backlogBytes === 0) this._evict(k);
    }
    const o = this._overflow;
    if (o !== null && now - o.lastAddAt >= UDP_SENDER_IDLE_MS && o.backlogBytes === 0) this._evictOverflow();
  }
}
