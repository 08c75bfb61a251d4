// Options of the `syslog-tcp` source, and the option groups that syslog-udp and syslog-tls share
// with it (zod; docs/config.md is generated from the descriptions). Validation only.

import { z } from 'zod';
import { parseListenAddress } from '../../transport/listener.js';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';

const syslogCode = (what: 'facility' | 'severity', lookup: (v: string | number) => number | undefined, range: string, names: string) =>
  z.union([z.string(), z.number()]).refine((v) => lookup(v) !== undefined, {
    message: `unknown ${what}: use a name (${names}) or a number ${range}`,
  });

/** How stream framing is chosen (RFC 6587), for the listen descriptions of syslog-tcp and syslog-tls. */
export const FRAMING_NOTE =
  ' Framing is detected per connection from its first byte: a digit means octet counting (RFC 6587 §3.4.1; a frame that then ' +
  'starts with a non-digit is read up to LF, as rsyslog does); anything else means LF-terminated messages (§3.4.2) for the ' +
  'whole connection, so a later message starting with digits stays text. Only LF ends a message (NUL does not); trailing ' +
  'CR and NUL are stripped, and an LF inside an octet-counted message becomes a space.';

/** A `listen` key restricted to one scheme (tcp or udp). */
export function listenKey(scheme: 'tcp' | 'udp', example: string, note = '') {
  return z
    .string()
    .superRefine((s, ctx) => {
      const r = parseListenAddress(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
      else if (r.value.kind !== scheme) ctx.addIssue({ code: 'custom', message: `"${s}": this source only listens on ${scheme}:HOST:PORT` });
    })
    .describe(`Address to listen on, as "${scheme}:HOST:PORT" (e.g. "${example}", "${scheme}:[::]:514"). Port 0 picks a free port.${note}`);
}

/** How messages are read and which defaults fill what a message lacks (every syslog network source). */
export const syslogMessageShape = {
  max_message_bytes: z
    .number()
    .int()
    .min(16)
    .max(64 * 1024 * 1024)
    .default(65_536)
    .describe('Longest message, in bytes without its terminator; longer ones are handled as `oversize` says and counted.'),
  oversize: z
    .enum(['truncate', 'split'])
    .default('truncate')
    .describe(
      "What to do with a message longer than max_message_bytes: 'truncate' keeps its first max_message_bytes bytes and drops the rest; " +
        "'split' makes one record of each max_message_bytes piece (only the first keeps the syslog header).",
    ),
  facility: syslogCode('facility', facilityCode, '0..23', 'kern, user, daemon, local0 … local7')
    .default('user')
    .describe('Facility of messages that carry no PRI (name or number).'),
  severity: syslogCode('severity', severityCode, '0..7', 'emerg, alert, crit, err, warning, notice, info, debug')
    .default('notice')
    .describe('Severity of messages that carry no PRI (name or number).'),
  program: z.string().default('').describe('Program of messages that carry no tag (APP-NAME). Messages without a hostname get the sender\'s IP address.'),
};

/** Connection handling of the stream sources (syslog-tcp, syslog-tls). */
export const syslogStreamShape = {
  max_connections: z.number().int().min(1).default(1024).describe('Connections accepted at once; more are refused and counted.'),
  idle_timeout_ms: z
    .number()
    .int()
    .min(1)
    .default(300_000)
    .describe('Close a connection that sent nothing for this long (a partial last message is kept as a record).'),
};

export const syslogTcpOptions = z
  .object({
    type: z
      .literal('syslog-tcp')
      .describe(
        'Receive syslog over TCP (RFC 6587). The first byte of each connection picks its framing: a digit means octet counting ' +
          '(frames that start with a non-digit are then read up to LF, as rsyslog does), anything else means LF-terminated messages.',
      ),
    listen: listenKey('tcp', 'tcp:0.0.0.0:514', FRAMING_NOTE),
    ...syslogStreamShape,
    ...syslogMessageShape,
  })
  .strict()
  .describe('Syslog over TCP, newline or octet-counted framing (RFC 6587).');

export type SyslogTcpOptions = z.output<typeof syslogTcpOptions>;

/** What the stream server and the connections need, from syslog-tcp or syslog-tls options. */
export interface SyslogStreamSettings {
  readonly listen: string;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly message: SyslogMessageSettings;
}

export interface SyslogMessageSettings {
  readonly maxMessageBytes: number;
  readonly oversize: 'truncate' | 'split';
  readonly facility: number;
  readonly severity: number;
  readonly program: string;
}

export function messageSettings(o: {
  max_message_bytes: number;
  oversize: 'truncate' | 'split';
  facility: string | number;
  severity: string | number;
  program: string;
}): SyslogMessageSettings {
  return {
    maxMessageBytes: o.max_message_bytes,
    oversize: o.oversize,
    // Validated by the schema; the fallbacks are the schema defaults.
    facility: facilityCode(o.facility) ?? 1,
    severity: severityCode(o.severity) ?? 5,
    program: o.program,
  };
}

/** Works for syslog-tls options too (a superset of these keys). */
export function streamSettings(o: Omit<SyslogTcpOptions, 'type'>): SyslogStreamSettings {
  return {
    listen: o.listen,
    maxConnections: o.max_connections,
    idleTimeoutMs: o.idle_timeout_ms,
    message: messageSettings(o),
  };
}
