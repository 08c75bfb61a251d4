// Syslog records of a batch → RecordFields (columnar, see core/records.ts). The entry points of
// codec/syslog for everything that needs a per-record field: filters, path templates, the syslog
// destination. Byte-based: no regex and no per-record string except interned host and program
// names. No I/O here.
//
//   record i = data[recordStart(i), textEnd(i)), then trailing "\r", "\n" and NUL trimmed
//   "<" → PRI (pri.ts) ──┬── "1 " + TIMESTAMP|"-" → RFC 5424 (rfc5424.ts)
//                        └── otherwise            → RFC 3164 and its variants (rfc3164.ts)
//   digits SP "<" → an octet count (loggen -P in a datagram) is skipped, then as above
//   no "<" → RFC 3164 without PRI (needs a timestamp, else not syslog)
//
// A record that does not parse (bad PRI, broken 5424 header, neither PRI nor timestamp) is kept:
// MALFORMED flag, its whole text as the message, the batch defaults for everything else.

import type { Batch } from '../../core/batch.js';
import { RECORD_FLAG, RecordFields } from '../../core/records.js';
import { parsePri, PRI_MALFORMED } from './pri.js';
import { parse3164 } from './rfc3164.js';
import { looks5424, parse5424 } from './rfc5424.js';
import { DEFAULT_FRAC_DIGITS, defaultPri, ParseState } from './state.js';
import { localOffsetMin } from './timestamp.js';

/**
 * Start of the message after an RFC 6587 §3.4.1 octet count at s ("200 <38>1 ..."), or s. loggen -P
 * sends one even in a UDP datagram; it is taken only when it is followed by "<" and counts the
 * rest of the record exactly (with or without its trailing "\r\n"/NULs), so text that merely
 * starts with a number is left alone.
 */
function skipOctetCount(data: Uint8Array, s: number, trimmedEnd: number, rawEnd: number): number {
  let q = s;
  let n = 0;
  while (q < trimmedEnd && q - s < 7) {
    const d = data[q]! - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    q++;
  }
  if (q === s || q + 1 >= trimmedEnd || data[q] !== 0x20 || data[q + 1] !== 0x3c) return s;
  const body = q + 1;
  return n >= trimmedEnd - body && n <= rawEnd - body ? body : s;
}

/** Parses one record into slot i: data[s, e) is its text, rawEnd its end with the terminator. */
function parseRecord(st: ParseState, s: number, e: number, rawEnd: number, i: number): void {
  const data = st.data;
  // Trailing "\n", "\r\n" and NULs (UDP senders, syslog-ng's "\n" in datagrams) are not MSG.
  while (e > s) {
    const c = data[e - 1];
    if (c === 0x0a || c === 0x0d || c === 0x00) e--;
    else break;
  }
  // Defaults are already in place (fillDefaults); the parsers set what the message has.
  const f = st.f;
  f.msgStart[i] = s;
  f.msgEnd[i] = e;
  let ok: boolean;
  let b = s;
  if (b < e && data[b] !== 0x3c && data[b]! <= 0x39) b = skipOctetCount(data, s, e, rawEnd);
  if (b < e && data[b] === 0x3c) {
    const r = parsePri(data, b, e);
    if (r === PRI_MALFORMED) ok = false;
    else {
      f.pri[i] = r & 0xff;
      const p = b + (r >> 8);
      ok = looks5424(data, p, e) ? parse5424(st, p, e, i, RECORD_FLAG.HAS_PRI) : parse3164(st, p, e, i, RECORD_FLAG.HAS_PRI);
    }
  } else ok = parse3164(st, s, e, i, 0);
  if (!ok) st.setDefaults(i, s, e, RECORD_FLAG.MALFORMED);
}

/**
 * Parses every record of the batch as a syslog message (RFC 5424 or RFC 3164 and variants).
 * What a message lacks comes from batch.meta: host (no hostname, or 5424 "-"), program (no tag;
 * a 5424 "-" APP-NAME gives ''), facility/severity (no PRI), time (no timestamp: meta.timeMs).
 */
export function parseSyslogRecords(batch: Batch): RecordFields {
  const n = batch.count;
  const f = new RecordFields(n);
  const st = new ParseState(batch.data, f, batch.meta);
  st.fillDefaults();
  const ends = batch.ends;
  const data = batch.data;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    let e = end;
    if (e > s && data[e - 1] === 0x0a) e--;
    parseRecord(st, s, e, end, i);
    s = end;
  }
  return f;
}

/** Fields of a batch whose records are not syslog: each record's text is the message, the rest is the meta. */
function fieldsFromMeta(batch: Batch): RecordFields {
  const n = batch.count;
  const f = new RecordFields(n);
  const meta = batch.meta;
  const pri = defaultPri(meta);
  const tz = localOffsetMin(meta.timeMs);
  f.pri.fill(pri);
  f.timeMs.fill(meta.timeMs);
  f.tzMin.fill(tz);
  f.fracDigits.fill(DEFAULT_FRAC_DIGITS);
  f.host.fill(meta.host);
  f.program.fill(meta.program);
  for (let i = 0; i < n; i++) {
    f.msgStart[i] = batch.recordStart(i);
    f.msgEnd[i] = batch.textEnd(i);
  }
  return f;
}

/**
 * The batch's per-record fields, parsed (meta.format 'syslog') or taken from the meta (any other
 * batch) on first call and cached in batch.fields: one code path for every consumer.
 */
export function recordFields(batch: Batch): RecordFields {
  let f = batch.fields;
  if (f === undefined || f.count !== batch.count) {
    f = batch.meta.format === 'syslog' ? parseSyslogRecords(batch) : fieldsFromMeta(batch);
    batch.fields = f;
  }
  return f;
}

/** Records flagged MALFORMED (did not parse as syslog). */
export function countMalformed(fields: RecordFields): number {
  const fl = fields.flags;
  let n = 0;
  for (let i = 0; i < fields.count; i++) if ((fl[i]! & RECORD_FLAG.MALFORMED) !== 0) n++;
  return n;
}
