// Options of the `syslog-tls` source (RFC 5425): the syslog-tcp keys plus the TLS material.
// Validation only: the files are read when the source starts.

import { z } from 'zod';
import { FRAMING_NOTE, listenKey, syslogMessageShape, syslogStreamShape } from '../syslog-tcp/options.js';

export const syslogTlsOptions = z
  .object({
    type: z
      .literal('syslog-tls')
      .describe(
        'Receive syslog over TLS (RFC 5425). Octet counting is the standard framing; LF-terminated messages are accepted too ' +
          '(rsyslog and syslog-ng send them unless told otherwise), detected per connection like syslog-tcp.',
      ),
    listen: listenKey('tcp', 'tcp:0.0.0.0:6514', FRAMING_NOTE),
    cert_file: z.string().min(1).describe("Path of the server's certificate chain (PEM), leaf first."),
    key_file: z.string().min(1).describe("Path of the server's private key (PEM, unencrypted)."),
    ca_file: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the CA certificates (PEM) that client certificates must chain to. Required with require_client_cert.'),
    require_client_cert: z
      .boolean()
      .default(false)
      .describe('Refuse clients that do not present a certificate signed by a CA of ca_file (mutual TLS).'),
    handshake_timeout_ms: z.number().int().min(100).default(10_000).describe('Close a connection whose TLS handshake has not completed within this long.'),
    ...syslogStreamShape,
    ...syslogMessageShape,
  })
  .strict()
  .refine((o) => !o.require_client_cert || o.ca_file !== undefined, {
    message: 'require_client_cert needs ca_file: the CA certificates that signed the client certificates',
    path: ['ca_file'],
  })
  .describe('Syslog over TLS (RFC 5425), optionally with client certificates.');

export type SyslogTlsOptions = z.output<typeof syslogTlsOptions>;
