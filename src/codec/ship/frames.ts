// Ship protocol frame types and values (docs/protocol.md is the normative description).
// Pure data definitions: no sockets, no timers, no fs.

import type { BatchMeta } from '../../core/batch.js';
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

/** What a BATCH frame carries, before it becomes a core Batch. */
export interface DecodedBatch {
  readonly pos: StreamPos;
  readonly meta: BatchMeta;
  readonly data: Buffer;
  readonly ends: Uint32Array;
}

/** The fields of a batch the encoder reads (a core Batch satisfies it). */
export interface BatchLike {
  readonly pos: StreamPos;
  readonly meta: BatchMeta;
  readonly data: Buffer;
  readonly ends: Uint32Array;
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
