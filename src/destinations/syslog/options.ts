// Options of the `syslog` destination (plain syslog out to rsyslog, syslog-ng or any receiver).
// Validation only: TLS files are read when the destination starts.

import { z } from 'zod';
import { parseHostPort } from '../../transport/listener.js';

export type SyslogTransport = 'tcp' | 'udp' | 'tls';

export interface SyslogTarget {
  readonly transport: SyslogTransport;
  readonly host: string;
  readonly port: number;
}

export type ParsedTarget = { readonly ok: true; readonly value: SyslogTarget } | { readonly ok: false; readonly error: string };

/** "tcp:HOST:PORT" | "udp:HOST:PORT" | "tls:HOST:PORT" (IPv6 in brackets), like a source's `listen`. */
export function parseTarget(s: string): ParsedTarget {
  const sep = s.indexOf(':');
  const scheme = sep === -1 ? '' : s.slice(0, sep);
  if (scheme !== 'tcp' && scheme !== 'udp' && scheme !== 'tls') {
    return { ok: false, error: `"${s}" must start with tcp:, udp: or tls: (e.g. "tcp:logs.example.com:514")` };
  }
  const hp = parseHostPort(s.slice(sep + 1), false);
  if (!hp.ok) return hp;
  return { ok: true, value: { transport: scheme, host: hp.value.host, port: hp.value.port } };
}

/** RFC 5426 §3.2: receivers SHOULD take 2048-byte datagrams; 65507 is the most IPv4 UDP carries. */
const MAX_UDP_PAYLOAD = 65_507;

const tlsOptions = z
  .object({
    ca_file: z
      .string()
      .min(1)
      .optional()
      .describe("CA certificates (PEM) the receiver's certificate must chain to; default the system's CAs."),
    cert_file: z.string().min(1).optional().describe('Client certificate chain (PEM), for receivers that require one (mutual TLS).'),
    key_file: z.string().min(1).optional().describe("Private key (PEM, unencrypted) of cert_file."),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe("Name the receiver's certificate must carry (and the SNI sent); default the host of target."),
    verify: z
      .boolean()
      .default(true)
      .describe("Check the receiver's certificate and name. Off: encrypted but not authenticated (tests only)."),
  })
  .strict()
  .refine((o) => (o.cert_file === undefined) === (o.key_file === undefined), {
    message: 'cert_file and key_file go together: set both for a client certificate, or neither',
    path: ['key_file'],
  });

export const syslogDestinationOptions = z
  .object({
    type: z
      .literal('syslog')
      .describe(
        'Forward to a syslog receiver (rsyslog, syslog-ng, …) over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425). ' +
          'A TCP/TLS write counts as delivered once its bytes are written to the socket: plain syslog has no acknowledgements, ' +
          'so bytes in flight when the connection breaks are resent (at least once) or, if the receiver crashed holding them, lost.',
      ),
    target: z
      .string()
      .superRefine((s, ctx) => {
        const r = parseTarget(s);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
      })
      .describe('Receiver as "tcp:HOST:PORT", "udp:HOST:PORT" or "tls:HOST:PORT" ("[v6addr]" for IPv6). The name is resolved again on every connect.'),
    format: z
      .enum(['rfc5424', 'rfc3164'])
      .default('rfc5424')
      .describe(
        'Message format. Each record keeps the header it arrived with (PRI, timestamp, host, app, procid, msgid, structured data); ' +
          'lines that were not syslog (files) get the source\'s host, program, facility and severity and the time they were read.',
      ),
    framing: z
      .enum(['octet-counting', 'newline'])
      .optional()
      .describe(
        'TCP/TLS framing (RFC 6587): "octet-counting" ("LEN MSG") or "newline" (MSG "\\n"; newlines inside a message become spaces). ' +
          'Default octet-counting for rfc5424, newline for rfc3164. Not for udp (one message per datagram).',
      ),
    tls: tlsOptions.optional().describe('TLS settings (target "tls:…" only): ca_file, cert_file, key_file, server_name, verify (default true).'),
    max_message_bytes: z
      .number()
      .int()
      .min(64)
      .max(MAX_UDP_PAYLOAD)
      .default(2048)
      .describe('UDP only: longest datagram; longer messages are cut to it (at a UTF-8 boundary) and counted. RFC 5426 receivers take 2048.'),
    connect_timeout_ms: z.number().int().min(1).default(5000).describe('Give up a TCP connect (and TLS handshake) after this many milliseconds.'),
    backoff_min_ms: z.number().int().min(1).default(100).describe('First delay before reconnecting; it doubles (with jitter) up to backoff_max_ms.'),
    backoff_max_ms: z.number().int().min(1).default(10_000).describe('Longest delay between connect attempts.'),
    max_in_flight: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe('Batches outstanding at once; they are written in order on one connection. Bounds the memory the destination holds.'),
  })
  .strict()
  .superRefine((o, ctx) => {
    const t = parseTarget(o.target);
    if (!t.ok) return;
    if (t.value.transport === 'udp' && o.framing !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['framing'], message: 'framing is for tcp and tls targets: over udp each message is one datagram' });
    }
    if (t.value.transport !== 'tls' && o.tls !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls settings need a "tls:HOST:PORT" target, not "${t.value.transport}:"` });
    }
    if (o.backoff_min_ms > o.backoff_max_ms) {
      ctx.addIssue({ code: 'custom', path: ['backoff_min_ms'], message: `backoff_min_ms (${o.backoff_min_ms}) is larger than backoff_max_ms (${o.backoff_max_ms})` });
    }
  });

export type SyslogDestinationOptions = z.output<typeof syslogDestinationOptions>;
export type SyslogFraming = 'octet-counting' | 'newline';

/** The framing a stream target uses: the configured one, else the usual one for the format. */
export function framingOf(o: SyslogDestinationOptions): SyslogFraming {
  return o.framing ?? (o.format === 'rfc5424' ? 'octet-counting' : 'newline');
}
