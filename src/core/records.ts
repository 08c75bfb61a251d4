// Per-record syslog fields, columnar: one typed array (or string array) per field, one slot per
// record of a batch. Filled by codec/syslog's parser, only for batches whose records are syslog
// messages and only when something needs a per-record field (a filter, a template, syslog output).
//
//   record i of batch.data:  <PRI>VERSION TIMESTAMP HOST APP PROCID MSGID [SD] MSG
//                                                   |    |    |      |     |    |
//   host[i] program[i] (strings)   pidStart/End  msgidStart/End  sdStart/End  msgStart/End
//   (offsets are into batch.data; -1 = absent / nil "-")

export const RECORD_FLAG = {
  /** Parsed as RFC 5424. */
  RFC5424: 1,
  /** Did not parse as syslog: the whole record is the message, defaults for the rest. */
  MALFORMED: 2,
  /** The message carried its own timestamp (else timeMs is the reception time). */
  HAS_TIME: 4,
  /** The message carried its own hostname (else host is the sender's). */
  HAS_HOST: 8,
  /** The message carried a PRI (else facility/severity are the source's defaults). */
  HAS_PRI: 16,
} as const;

export class RecordFields {
  readonly count: number;
  /** facility * 8 + severity. */
  readonly pri: Uint8Array;
  /** Timestamp, ms since the epoch (UTC). */
  readonly timeMs: Float64Array;
  /** Timezone offset of the original timestamp in minutes east of UTC (for faithful re-output); 0 when absent. */
  readonly tzMin: Int16Array;
  /** Fraction digits of the original timestamp (0–6), to re-emit the same precision. */
  readonly fracDigits: Uint8Array;
  readonly host: string[];
  readonly program: string[];
  readonly pidStart: Int32Array;
  readonly pidEnd: Int32Array;
  readonly msgidStart: Int32Array;
  readonly msgidEnd: Int32Array;
  readonly sdStart: Int32Array;
  readonly sdEnd: Int32Array;
  readonly msgStart: Uint32Array;
  readonly msgEnd: Uint32Array;
  readonly flags: Uint8Array;
  /**
   * The record whose header this one repeats byte for byte (the parser took its fields over: same
   * PRI, time, host, program, PID, MSGID and SD), or -1. Records with the same `same` render alike
   * up to their message (destinations/file/format.ts writes such runs in one native call).
   */
  readonly same: Int32Array;

  constructor(count: number) {
    this.count = count;
    // One backing buffer for every numeric column (a batch's records are parsed and dropped
    // together): one allocation instead of thirteen, which matters for the GC when batches are
    // small (many senders). Widest columns first, so each view is aligned.
    //   | timeMs f64 | pidStart pidEnd msgidStart msgidEnd sdStart sdEnd i32 | msgStart msgEnd u32 | tzMin i16 | pri fracDigits flags u8 |
    const ab = new ArrayBuffer(count * 49);
    let at = 0;
    this.timeMs = new Float64Array(ab, at, count);
    at += count * 8;
    const offsets = new Int32Array(ab, at, count * 7).fill(-1);
    this.pidStart = offsets.subarray(0, count);
    this.pidEnd = offsets.subarray(count, 2 * count);
    this.msgidStart = offsets.subarray(2 * count, 3 * count);
    this.msgidEnd = offsets.subarray(3 * count, 4 * count);
    this.sdStart = offsets.subarray(4 * count, 5 * count);
    this.sdEnd = offsets.subarray(5 * count, 6 * count);
    this.same = offsets.subarray(6 * count, 7 * count);
    at += count * 28;
    this.msgStart = new Uint32Array(ab, at, count);
    at += count * 4;
    this.msgEnd = new Uint32Array(ab, at, count);
    at += count * 4;
    this.tzMin = new Int16Array(ab, at, count);
    at += count * 2;
    this.pri = new Uint8Array(ab, at, count);
    at += count;
    this.fracDigits = new Uint8Array(ab, at, count);
    at += count;
    this.flags = new Uint8Array(ab, at, count);
    this.host = new Array<string>(count).fill('');
    this.program = new Array<string>(count).fill('');
  }

  facility(i: number): number {
    return this.pri[i]! >> 3;
  }

  severity(i: number): number {
    return this.pri[i]! & 7;
  }
}
