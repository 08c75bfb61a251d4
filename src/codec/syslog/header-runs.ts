// The native header-run reader (native/header_runs.c, built by `npm run build:native`):
// parseSyslogRecords (parse.ts) hands it the records after one that took a header over, and it
// takes the same header over for each of them that repeats it, in one call. Where it is not
// built, the JavaScript loop does the same.

import type { RecordFields } from '../../core/records.js';
import { optionalAddon } from '../../util/addon.js';

export interface HeaderRunsBinding {
  /** See native/header_runs.c: records i.. take record hj's fields while they repeat its header; stop[0] = the first that does not. */
  take(
    data: Uint8Array,
    ends: Uint32Array,
    i: number,
    n: number,
    hj: number,
    hs: number,
    hn: number,
    bomMatters: boolean,
    cols: readonly ArrayBufferView[],
    stop: Int32Array,
  ): void;
}

/** The columns of `f` in the order header_runs.c takes them. */
export function columnsOf(f: RecordFields): ArrayBufferView[] {
  return [f.pri, f.timeMs, f.tzMin, f.fracDigits, f.pidStart, f.pidEnd, f.msgidStart, f.msgidEnd, f.sdStart, f.sdEnd, f.msgStart, f.msgEnd, f.flags, f.same];
}

/** The calling convention of take() (native/header_runs.c ABI): another build is not used. */
export const HEADER_RUNS_ABI = 1;

const addon = optionalAddon<HeaderRunsBinding>('logship_parse', 'native header reader', HEADER_RUNS_ABI);

/** The addon, or null where it is not built (or switched off by setHeaderRuns). */
export const headerRuns = addon.get;

/** Test seam: null makes parseSyslogRecords take every header over in JavaScript; undefined restores the addon. */
export const setHeaderRuns = addon.set;
