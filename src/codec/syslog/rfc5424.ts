// RFC 5424 §6 header after the PRI, bytes → RecordFields:
//
//   VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
//   "1"        "-" | RFC 3339 ... each "-" (NILVALUE) or a token      "-" | 1*SD-ELEMENT
//
// SD-ELEMENT = "[" SD-ID *(SP PARAM-NAME '="' PARAM-VALUE '"') "]", where a PARAM-VALUE escapes
// '"', '\' and ']' with '\' (§6.3.3); the SD bytes are kept verbatim (offsets), not decoded.
// MSG starting with the UTF-8 BOM (§6.4) starts after it. Field lengths are not enforced here
// (the formatter does); a missing field or a broken SD makes the record malformed. No I/O here.

import { RECORD_FLAG } from '../../core/records.js';
import { HASH_PRIME, HASH_SEED, intern } from './intern.js';
import { REUSE_BOM, REUSE_YES, SP, type ParseState } from './state.js';
import { parseRfc3339 } from './timestamp.js';

const NIL = 0x2d; // '-'

/** True when data[p..] reads as a 5424 header: VERSION "1", SP, then a NILVALUE or a digit. */
export function looks5424(data: Uint8Array, p: number, e: number): boolean {
  if (p + 3 > e || data[p] !== 0x31 || data[p + 1] !== SP) return false;
  const c = data[p + 2]!;
  return c === NIL || (c >= 0x30 && c <= 0x39);
}

/** End of the SP-delimited token at p (p < e), or -1 when it is empty. */
function tokenEnd(data: Uint8Array, p: number, e: number): number {
  let q = p;
  while (q < e && data[q] !== SP) q++;
  return q === p ? -1 : q;
}

/** End of the SD at p ("[" ...), or -1 when an element is not closed. */
function sdEnd(data: Uint8Array, p: number, e: number): number {
  while (p < e && data[p] === 0x5b) {
    p++;
    let quoted = false;
    for (;;) {
      if (p >= e) return -1;
      const c = data[p]!;
      if (quoted) {
        if (c === 0x5c) p++; // '\' escapes the next byte
        else if (c === 0x22) quoted = false;
      } else if (c === 0x22) quoted = true;
      else if (c === 0x5d) break;
      p++;
    }
    p++; // past ']'
  }
  return p;
}

/**
 * Parses record i's header at p (the VERSION, right after the PRI) up to e. Returns false when
 * it does not follow §6 (the caller then marks the record malformed). `flags` are those found so far.
 */
export function parse5424(st: ParseState, p: number, e: number, i: number, flags: number): boolean {
  const data = st.data;
  const f = st.f;
  flags |= RECORD_FLAG.RFC5424;
  p += 2; // "1 "

  // TIMESTAMP
  if (data[p] === NIL && (p + 1 === e || data[p + 1] === SP)) {
    p++;
  } else {
    const q = parseRfc3339(data, p, e, st.t);
    if (q < 0) return false;
    p = q;
    f.timeMs[i] = st.t.ms;
    f.tzMin[i] = st.t.tzMin;
    f.fracDigits[i] = st.t.frac;
    flags |= RECORD_FLAG.HAS_TIME;
  }
  if (p >= e || data[p] !== SP) return false;
  p++;

  // HOSTNAME (hashed while scanning, for interning)
  let h = HASH_SEED;
  let q = p;
  for (; q < e; q++) {
    const c = data[q]!;
    if (c === SP) break;
    h = Math.imul(h ^ c, HASH_PRIME);
  }
  if (q === p || q >= e) return false;
  if (!(q === p + 1 && data[p] === NIL)) {
    f.host[i] = intern(data, p, q, h);
    flags |= RECORD_FLAG.HAS_HOST;
  }
  p = q + 1;

  // APP-NAME
  h = HASH_SEED;
  for (q = p; q < e; q++) {
    const c = data[q]!;
    if (c === SP) break;
    h = Math.imul(h ^ c, HASH_PRIME);
  }
  if (q === p || q >= e) return false;
  f.program[i] = q === p + 1 && data[p] === NIL ? '' : intern(data, p, q, h);
  p = q + 1;

  // PROCID
  q = tokenEnd(data, p, e);
  if (q < 0 || q >= e) return false;
  if (!(q === p + 1 && data[p] === NIL)) {
    f.pidStart[i] = p;
    f.pidEnd[i] = q;
  }
  p = q + 1;

  // MSGID
  q = tokenEnd(data, p, e);
  if (q < 0 || q >= e) return false;
  if (!(q === p + 1 && data[p] === NIL)) {
    f.msgidStart[i] = p;
    f.msgidEnd[i] = q;
  }
  p = q + 1;

  // STRUCTURED-DATA
  if (p >= e) return false;
  if (data[p] === NIL) {
    q = p + 1;
  } else if (data[p] === 0x5b) {
    q = sdEnd(data, p, e);
    if (q < 0) return false;
    f.sdStart[i] = p;
    f.sdEnd[i] = q;
  } else return false;

  // [SP MSG]
  if (q === e) {
    f.msgStart[i] = e;
  } else if (data[q] === SP) {
    q++;
    // Only the BOM test reads past the header (see ParseState.reuse).
    if (q + 3 <= e && data[q] === 0xef && data[q + 1] === 0xbb && data[q + 2] === 0xbf) {
      q += 3;
      st.reuse = REUSE_YES;
    } else st.reuse = REUSE_BOM;
    f.msgStart[i] = q;
  } else return false;
  f.msgEnd[i] = e;
  f.flags[i] = flags;
  return true;
}
