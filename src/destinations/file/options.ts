// Options of the file destination (its config block). Templates are parsed here, so
// `logship check-config` names the exact key of a bad macro. No I/O here.

import { z } from 'zod';
import { lineTemplateText, parseLineTemplate } from './format.js';
import { parsePathTemplate } from './path-template.js';

const MODE_RE = /^0?[0-7]{3,4}$/;

export const fileDestinationOptions = z
  .object({
    type: z.literal('file').describe('Writes batches to files under base_dir, exactly once (see DESIGN.md "Delivery").'),
    base_dir: z
      .string()
      .min(1)
      .describe('Directory every file is written under (relative paths are relative to the working directory). Nothing is ever written outside it.'),
    path: z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        const r = parsePathTemplate(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
      })
      .default('${host}/${program}.log')
      .describe(
        'File path template, relative to base_dir. Macros: ${host} ${program} ${facility} ${severity} ${PRI} ' +
          '${YEAR} ${MONTH} ${DAY} ${HOUR} ${MIN} ${SEC} ${ISODATE} (UTC, from the time the lines were read). ' +
          'For syslog input they come from each message (its hostname, app name, PRI and timestamp), so one batch ' +
          'may be split over several files. Values from the network are sanitized (no "/", no "..", no control ' +
          'characters, at most 128 bytes).',
      ),
    template: z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        const r = parseLineTemplate(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
      })
      .default('default')
      .describe(
        `Line format. "default" is "${lineTemplateText('default')}" (like syslog-ng's file output); "raw" writes each record as received; ` +
          'anything else is a template with the path macros plus ${MESSAGE} and, for syslog input, ${PID} ${MSGID} ${SDATA} ' +
          '(empty otherwise). For syslog input ${MESSAGE} is the message part and the other macros come from each message. ' +
          'NUL bytes of a line are dropped.',
      ),
    fsync: z
      .boolean()
      .default(true)
      .describe('fdatasync files and the journal before acknowledging. Off: a crash of the process loses nothing, a power cut may.'),
    max_open_files: z.number().int().min(1).max(65536).default(256).describe('Open files kept between writes; the least recently used are closed.'),
    max_tracked_streams: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(100_000)
      .describe(
        'Streams whose last written offset is kept for dedupe (each client file, syslog connection or UDP sender flow is one). ' +
          'Past it the least recently written stream is forgotten (counted in logship_file_dest_streams_evicted_total): ' +
          'a late resend of that stream would be written again. Streams idle for 30 days are forgotten anyway.',
      ),
    reorder_wait_ms: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(20_000)
      .describe(
        'How long a batch waits when it starts past what was written of its stream while earlier lines are still on their way: ' +
          'a client re-routed the stream (it failed over to another relay), or an earlier batch of the stream failed to be written ' +
          'and is being retried. The earlier lines fill the gap in order when they come within this time; later, they are still ' +
          'written exactly once, but after the newer lines (logged as file_dest_reorder_timeout). ' +
          'Keep it below the senders\' ack_timeout_ms (30 s). 0: never wait.',
      ),
    max_in_flight: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe('Batches outstanding at once; a write cycle takes up to half of them together (group commit) while the sources fill the rest.'),
    dir_mode: z.string().regex(MODE_RE, 'an octal mode such as "0755"').default('0755').describe('Mode of directories it creates (octal string).'),
    file_mode: z.string().regex(MODE_RE, 'an octal mode such as "0640"').default('0640').describe('Mode of files it creates (octal string).'),
  })
  .strict();

export type FileDestinationOptions = z.output<typeof fileDestinationOptions>;

export function parseMode(s: string): number {
  return Number.parseInt(s, 8);
}
