// The native line-run writer (native/line_runs.c, built by `npm run build:native`):
// encodeSyslogRecords (format.ts) hands it runs of records whose lines repeat the prefix of the
// line before and end with their message, and it writes them in one call. Where it is not built,
// the JavaScript loop writes the same bytes.

import { optionalAddon } from '../../util/addon.js';

export interface LineRunsBinding {
  /** See native/line_runs.c: writes the run that starts at record i; returns the new end, stop[0] = the first record not written. */
  lines(
    out: Uint8Array,
    at: number,
    prevAt: number,
    prevLen: number,
    base: number,
    dataLen: number,
    ends: Uint32Array,
    msgStart: Uint32Array,
    msgEnd: Uint32Array,
    same: Int32Array,
    i: number,
    n: number,
    stop: Int32Array,
  ): number;
}

/** The calling convention of lines() (native/line_runs.c ABI): another build is not used. */
export const LINE_RUNS_ABI = 2;

const addon = optionalAddon<LineRunsBinding>('logship_fmt', 'native line writer', LINE_RUNS_ABI);

/** The addon, or null where it is not built (or switched off by setLineRuns). */
export const lineRuns = addon.get;

/** Test seam: null makes encodeSyslogRecords write every line in JavaScript; undefined restores the addon. */
export const setLineRuns = addon.set;
