// Control frames of the ship protocol: HELLO, WELCOME, REFUSED (JSON bodies), ACK and PING/PONG
// (binary). See docs/protocol.md §3. No sockets, no timers, no fs.

import { z } from 'zod';
import { encodeRawFrame, FRAME_HEADER_BYTES } from '../framing/length-prefixed.js';
import { FRAME_TYPE, PROTOCOL_VERSION, type Ack, type Hello, type Refused, type Welcome } from './frames.js';
import { FieldReader, invalid, strFieldBytes, writeStr, writeU64 } from './wire.js';

/** Bound of a JSON control body: they are small, anything bigger is a broken or hostile peer. */
export const MAX_CONTROL_BODY_BYTES = 64 * 1024;

const helloV1 = z.object({
  proto: z.literal(PROTOCOL_VERSION),
  node: z.string().min(1).max(255),
  role: z.enum(['client', 'relay', 'server']),
  version: z.string().max(255),
  labels: z.record(z.string().max(255), z.string().max(4096)).optional(),
  token: z.string().max(4096).optional(),
});

const welcomeSchema = z.object({
  proto: z.number().int().nonnegative(),
  node: z.string().max(255),
  max_frame_bytes: z.number().int().min(1).max(0xffffffff).optional(),
});
const refusedSchema = z.object({ code: z.string().max(255), reason: z.string().max(4096) });

function jsonFrame(type: number, value: unknown): Buffer {
  return encodeRawFrame(type, Buffer.from(JSON.stringify(value), 'utf8'));
}

function parseJsonObject(body: Buffer, frame: string): Record<string, unknown> {
  if (body.length > MAX_CONTROL_BODY_BYTES) throw invalid(`${frame} body of ${body.length} bytes exceeds ${MAX_CONTROL_BODY_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid(`${frame} body is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${frame} body is not a JSON object`);
  return v as Record<string, unknown>;
}

function issuePath(err: z.ZodError): string {
  const i = err.issues[0];
  return i === undefined ? 'body' : i.path.length === 0 ? 'body' : i.path.join('.');
}

export function encodeHello(h: Hello): Buffer {
  const v: Record<string, unknown> = { proto: h.proto, node: h.node, role: h.role, version: h.version };
  if (h.labels !== undefined) v.labels = h.labels;
  if (h.token !== undefined) v.token = h.token;
  return jsonFrame(FRAME_TYPE.HELLO, v);
}

/**
 * Decode a HELLO body. A version other than PROTOCOL_VERSION gives `hello: null` (the server
 * answers REFUSED); a v1 HELLO is validated field by field.
 */
export function decodeHello(body: Buffer): { proto: number; hello: Hello | null } {
  const obj = parseJsonObject(body, 'HELLO');
  const proto = obj.proto;
  if (typeof proto !== 'number' || !Number.isSafeInteger(proto) || proto < 0) throw invalid('HELLO field proto is not a non-negative integer');
  if (proto !== PROTOCOL_VERSION) return { proto, hello: null };
  const r = helloV1.safeParse(obj);
  if (!r.success) throw invalid(`HELLO field ${issuePath(r.error)} is missing or wrong`);
  const h = r.data;
  const hello: Hello = {
    proto: h.proto,
    node: h.node,
    role: h.role,
    version: h.version,
    ...(h.labels === undefined ? {} : { labels: h.labels }),
    ...(h.token === undefined ? {} : { token: h.token }),
  };
  return { proto, hello };
}

export function encodeWelcome(w: Welcome): Buffer {
  const v: Record<string, unknown> = { proto: w.proto, node: w.node };
  if (w.maxFrameBytes !== undefined) v.max_frame_bytes = w.maxFrameBytes;
  return jsonFrame(FRAME_TYPE.WELCOME, v);
}

export function decodeWelcome(body: Buffer): Welcome {
  const r = welcomeSchema.safeParse(parseJsonObject(body, 'WELCOME'));
  if (!r.success) throw invalid(`WELCOME field ${issuePath(r.error)} is missing or wrong`);
  const { proto, node, max_frame_bytes } = r.data;
  return max_frame_bytes === undefined ? { proto, node } : { proto, node, maxFrameBytes: max_frame_bytes };
}

export function encodeRefused(r: Refused): Buffer {
  return jsonFrame(FRAME_TYPE.REFUSED, { code: r.code, reason: r.reason });
}

export function decodeRefused(body: Buffer): Refused {
  const r = refusedSchema.safeParse(parseJsonObject(body, 'REFUSED'));
  if (!r.success) throw invalid(`REFUSED field ${issuePath(r.error)} is missing or wrong`);
  return { code: r.data.code, reason: r.data.reason };
}

/** ACK body: origin (u16 + UTF-8), stream (u16 + UTF-8), offset (u64). */
export function encodeAck(a: Ack): Buffer {
  const bodyLen = strFieldBytes(a.origin, 'origin') + strFieldBytes(a.stream, 'stream') + 8;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLen);
  out.writeUInt32BE(bodyLen + 1, 0);
  out.writeUInt8(FRAME_TYPE.ACK, 4);
  let p = writeStr(out, FRAME_HEADER_BYTES, a.origin);
  p = writeStr(out, p, a.stream);
  writeU64(out, p, a.offset, 'offset');
  return out;
}

export function decodeAck(body: Buffer): Ack {
  const r = new FieldReader(body, 'ACK');
  const origin = r.str('origin');
  const stream = r.str('stream');
  const offset = r.u64('offset');
  r.end();
  return { origin, stream, offset };
}

function encodeSeq(type: number, seq: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8);
  out.writeUInt32BE(9, 0);
  out.writeUInt8(type, 4);
  writeU64(out, FRAME_HEADER_BYTES, seq, 'seq');
  return out;
}

function decodeSeq(body: Buffer, frame: string): number {
  const r = new FieldReader(body, frame);
  const seq = r.u64('seq');
  r.end();
  return seq;
}

/** PING body: u64 sequence number, echoed by PONG. */
export function encodePing(seq: number): Buffer {
  return encodeSeq(FRAME_TYPE.PING, seq);
}

export function encodePong(seq: number): Buffer {
  return encodeSeq(FRAME_TYPE.PONG, seq);
}

export function decodePing(body: Buffer): number {
  return decodeSeq(body, 'PING');
}

export function decodePong(body: Buffer): number {
  return decodeSeq(body, 'PONG');
}
