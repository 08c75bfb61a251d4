// Options of the file tail source (zod schema; docs/config.md is generated from the descriptions).
// Validation only: no fs access here.

import { z } from 'zod';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';

const syslogCode = (what: 'facility' | 'severity', lookup: (v: string | number) => number | undefined, range: string, names: string) =>
  z.union([z.string(), z.number()]).refine((v) => lookup(v) !== undefined, {
    message: `unknown ${what}: use a name (${names}) or a number ${range}`,
  });

export const fileSourceOptions = z
  .object({
    type: z.literal('file').describe('Tail log files.'),
    include: z
      .array(z.string().min(1))
      .min(1)
      .describe('Glob patterns of the files to tail (picomatch syntax), absolute or relative to the working directory.'),
    exclude: z.array(z.string().min(1)).default([]).describe('Glob patterns of files not to tail, even if `include` matches them.'),
    start_at: z
      .enum(['end', 'beginning'])
      .default('end')
      .describe(
        'Where to start in files found at the very first start (no checkpoint yet). Files that appear later, ' +
          'or are created by a rotation, are always read from their beginning.',
      ),
    facility: syslogCode('facility', facilityCode, '0..23', 'kern, user, daemon, local0 … local7')
      .default('user')
      .describe('Syslog facility of the records (name or number).'),
    severity: syslogCode('severity', severityCode, '0..7', 'emerg, alert, crit, err, warning, notice, info, debug')
      .default('notice')
      .describe('Syslog severity of the records (name or number).'),
    program: z
      .string()
      .min(1)
      .optional()
      .describe("Program name of the records. Default: the file's base name without its last extension (app.log → app)."),
    format: z
      .enum(['raw', 'syslog'])
      .default('raw')
      .describe(
        "How to read each line: 'raw' = the line is the message, with this source's facility, severity and program; " +
          "'syslog' = the line is a syslog message (RFC 3164/5424) whose own PRI, timestamp, host and tag win, " +
          'parsed per line when a filter, a template or a syslog destination needs them.',
      ),
    max_line_bytes: z
      .number()
      .int()
      .min(1)
      .default(65_536)
      .describe('Longest record, in bytes without its newline; longer lines are split into records of this size.'),
    partial_flush_ms: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe(
        'A last line without a newline is held until its newline arrives, or sent as a record after this long ' +
          'without new data. 0 = never send a partial line.',
      ),
    read_chunk_bytes: z
      .number()
      .int()
      .min(2)
      .default(1_048_576)
      .describe('Most bytes read from a file into one batch. Must be greater than `max_line_bytes`.'),
    poll_interval_ms: z
      .number()
      .int()
      .min(10)
      .default(1000)
      .describe(
        'Files are read when the kernel reports a change (inotify); besides, each open file is checked for growth, ' +
          'rotation and truncation after this long without a change, then less and less often (the delay doubles ' +
          'up to max_poll_interval_ms) while it stays unchanged.',
      ),
    max_poll_interval_ms: z
      .number()
      .int()
      .min(10)
      .optional()
      .describe(
        'Longest delay between two checks of an unchanged file (see poll_interval_ms): the bound on how late a ' +
          'change is seen when its notification is missed. Default: 30000, or poll_interval_ms if that is longer. ' +
          'Set it to poll_interval_ms on file systems without change notifications (NFS, some FUSE mounts).',
      ),
    rotate_wait_ms: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe(
        'A file that left its path (rotated by rename, or deleted) is kept open and read until it has been unchanged ' +
          'this long, so lines the application writes to it before reopening its log are not lost.',
      ),
    checkpoint_interval_ms: z
      .number()
      .int()
      .min(10)
      .default(200)
      .describe('How often the acknowledged offsets are written to the checkpoint file.'),
  })
  .strict()
  .refine((o) => o.max_poll_interval_ms === undefined || o.max_poll_interval_ms >= o.poll_interval_ms, {
    message: 'max_poll_interval_ms must be at least poll_interval_ms',
    path: ['max_poll_interval_ms'],
  })
  .refine((o) => o.read_chunk_bytes > o.max_line_bytes, {
    message: 'read_chunk_bytes must be greater than max_line_bytes (a chunk must hold a whole record)',
    path: ['read_chunk_bytes'],
  })
  .describe('File tail source: ships the bytes appended to files, resuming at the acknowledged offset.');

export type FileSourceOptions = z.output<typeof fileSourceOptions>;

/** Default of max_poll_interval_ms (when poll_interval_ms is shorter). */
export const DEFAULT_MAX_POLL_INTERVAL_MS = 30_000;

/** The longest delay between two checks of an unchanged file. */
export function maxPollIntervalMs(o: Pick<FileSourceOptions, 'poll_interval_ms' | 'max_poll_interval_ms'>): number {
  return o.max_poll_interval_ms ?? Math.max(DEFAULT_MAX_POLL_INTERVAL_MS, o.poll_interval_ms);
}
