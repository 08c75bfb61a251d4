// Options of the `syslog-udp` source (RFC 5426): one message per datagram. Validation only.

import { z } from 'zod';
import { listenKey, syslogMessageShape } from '../syslog-tcp/options.js';

export const syslogUdpOptions = z
  .object({
    type: z.literal('syslog-udp').describe('Receive syslog over UDP (RFC 5426): each datagram is one message.'),
    listen: listenKey('udp', 'udp:0.0.0.0:514'),
    receive_buffer_bytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .optional()
      .describe(
        "Socket receive buffer (SO_RCVBUF) in bytes, to absorb bursts; the kernel caps it at net.core.rmem_max. Default: the system's. " +
          'A larger buffer also lets the receiver wait longer between reads under a steady sender (up to 1 ms at 4 MiB), and so read more datagrams per wakeup for less CPU.',
      ),
    max_buffered_bytes: z
      .number()
      .int()
      .min(65_536)
      .default(4 * 1024 * 1024)
      .describe(
        'Most bytes received and not yet taken by the pipeline. UDP cannot be paused: while the pipeline is this far behind, ' +
          'datagrams are dropped and counted (logship_syslog_udp_dropped_total).',
      ),
    ...syslogMessageShape,
    program: syslogMessageShape.program.describe(
      'Program of messages that carry no tag (APP-NAME). Messages without a hostname get the sender\'s IP address; ' +
        'but while 256 senders already have a batcher of their own, datagrams of further senders share one ' +
        '(counted in logship_syslog_udp_overflow_datagrams_total) and those without a hostname get "udp-overflow".',
    ),
  })
  .strict()
  .describe('Syslog over UDP (RFC 5426).');

export type SyslogUdpOptions = z.output<typeof syslogUdpOptions>;
