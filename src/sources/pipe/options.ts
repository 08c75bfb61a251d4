// Options of the pipe (named pipe, FIFO) source (zod schema; docs/config.md is generated from the
// descriptions). Validation only: no fs access here.

import { z } from 'zod';
import { localKeys } from '../unix-dgram/options.js';

export const pipeSourceOptions = z
  .object({
    type: z.literal('pipe').describe('Read newline-separated messages from a named pipe (FIFO) that any process can write to.'),
    path: z
      .string()
      .min(1)
      .describe(
        'Path of the named pipe, absolute or relative to the working directory. Created (mkfifo) if missing, and then removed on stop; ' +
          'an existing named pipe is used and left in place; anything else at the path stops the start.',
      ),
    ...localKeys('named pipe, applied when logship creates it', '0620'),
    program: z
      .string()
      .min(1)
      .optional()
      .describe("Program name of messages that carry no tag (every message with format 'raw'). Default: the pipe's base name without its last extension."),
    format: z
      .enum(['syslog', 'raw'])
      .default('syslog')
      .describe(
        "How to read each line: 'syslog' = the line is a syslog message (RFC 3164/5424) whose own PRI, timestamp, host and tag win; " +
          "'raw' = the line is the message, with this source's facility, severity and program.",
      ),
    max_line_bytes: z
      .number()
      .int()
      .min(16)
      .max(16 * 1024 * 1024)
      .default(65_536)
      .describe('Longest record, in bytes without its newline; longer lines are split into records of this size, and counted.'),
    partial_flush_ms: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe(
        'A line without its newline yet is held until the newline arrives (a line written in several parts is joined), ' +
          'or sent as a record after this long without new data. 0 = never send a partial line.',
      ),
  })
  .strict()
  .describe('Named pipe source: lines written by any number of writers, which may open and close the pipe at will.');

export type PipeSourceOptions = z.output<typeof pipeSourceOptions>;
