// Ship protocol frame types and values (docs/protocol.md is the normative description).
// Pure data definitions: no sockets, no timers, no fs.

import type { BatchExtras, BatchMeta } from '../../core/batch.js';
import type { StreamPos } from '../../core/stream.js';

/** Protocol version carried in HELLO and WELCOME. Bump it for any incompatible wire change. */
export const PROTOCOL_VERSION = 1;

/** The u8 type byte of each frame. */
export const FRAME_TYPE = {
  HELLO: 1,
  WELCOME: 2,
  REFUSED: 3,
  BATCH: 4,
  ACK: 5,
  PING: 6,
  PONG: 7,
} as const;

export type FrameTypeName = keyof typeof FRAME_TYPE;

/** BATCH flags (u8). Bits other than these must be zero. */
export const BATCH_FLAG_ZSTD = 0x01;
/** meta.format is 'syslog': every record is a syslog message (its header overrides the batch meta). */
export const BATCH_FLAG_SYSLOG = 0x02;
/** The payload carries each record's stream offset (a compacted batch: records not contiguous). */
export const BATCH_FLAG_RECORD_OFFSETS = 0x04;
/** The body carries end_offset (it differs from offset + data length). */
export const BATCH_FLAG_END_OFFSET = 0x08;
/** Earlier batches of the stream went through another path, which may still hold them. */
export const BATCH_FLAG_REROUTED = 0x10;
/** Every flag bit this version knows. */
export const BATCH_FLAGS_KNOWN = BATCH_FLAG_ZSTD | BATCH_FLAG_SYSLOG | BATCH_FLAG_RECORD_OFFSETS | BATCH_FLAG_END_OFFSET | BATCH_FLAG_REROUTED;

export type NodeRole = 'client' | 'relay' | 'server';

export interface Hello {
  readonly proto: number;
  readonly node: string;
  readonly role: NodeRole;
  readonly version: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly token?: string;
}

export interface Welcome {
  readonly proto: number;
  readonly node: string;
  /** The receiver's frame bound (max_frame_bytes); a sender does not send bigger frames. */
  readonly maxFrameBytes?: number;
}

export interface Refused {
  /** A stable LS_* code (e.g. LS_SHIP_PROTOCOL, LS_SHIP_REFUSED). */
  readonly code: string;
  readonly reason: string;
}

export interface Ack {
  readonly origin: string;
  readonly stream: string;
  /** Stream offset just past the last byte durably written (cumulative per stream). */
  readonly offset: number;
}

/**
 * What a BATCH frame carries, before it becomes a core Batch. `extras` (recordOffsets, endOffset)
 * is present only when the frame carried them; pass it to the Batch constructor as is.
 */
export interface DecodedBatch {
  readonly pos: StreamPos;
  readonly meta: BatchMeta;
  readonly data: Buffer;
  readonly ends: Uint32Array;
  readonly extras?: BatchExtras;
}

/** The fields of a batch the encoder reads (a core Batch satisfies it). */
export interface BatchLike {
  readonly pos: StreamPos;
  readonly meta: BatchMeta;
  readonly data: Buffer;
  readonly ends: Uint32Array;
  /** Stream offset of each record (a compacted batch); absent: records are contiguous from pos.offset. */
  readonly recordOffsets?: Float64Array | undefined;
  /** End of the stream range the batch accounts for; absent: pos.offset + data.length. */
  readonly endOffset?: number;
  /** Sent with flag 0x10 (BatchExtras.rerouted). */
  readonly rerouted?: boolean;
}

/**
 * A decoded frame. A HELLO with a protocol version other than PROTOCOL_VERSION decodes with
 * `hello: null` so that the server can answer REFUSED instead of dropping the connection.
 */
export type ShipFrame =
  | { readonly type: 'hello'; readonly proto: number; readonly hello: Hello | null }
  | { readonly type: 'welcome'; readonly welcome: Welcome }
  | { readonly type: 'refused'; readonly refused: Refused }
  | { readonly type: 'batch'; readonly batch: DecodedBatch }
  | { readonly type: 'ack'; readonly ack: Ack }
  | { readonly type: 'ping'; readonly seq: number }
  | { readonly type: 'pong'; readonly seq: number };
