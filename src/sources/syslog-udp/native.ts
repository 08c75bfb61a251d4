// Typed wrapper over logship's own UDP receiver (native/udp_recv.c, built by `npm run
// build:native`): a bound UDP socket read with recvmmsg(2), up to SLOTS datagrams per system call
// and one JavaScript call per round, into one slab the caller reads synchronously. Socket calls
// only: no parsing, no batching. Where it is not built (not Linux, no compiler), udpBinding()
// says why and the source falls back to node:dgram. Decision: docs/decisions/0006-udp-recvmmsg.md.
//
//   slab:  | slot 0: SLOT_BYTES | slot 1 | … |     a datagram at slot i starts at i * SLOT_BYTES
//   meta:  | len, truncated, family, port, addr×4, scope | …   META_INTS int32 per slot

import { getSystemErrorName } from 'node:util';
import { guarded, ownAddon } from '../../util/addon.js';

export interface Binding {
  readonly SLOTS: number;
  readonly SLOT_BYTES: number;
  readonly META_INTS: number;
  open(family: 4 | 6, host: string, port: number, rcvbuf: number, slab: ArrayBuffer, meta: ArrayBuffer, onReady: (count: number, err: number) => void): object;
  port(handle: object): number;
  address(handle: object, slot: number): string;
  close(handle: object): void;
  /** [calls into onReady with datagrams, current pause in µs, the pause's cap in µs (0: no coalescing), halvings of the pause] */
  stats(handle: object): [number, number, number, number];
}

/** The binding, or the error that says why it cannot be loaded. Loaded once. */
export const udpBinding = ownAddon<Binding>('logship_udp', 'native UDP receiver');

/** What the receiver reports per round: `count` datagrams are in the slots (read them now). */
export interface UdpReceiverHandlers {
  readonly datagrams: (r: NativeUdpReceiver, count: number) => void;
  /** A receive error (errno name); the socket stays open. */
  readonly error: (code: string) => void;
}

export class NativeUdpReceiver {
  /** The datagrams of the current round, slot i at i * slotBytes. Reused every round. */
  readonly slab: Buffer;
  readonly slotBytes: number;
  private readonly _meta: Int32Array;
  private readonly _ints: number;
  private readonly _b: Binding;
  private readonly _handle: object;
  /** Family, address bytes and scope of the last sender address() made text of, and that text. */
  private readonly _lastSender = new Int32Array(6);
  private _lastAddress = '';

  /** Binds `host:port` (port 0: any); throws an Error with the errno name as `code`. */
  constructor(b: Binding, host: string, port: number, receiveBufferBytes: number | undefined, handlers: UdpReceiverHandlers) {
    this._b = b;
    this.slotBytes = b.SLOT_BYTES;
    this._ints = b.META_INTS;
    const slab = new ArrayBuffer(b.SLOTS * b.SLOT_BYTES);
    const meta = new ArrayBuffer(b.SLOTS * b.META_INTS * 4);
    this.slab = Buffer.from(slab);
    this._meta = new Int32Array(meta);
    const onReady = (count: number, err: number): void =>
      guarded(() => (err < 0 ? handlers.error(getSystemErrorName(err)) : handlers.datagrams(this, count)));
    this._handle = b.open(host.includes(':') ? 6 : 4, host, port, receiveBufferBytes ?? 0, slab, meta, onReady);
  }

  get port(): number {
    return this._b.port(this._handle);
  }

  /** Bytes of the datagram in slot i. */
  length(i: number): number {
    return this._meta[i * this._ints]!;
  }

  /**
   * The sender address of slot i, as text ("10.0.0.1", "::1", "::ffff:10.0.0.1"). The text of
   * the last sender seen is kept (also across rounds): a busy sender costs six integer compares
   * per datagram, not a string from the binding (about 0.5 µs).
   */
  address(i: number): string {
    const m = this._meta;
    const last = this._lastSender;
    const a = i * this._ints;
    if (m[a + 2] !== last[0] || m[a + 4] !== last[1] || m[a + 5] !== last[2] || m[a + 6] !== last[3] || m[a + 7] !== last[4] || m[a + 8] !== last[5]) {
      last[0] = m[a + 2]!;
      for (let k = 0; k < 5; k++) last[k + 1] = m[a + 4 + k]!;
      this._lastAddress = this._b.address(this._handle, i);
    }
    return this._lastAddress;
  }

  /**
   * Calls with datagrams so far; the coalescing pause now, its cap in µs (cap 0: the socket is
   * polled again as soon as it is drained) and how often it was halved (see native/udp_recv.c).
   */
  get stats(): { calls: number; pauseUs: number; capUs: number; shrinks: number } {
    const [calls, pauseUs, capUs, shrinks] = this._b.stats(this._handle);
    return { calls, pauseUs, capUs, shrinks };
  }

  /** Idempotent: the handle is dead after the first (port and address throw EBADF). */
  close(): void {
    this._b.close(this._handle);
  }
}
