// The native line-run writer (native/line_runs.c, built by `npm run build:native`):
// encodeSyslogRecords (format.ts) hands it runs of records whose lines repeat the prefix of the
// line before and end with their message, and it writes them in one call, or plans them (plan)
// for the file's write in the thread pool (append: the copies are made there, off the main
// thread). Where it is not built, the JavaScript loop writes the same bytes.

import { optionalAddon } from '../../util/addon.js';

/** The run's columns, where it starts and ends, and where the call reports its stop (lines() and plan()). */
export type RunArgs = [ends: Uint32Array, msgStart: Uint32Array, msgEnd: Uint32Array, same: Int32Array, i: number, n: number, stop: Int32Array];

export interface LineRunsBinding {
  /** See native/line_runs.c: writes the run that starts at record i; returns the new end, stop[0] = the first record not written. */
  lines(...args: [out: Uint8Array, at: number, prevAt: number, prevLen: number, base: number, dataLen: number, ...RunArgs]): number;
  /**
   * See native/line_runs.c: plans the run of `data` that starts at record i, for an output of
   * `cap` bytes, into `plan` from planAt (nothing written); returns the new end, stop[0] = the
   * first record not planned, stop[1] = the new planAt. `src`: the index of `data` in the append's sources.
   */
  plan(...args: [data: Uint8Array, cap: number, at: number, prevAt: number, prevLen: number, ...RunArgs, plan: Uint32Array, planAt: number, src: number]): number;
  /**
   * See native/line_runs.c: checks and copies plan[planFrom, planTo) (a RangeError when it breaks
   * the rules), then in the thread pool writes its lines into `out` and write(2)s out[start, end)
   * to fd in full; callback(null, bytes) or callback(error with its errno code).
   */
  append(...args: [...AppendArgs, callback: (err: NodeJS.ErrnoException | null, written?: number) => void]): void;
}

/** append()'s arguments before its callback. */
export type AppendArgs = [
  fd: number,
  out: Uint8Array,
  start: number,
  end: number,
  sources: readonly Uint8Array[],
  plan: Uint32Array,
  planFrom: number,
  planTo: number,
];

/** The calling convention of the addon (native/line_runs.c ABI): another build is not used. */
export const LINE_RUNS_ABI = 4;

const addon = optionalAddon<LineRunsBinding>('logship_fmt', 'native line writer', LINE_RUNS_ABI);

/** The addon, or null where it is not built (or switched off by setLineRuns). */
export const lineRuns = addon.get;

/** Test seam: null makes encodeSyslogRecords write every line in JavaScript; undefined restores the addon. */
export const setLineRuns = addon.set;

/**
 * Where encodeSyslogRecords plans its runs (instead of writing them): the plan, its end, and the
 * index of the batch's bytes among the sources of the file's append.
 */
export interface RunPlan {
  readonly plan: Uint32Array;
  at: number;
  src: number;
}

/**
 * Appends out[start, end) to fd after the lines of plan[planFrom, planTo) are copied into it from
 * `sources`, both in the thread pool (see append above). Resolves when all of it is written.
 */
export function appendPlanned(b: LineRunsBinding, ...args: AppendArgs): Promise<void> {
  return new Promise((resolve, reject) => {
    b.append(...args, (err) => (err === null ? resolve() : reject(err)));
  });
}
