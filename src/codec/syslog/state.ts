// The state one batch parse shares between parse.ts, rfc3164.ts and rfc5424.ts: the batch's bytes,
// the RecordFields being filled, the defaults from the batch meta, and a reused time scratch.
// Built once per batch; nothing in it is per record. No I/O here.

import type { BatchMeta } from '../../core/batch.js';
import type { RecordFields } from '../../core/records.js';
import { localOffsetMin, localYear, TimeScratch } from './timestamp.js';

export const SP = 0x20;

/** ParseState.reuse: the header cannot be taken over / can / can when no BOM follows it. */
export const REUSE_NO = 0;
export const REUSE_YES = 1;
export const REUSE_BOM = 2;

export class ParseState {
  readonly data: Buffer;
  readonly f: RecordFields;
  /** Defaults for what a message lacks (from the batch meta). */
  readonly defHost: string;
  readonly defProgram: string;
  readonly defPri: number;
  readonly defMs: number;
  readonly defTz: number;
  /** Reception time: "now" for the year of RFC 3164 timestamps. */
  readonly nowMs: number;
  readonly nowYear: number;
  readonly t: TimeScratch;
  /**
   * Set by the header parsers when the record's header, data[start, msgStart), was read whole and
   * alone: nothing past it decided the outcome except that the record goes on (parse.ts then
   * lets the next records that start with the same bytes take the same fields). REUSE_BOM: also
   * that no UTF-8 BOM starts the message (RFC 5424 without one).
   */
  reuse: number;

  constructor(data: Buffer, f: RecordFields, meta: BatchMeta) {
    this.data = data;
    this.f = f;
    this.defHost = meta.host;
    this.defProgram = meta.program;
    this.defPri = defaultPri(meta);
    this.defMs = meta.timeMs;
    this.defTz = localOffsetMin(meta.timeMs);
    this.nowMs = meta.timeMs;
    this.nowYear = localYear(meta.timeMs);
    this.t = new TimeScratch();
    this.reuse = REUSE_NO;
  }

  /** Fills every record's host, program, PRI and time with the defaults (the parsers overwrite what a message has). */
  fillDefaults(): void {
    const f = this.f;
    f.pri.fill(this.defPri);
    f.timeMs.fill(this.defMs);
    f.tzMin.fill(this.defTz);
    f.fracDigits.fill(DEFAULT_FRAC_DIGITS);
    f.host.fill(this.defHost);
    f.program.fill(this.defProgram);
  }

  /** Record i back to the defaults, its message = data[s, e), with `flags` (a record that did not parse). */
  setDefaults(i: number, s: number, e: number, flags: number): void {
    const f = this.f;
    f.pri[i] = this.defPri;
    f.timeMs[i] = this.defMs;
    f.tzMin[i] = this.defTz;
    f.fracDigits[i] = DEFAULT_FRAC_DIGITS;
    f.host[i] = this.defHost;
    f.program[i] = this.defProgram;
    f.pidStart[i] = -1;
    f.pidEnd[i] = -1;
    f.msgidStart[i] = -1;
    f.msgidEnd[i] = -1;
    f.sdStart[i] = -1;
    f.sdEnd[i] = -1;
    f.msgStart[i] = s;
    f.msgEnd[i] = e;
    f.flags[i] = flags;
  }
}

/** Reception times are ms: re-emitted with 3 digits of fraction. */
export const DEFAULT_FRAC_DIGITS = 3;

/** The batch meta's facility/severity as a PRIVAL, clamped into range. */
export function defaultPri(meta: BatchMeta): number {
  const fac = Number.isInteger(meta.facility) && meta.facility >= 0 && meta.facility <= 23 ? meta.facility : 1;
  const sev = Number.isInteger(meta.severity) && meta.severity >= 0 && meta.severity <= 7 ? meta.severity : 5;
  return fac * 8 + sev;
}
