// Options of the `ship` destination (the client side of the ship protocol, docs/protocol.md).

import { z } from 'zod';
import { parseHostPort } from '../../transport/listener.js';

const hostPort = z
  .string()
  .superRefine((s, ctx) => {
    const r = parseHostPort(s, false);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
  })
  .describe('An upstream relay or server as "host:port" (or "[v6addr]:port"). The name is resolved again on every connect (never cached by logship), and every address it resolves to is tried in order.');

export const shipOptions = z
  .object({
    type: z.literal('ship').describe('Ship batches to a logship relay or server over the ship protocol (acknowledged, resent after reconnect).'),
    upstreams: z
      .array(hostPort)
      .min(1)
      .describe(
        'Upstream relays or servers. With upstream_policy failover, in order of preference; with round-robin, all used at once. An upstream that fails is marked down and tried again after its own backoff.',
      ),
    upstream_policy: z
      .enum(['failover', 'round-robin'])
      .default('failover')
      .describe(
        'failover: one connection, to the first upstream that works; after failing over, go back to a preferred one once it answers again (failback_after_ms). round-robin: one connection per upstream; each stream (origin + stream id) is given to one upstream in turn and stays there, so its order holds; the streams of a failed upstream move to the others.',
      ),
    failback_after_ms: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe('failover policy: while on a fallback upstream, probe the preferred ones this often (connect and handshake) and switch back to the first that answers.'),
    window: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .describe('Batches in flight (sent, not yet acknowledged) at most, across all upstreams. Bounds the memory the destination holds.'),
    compression_level: z
      .number()
      .int()
      .min(0)
      .max(19)
      .default(3)
      .describe('zstd level of batch payloads, 1 (fast) to 19 (small); 0 sends them uncompressed.'),
    connect_timeout_ms: z
      .number()
      .int()
      .min(1)
      .default(5000)
      .describe('Give up a connect attempt, and the HELLO/WELCOME handshake, after this many milliseconds.'),
    backoff_min_ms: z.number().int().min(1).default(100).describe('First delay between connect attempts; it doubles (with jitter) up to backoff_max_ms.'),
    backoff_max_ms: z.number().int().min(1).default(10_000).describe('Longest delay between connect attempts.'),
    ack_timeout_ms: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe('Reconnect (and resend) when batches are outstanding and no acknowledgement progressed for this long, or the upstream said nothing at all for this long.'),
    ping_interval_ms: z.number().int().min(1).default(10_000).describe('Send a PING this often, so both sides notice a dead connection.'),
    labels: z.record(z.string(), z.string()).optional().describe('Labels sent in HELLO; the server shows them in its client registry.'),
    token: z.string().optional().describe('Enrollment token or credential sent in HELLO.'),
  })
  .strict()
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.upstreams.forEach((u, i) => {
      if (seen.has(u)) ctx.addIssue({ code: 'custom', path: ['upstreams', i], message: `upstream "${u}" is listed twice` });
      seen.add(u);
    });
    if (o.backoff_min_ms > o.backoff_max_ms) {
      ctx.addIssue({ code: 'custom', path: ['backoff_min_ms'], message: `backoff_min_ms (${o.backoff_min_ms}) is larger than backoff_max_ms (${o.backoff_max_ms})` });
    }
  });

export type ShipOptions = z.output<typeof shipOptions>;
