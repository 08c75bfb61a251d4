// Per-connection acknowledgement order of the ship listener. Pure bookkeeping: no sockets.
//
//   stream A: [ b0 ✓ | b1 ✓ | b2 … | b3 ✓ ]  → ACK(A, b1.end); b3 waits for b2
//   stream B: [ b4 ✗ | b5 ✓ ]                → nothing: a hole (retryable) blocks the stream
//
// Batches of one stream are acked in the order they were received, cumulatively: ACK X is sent
// only when every batch of that stream received on this connection up to X has settled.

const PENDING = 0;
const DONE = 1;
const HOLE = 2;

export interface AckSlot {
  readonly key: string;
  readonly endOffset: number;
  state: number;
}

interface StreamQueue {
  readonly origin: string;
  readonly stream: string;
  readonly slots: AckSlot[];
}

export interface AckToSend {
  readonly origin: string;
  readonly stream: string;
  readonly offset: number;
}

export class StreamAcks {
  private readonly _streams: Map<string, StreamQueue>;
  private _unsettled: number;

  constructor() {
    this._streams = new Map();
    this._unsettled = 0;
  }

  /** Batches received and not yet settled. */
  get unsettled(): number {
    return this._unsettled;
  }

  track(key: string, origin: string, stream: string, endOffset: number): AckSlot {
    let q = this._streams.get(key);
    if (q === undefined) {
      q = { origin, stream, slots: [] };
      this._streams.set(key, q);
    }
    const slot: AckSlot = { key, endOffset, state: PENDING };
    q.slots.push(slot);
    this._unsettled++;
    return slot;
  }

  /**
   * Record a batch's fate: `ok` (delivered or rejected: final) or not (retryable: a hole that blocks
   * the stream). Returns the ACK to send now, if the stream's settled prefix grew.
   */
  settle(slot: AckSlot, ok: boolean): AckToSend | null {
    if (slot.state !== PENDING) return null;
    slot.state = ok ? DONE : HOLE;
    this._unsettled--;
    const q = this._streams.get(slot.key);
    if (q === undefined) return null;
    let n = 0;
    while (n < q.slots.length && q.slots[n]!.state === DONE) n++;
    if (n === 0) return null;
    const offset = q.slots[n - 1]!.endOffset;
    if (n === q.slots.length) this._streams.delete(slot.key);
    else q.slots.splice(0, n);
    return { origin: q.origin, stream: q.stream, offset };
  }
}
