// Options of the unix-stream source (zod schema; docs/config.md is generated from the descriptions).
// Validation only: no fs access here.

import { z } from 'zod';
import { localKeys, unixListenOption } from '../unix-dgram/options.js';

export const unixStreamOptions = z
  .object({
    type: z
      .literal('unix-stream')
      .describe('Receive syslog messages on a unix stream socket (logger -T, libc syslog() on a stream /dev/log, syslog-ng unix-stream()).'),
    listen: unixListenOption('unix+stream', 'unix+stream:/run/logship/log.sock'),
    ...localKeys('socket', '0666'),
    max_message_bytes: z
      .number()
      .int()
      .min(16)
      .max(16 * 1024 * 1024)
      .default(65_536)
      .describe('Longest message kept, in bytes; longer ones are handled as `oversize` says, and counted.'),
    oversize: z
      .enum(['truncate', 'split'])
      .default('truncate')
      .describe("What to do with a message longer than max_message_bytes: 'truncate' keeps its first max_message_bytes bytes, 'split' makes records of every piece."),
    max_connections: z.number().int().min(1).default(1024).describe('Connections accepted at once; more are refused (closed at once) and counted.'),
    idle_timeout_ms: z
      .number()
      .int()
      .min(0)
      .default(300_000)
      .describe('Close a connection that sent nothing for this long (libc syslog() reconnects by itself). 0 = never.'),
  })
  .strict()
  .describe(
    'Unix stream socket source. Framing is detected per connection: a connection whose first message starts with a digit ' +
      'uses octet counting (RFC 6587 §3.4.1); otherwise messages end at LF or NUL (libc syslog() ends each with NUL).',
  );

export type UnixStreamOptions = z.output<typeof unixStreamOptions>;
