// Options of the unix-dgram source (zod schema; docs/config.md is generated from the
// descriptions), and the option pieces the other local sources (unix-stream, pipe) share.
// Validation only: no fs access here.

import { z } from 'zod';
import { parseListenAddress } from '../../transport/listener.js';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';
import { isValidMode } from './local-path.js';
import { MAX_SOCKET_PATH_BYTES, RECV_LIMIT } from './native.js';

const syslogCode = (what: 'facility' | 'severity', lookup: (v: string | number) => number | undefined, range: string, names: string) =>
  z.union([z.string(), z.number()]).refine((v) => lookup(v) !== undefined, {
    message: `unknown ${what}: use a name (${names}) or a number ${range}`,
  });

/** `mode`: a quoted octal string. YAML reads an unquoted 0666 as the decimal number 666. */
export function modeOption(def: string, what: string) {
  return z
    .string({ error: () => `write the mode as a quoted octal string such as '${def}' (YAML reads an unquoted ${def} as a decimal number)` })
    .refine(isValidMode, { message: `mode must be three octal digits, optionally with a leading 0, such as '${def}'` })
    .default(def)
    .describe(`Permissions of the ${what}, as a quoted octal string.`);
}

const idOption = (what: 'user' | 'group') =>
  z
    .union([z.string().min(1), z.number().int().min(0)])
    .optional()
    .describe(`${what === 'user' ? 'Owner' : 'Group'} to give the path: a ${what} name or a numeric id (needs root). Default: unchanged.`);

/** Keys every local source shares: permissions and the defaults of messages that lack a header. */
export const localKeys = (what: string, modeDefault: string) => ({
  mode: modeOption(modeDefault, what),
  owner: idOption('user'),
  group: idOption('group'),
  facility: syslogCode('facility', facilityCode, '0..23', 'kern, user, daemon, local0 … local7')
    .default('user')
    .describe('Syslog facility of messages that carry no PRI (name or number).'),
  severity: syslogCode('severity', severityCode, '0..7', 'emerg, alert, crit, err, warning, notice, info, debug')
    .default('notice')
    .describe('Syslog severity of messages that carry no PRI (name or number).'),
  program: z.string().min(1).optional().describe("Program name of messages that carry no tag. Default: the source's name."),
});

/** `listen` restricted to one unix scheme, with a path that fits in sun_path. */
export function unixListenOption(kind: 'unix+dgram' | 'unix+stream', example: string) {
  return z
    .string()
    .superRefine((s, ctx) => {
      const r = parseListenAddress(s);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
      else if (r.value.kind !== kind) ctx.addIssue({ code: 'custom', message: `"${s}": this source only listens on ${kind}:PATH` });
      else if (Buffer.byteLength(r.value.path) > MAX_SOCKET_PATH_BYTES) {
        ctx.addIssue({ code: 'custom', message: `"${s}": a unix socket path has at most ${MAX_SOCKET_PATH_BYTES} bytes` });
      }
    })
    .describe(
      `Socket to create, as "${kind}:PATH" (e.g. "${example}"). A stale socket left at PATH is replaced; ` +
        'anything else there (a file, or a socket another process receives on) stops the start. The socket is removed on stop.',
    );
}

export const unixDgramOptions = z
  .object({
    type: z.literal('unix-dgram').describe('Receive syslog messages on a unix datagram socket, like /dev/log (logger, libc syslog()).'),
    listen: unixListenOption('unix+dgram', 'unix+dgram:/dev/log'),
    ...localKeys('socket', '0666'),
    max_message_bytes: z
      .number()
      .int()
      .min(16)
      .max(RECV_LIMIT)
      .default(RECV_LIMIT)
      .describe(
        `Longest message kept, in bytes; longer ones are truncated and counted. Datagrams are read into ${RECV_LIMIT} bytes at most, ` +
          'so a datagram of that size or more counts as truncated.',
      ),
  })
  .strict()
  .describe('Unix datagram socket source: one syslog message per datagram.');

export type UnixDgramOptions = z.output<typeof unixDgramOptions>;
