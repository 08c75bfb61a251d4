// Options of the `ship-listener` source (the server/relay side of the ship protocol, docs/protocol.md).

import { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES } from '../../codec/framing/length-prefixed.js';
import { parseListenAddress } from '../../transport/listener.js';

export const shipListenerOptions = z
  .object({
    type: z.literal('ship-listener').describe('Receive batches from logship clients and relays over the ship protocol, and acknowledge them once delivered.'),
    listen: z
      .string()
      .superRefine((s, ctx) => {
        const r = parseListenAddress(s);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
        else if (r.value.kind !== 'tcp') ctx.addIssue({ code: 'custom', message: `"${s}": the ship listener only listens on tcp:HOST:PORT` });
      })
      .describe('Address to listen on, as "tcp:HOST:PORT" (e.g. "tcp:0.0.0.0:5140", "tcp:[::]:5140").'),
    max_frame_bytes: z
      .number()
      .int()
      .min(1024)
      .max(0xffffffff)
      .default(DEFAULT_MAX_FRAME_BYTES)
      .describe('Largest frame accepted, and largest uncompressed batch payload; a peer that sends more is disconnected.'),
    max_connections: z.number().int().min(1).default(1024).describe('Connections accepted at once; more are refused.'),
    idle_timeout_ms: z
      .number()
      .int()
      .min(1)
      .default(120_000)
      .describe(
        'Close a connection that sent no frame at all for this long (clients PING every ping_interval_ms), ' +
          'or that left more than 1 MiB of our frames (ACK, PONG) unread for this long (reading from it stops meanwhile).',
      ),
  })
  .strict();

export type ShipListenerOptions = z.output<typeof shipListenerOptions>;
