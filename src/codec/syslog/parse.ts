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
import { columnsOf, headerRuns } from './header-runs.js';
import { parsePri, PRI_MALFORMED } from './pri.js';
import { parse3164 } from './rfc3164.js';
import { looks5424, parse5424 } from './rfc5424.js';
import { DEFAULT_FRAC_DIGITS, defaultPri, ParseState, REUSE_NO, REUSE_YES } from './state.js';
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

/** True when bytes [a, a + n) and [b, b + n) of the view hold the same bytes (4 at a time). */
function sameBytes(dv: DataView, a: number, b: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) if (dv.getInt32(a + k) !== dv.getInt32(b + k)) return false;
  for (; k < n; k++) if (dv.getUint8(a + k) !== dv.getUint8(b + k)) return false;
  return true;
}

/** header-runs.ts: where the run it took over stopped. */
const TAKE_STOP = new Int32Array(1);
/** Records of a run taken over in JavaScript before the rest goes to the native reader. */
const RUN_BEFORE_NATIVE = 3;

/** Record i takes record j's fields, its offsets moved by `delta`; its message is data[ms, me). */
function copyRecord(f: RecordFields, j: number, i: number, delta: number, ms: number, me: number): void {
  f.pri[i] = f.pri[j]!;
  f.timeMs[i] = f.timeMs[j]!;
  f.tzMin[i] = f.tzMin[j]!;
  f.fracDigits[i] = f.fracDigits[j]!;
  f.host[i] = f.host[j]!;
  f.program[i] = f.program[j]!;
  const ps = f.pidStart[j]!;
  if (ps >= 0) {
    f.pidStart[i] = ps + delta;
    f.pidEnd[i] = f.pidEnd[j]! + delta;
  }
  const mi = f.msgidStart[j]!;
  if (mi >= 0) {
    f.msgidStart[i] = mi + delta;
    f.msgidEnd[i] = f.msgidEnd[j]! + delta;
  }
  const sd = f.sdStart[j]!;
  if (sd >= 0) {
    f.sdStart[i] = sd + delta;
    f.sdEnd[i] = f.sdEnd[j]! + delta;
  }
  f.msgStart[i] = ms;
  f.msgEnd[i] = me;
  f.flags[i] = f.flags[j]!;
  f.same[i] = j;
}

/**
 * Parses every record of the batch as a syslog message (RFC 5424 or RFC 3164 and variants).
 * What a message lacks comes from batch.meta: host (no hostname, or 5424 "-"), program (no tag;
 * a 5424 "-" APP-NAME gives ''), facility/severity (no PRI), time (no timestamp: meta.timeMs).
 *
 * Records of one sender mostly repeat the header of the one before (same second, host, program,
 * PID). When the last parsed header was read whole and alone (ParseState.reuse: "<" PRI, nothing
 * past it decided anything), a record that starts with the same bytes and has a message after
 * them takes its fields instead of being parsed: one byte compare instead of a parse.
 */
export function parseSyslogRecords(batch: Batch): RecordFields {
  const n = batch.count;
  const f = new RecordFields(n);
  const st = new ParseState(batch.data, f, batch.meta);
  st.fillDefaults();
  const ends = batch.ends;
  const data = batch.data;
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  // Once a run of records has taken a header over in JavaScript (RUN_BEFORE_NATIVE of them: a
  // call costs more than a few records), the rest of the run in one native call.
  const native = headerRuns();
  let cols: ArrayBufferView[] | undefined;
  let taken = 0;
  // The record whose header may be taken over: its index, start, header length, reuse kind.
  let hj = -1;
  let hs = 0;
  let hn = 0;
  let hk = REUSE_NO;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    let e = end;
    if (e > s && data[e - 1] === 0x0a) e--;
    if (hj >= 0) {
      // The message part as parseRecord() would trim it: it must not be empty.
      let te = e;
      while (te > s) {
        const c = data[te - 1];
        if (c === 0x0a || c === 0x0d || c === 0x00) te--;
        else break;
      }
      const ms = s + hn;
      if (
        te > ms &&
        sameBytes(dv, hs, s, hn) &&
        (hk === REUSE_YES || !(ms + 3 <= te && data[ms] === 0xef && data[ms + 1] === 0xbb && data[ms + 2] === 0xbf))
      ) {
        copyRecord(f, hj, i, s - hs, ms, te);
        s = end;
        if (native !== null && ++taken === RUN_BEFORE_NATIVE && i + 1 < n) {
          cols ??= columnsOf(f);
          native.take(data, ends, i + 1, n, hj, hs, hn, hk !== REUSE_YES, cols, TAKE_STOP);
          const x = TAKE_STOP[0]!;
          if (x > i + 1) {
            f.host.fill(f.host[hj]!, i + 1, x);
            f.program.fill(f.program[hj]!, i + 1, x);
            i = x - 1;
            s = ends[i]!;
          }
        }
        continue;
      }
    }
    st.reuse = REUSE_NO;
    parseRecord(st, s, e, end, i);
    hj = -1;
    taken = 0;
    if (st.reuse !== REUSE_NO && data[s] === 0x3c && (f.flags[i]! & RECORD_FLAG.MALFORMED) === 0 && f.msgStart[i]! < f.msgEnd[i]!) {
      hj = i;
      hs = s;
      hn = f.msgStart[i]! - s;
      hk = st.reuse;
    }
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
