// RecordFields → syslog message bytes, one record at a time into a BufferWriter (no framing: the
// caller adds "\n" or an RFC 6587 octet count). What was parsed is preserved: PRI, timestamp with
// its precision and offset, host, app, procid, msgid, SD and MSG bytes verbatim. Records that
// were not syslog (raw file lines) carry the batch meta in their fields, so they need no special
// case. No I/O here.
//
// RFC 5424 (§6): <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP [BOM] MSG]
//   - TIMESTAMP: the record's time at its own offset ("Z" for offset 0), its own fraction digits.
//     A message that had no timestamp gets its reception time (never "-": a relay knows it).
//   - Header fields are cut to the §6 lengths (255/48/128/32) and any byte outside PRINTUSASCII
//     (33..126) becomes '_'; empty ones are "-". A BOM the parser skipped is written back.
//
// RFC 3164 (§4.1): <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG
//   - The time is written as the wall clock at the record's own offset: for a 3164 input that is
//     exactly what the sender wrote, for raw lines the local time of this process (RFC 3164 has
//     no zone; receivers read it as their local time, as they do from any 3164 sender).
//   - TAG is the program cut to 48 bytes (5424's APP-NAME limit; RFC 3164's 32 cuts real names
//     such as systemd units) with SP, ':', '[' and ']' made '_'; "-" when empty. SD is dropped.

import type { Batch } from '../../core/batch.js';
import { RECORD_FLAG, type RecordFields } from '../../core/records.js';
import type { BufferWriter } from '../../util/buffer-writer.js';
import { writePri } from './pri.js';
import { writeBsdTime, writeRfc3339 } from './timestamp.js';

export type SyslogFormat = 'rfc5424' | 'rfc3164';

/** RFC 5424 §6 field lengths. */
export const MAX_HOSTNAME = 255;
export const MAX_APP_NAME = 48;
export const MAX_PROCID = 128;
export const MAX_MSGID = 32;

const SP = 0x20;
const NIL = 0x2d;
const UNDERSCORE = 0x5f;

/** A header string: PRINTUSASCII only, at most `max` bytes, "-" when empty. */
function writeName(out: BufferWriter, s: string, max: number, tag: boolean): void {
  const n = s.length < max ? s.length : max;
  if (n === 0) {
    out.byte(NIL);
    return;
  }
  out.reserve(n);
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    const bad = c <= SP || c >= 0x7f || (tag && (c === 0x3a || c === 0x5b || c === 0x5d));
    out.byte(bad ? UNDERSCORE : c);
  }
}

/** A header token from the record bytes, or "-" when absent. */
function writeToken(out: BufferWriter, data: Uint8Array, s: number, e: number, max: number, pid: boolean): void {
  if (s < 0 || e <= s) {
    out.byte(NIL);
    return;
  }
  const end = e - s > max ? s + max : e;
  out.reserve(end - s);
  for (let k = s; k < end; k++) {
    const c = data[k]!;
    out.byte(c <= SP || c >= 0x7f || (pid && c === 0x5d) ? UNDERSCORE : c);
  }
}

/** Record i of `batch` as an RFC 5424 message (no framing). */
export function formatRfc5424(batch: Batch, fields: RecordFields, i: number, out: BufferWriter): void {
  const data = batch.data;
  writePri(out, fields.pri[i]!);
  out.byte(0x31);
  out.byte(SP);
  writeRfc3339(out, fields.timeMs[i]!, fields.tzMin[i]!, fields.fracDigits[i]!);
  out.byte(SP);
  writeName(out, fields.host[i]!, MAX_HOSTNAME, false);
  out.byte(SP);
  writeName(out, fields.program[i]!, MAX_APP_NAME, false);
  out.byte(SP);
  writeToken(out, data, fields.pidStart[i]!, fields.pidEnd[i]!, MAX_PROCID, false);
  out.byte(SP);
  writeToken(out, data, fields.msgidStart[i]!, fields.msgidEnd[i]!, MAX_MSGID, false);
  out.byte(SP);
  const sdS = fields.sdStart[i]!;
  const sdE = fields.sdEnd[i]!;
  if (sdS >= 0 && sdE > sdS) out.bytes(data, sdS, sdE);
  else out.byte(NIL);
  const ms = fields.msgStart[i]!;
  const me = fields.msgEnd[i]!;
  const bom =
    (fields.flags[i]! & RECORD_FLAG.RFC5424) !== 0 &&
    ms >= 4 &&
    data[ms - 4] === SP &&
    data[ms - 3] === 0xef &&
    data[ms - 2] === 0xbb &&
    data[ms - 1] === 0xbf;
  if (me > ms || bom) {
    out.byte(SP);
    if (bom) out.bytes(data, ms - 3, ms);
    out.bytes(data, ms, me);
  }
}

/** Record i of `batch` as an RFC 3164 message (no framing). */
export function formatRfc3164(batch: Batch, fields: RecordFields, i: number, out: BufferWriter): void {
  const data = batch.data;
  writePri(out, fields.pri[i]!);
  writeBsdTime(out, fields.timeMs[i]!, fields.tzMin[i]!);
  out.byte(SP);
  writeName(out, fields.host[i]!, MAX_HOSTNAME, false);
  out.byte(SP);
  writeName(out, fields.program[i]!, MAX_APP_NAME, true);
  const ps = fields.pidStart[i]!;
  const pe = fields.pidEnd[i]!;
  if (ps >= 0 && pe > ps) {
    out.byte(0x5b);
    writeToken(out, data, ps, pe, MAX_PROCID, true);
    out.byte(0x5d);
  }
  out.byte(0x3a);
  const ms = fields.msgStart[i]!;
  const me = fields.msgEnd[i]!;
  if (me > ms) {
    out.byte(SP);
    out.bytes(data, ms, me);
  }
}

/** Record i in the given format (no framing). */
export function formatRecord(format: SyslogFormat, batch: Batch, fields: RecordFields, i: number, out: BufferWriter): void {
  if (format === 'rfc5424') formatRfc5424(batch, fields, i, out);
  else formatRfc3164(batch, fields, i, out);
}
