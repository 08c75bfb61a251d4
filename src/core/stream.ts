// Stream identity and positions: the idempotency keys of the delivery guarantee.
//
// Every record is addressed by (origin node, stream id, byte offset). A stream is one
// re-readable sequence of bytes: one generation of one file on a client, or one spool.
// Offsets are byte offsets in that stream; a batch covers [offset, offset + data.length).

export interface StreamPos {
  /** Name of the node that first read the bytes. Kept unchanged through relays. */
  readonly origin: string;
  /** Stream id, unique per origin (random, persisted by the source). */
  readonly stream: string;
  /** Stream offset of the first byte of the batch. */
  readonly offset: number;
}

/** Map key for per-stream state. */
export function streamKey(origin: string, stream: string): string {
  return `${origin}\u0000${stream}`;
}
