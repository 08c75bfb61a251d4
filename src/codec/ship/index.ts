// The ship protocol codec (docs/protocol.md): frame types, encoders, and one decoder that turns a
// raw length-prefixed frame into a typed ShipFrame. No sockets, no timers, no fs.

import type { RawFrame } from '../framing/length-prefixed.js';
import type { ShipBatchDecoder } from './batch.js';
import { decodeAck, decodeHello, decodePing, decodePong, decodeRefused, decodeWelcome } from './control.js';
import { FRAME_TYPE, type ShipFrame } from './frames.js';
import { invalid } from './wire.js';

export * from './frames.js';
export * from './control.js';
export { ShipBatchEncoder, ShipBatchDecoder, markRerouted, type BatchEncoderOptions } from './batch.js';

/** Decode a raw frame. Throws LS_FRAME_INVALID (canContinue=false) on an unknown type or bad body. */
export function decodeShipFrame(raw: RawFrame, batches: ShipBatchDecoder): ShipFrame {
  switch (raw.type) {
    case FRAME_TYPE.HELLO: {
      const h = decodeHello(raw.body);
      return { type: 'hello', proto: h.proto, hello: h.hello };
    }
    case FRAME_TYPE.WELCOME:
      return { type: 'welcome', welcome: decodeWelcome(raw.body) };
    case FRAME_TYPE.REFUSED:
      return { type: 'refused', refused: decodeRefused(raw.body) };
    case FRAME_TYPE.BATCH:
      return { type: 'batch', batch: batches.decode(raw.body) };
    case FRAME_TYPE.ACK:
      return { type: 'ack', ack: decodeAck(raw.body) };
    case FRAME_TYPE.PING:
      return { type: 'ping', seq: decodePing(raw.body) };
    case FRAME_TYPE.PONG:
      return { type: 'pong', seq: decodePong(raw.body) };
    default:
      throw invalid(`unknown frame type ${raw.type}`);
  }
}
