// Options of a source's disk spool: the `spool` key of any source block except `file` (a file is
// its own buffer). Validation only; docs/config.md is generated from the descriptions.

import { z } from 'zod';

const MiB = 1024 * 1024;

/** Smallest segment: a segment holds its 8-byte header and at least one record. */
export const MIN_SEGMENT_BYTES = 4096;

export const spoolOptions = z
  .object({
    max_bytes: z
      .number()
      .int()
      .min(4 * MIN_SEGMENT_BYTES)
      .default(1024 * MiB)
      .describe(
        'Cap on the bytes of the spool\'s segment files on disk (the backlog not yet delivered, plus segments not yet deleted). ' +
          'At the cap, `when_full` decides.',
      ),
    when_full: z
      .enum(['block', 'drop-oldest'])
      .default('block')
      .describe(
        "At max_bytes: 'block' makes the source wait (a ship listener stops reading its peers, whose own files or spools then hold the data); " +
          "'drop-oldest' deletes the oldest segments not yet read and counts their records (event spool_dropped, logged as an error).",
      ),
    fsync: z
      .boolean()
      .default(true)
      .describe(
        'fdatasync each group of appended batches before they count as received (one sync covers every batch waiting for it). ' +
          'false: a batch counts as received once written; a host crash may lose the last ones, a process crash does not.',
      ),
    fsync_interval_ms: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(0)
      .describe(
        'With fsync: false, fdatasync the segment being written at most this long after a batch was written to it (like Vector\'s ' +
          'disk buffer), so a host crash loses at most the last fsync_interval_ms of batches. 0: never (the kernel writes back). ' +
          'Needs fsync: false (fsync: true syncs every batch before it counts as received).',
      ),
    segment_bytes: z
      .number()
      .int()
      .min(MIN_SEGMENT_BYTES)
      .max(1024 * MiB)
      .default(16 * MiB)
      .describe('Size of one segment file; a segment is deleted once every batch in it is delivered. At most max_bytes / 4.'),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.fsync && o.fsync_interval_ms > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['fsync_interval_ms'],
        message: 'fsync_interval_ms needs fsync: false (fsync: true already syncs every batch before it counts as received)',
      });
    }
    if (o.segment_bytes * 4 > o.max_bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['segment_bytes'],
        message: `segment_bytes (${o.segment_bytes}) must be at most max_bytes / 4 (${Math.floor(o.max_bytes / 4)}), so that whole segments can be freed at the cap`,
      });
    }
  })
  .describe('A disk spool in front of the source: batches are acknowledged once durable in it, then fed to the paths in order.');

export type SpoolOptions = z.output<typeof spoolOptions>;
