// RFC 3164 §4.1 header after the PRI, bytes → RecordFields, as real senders write it:
//
//   TIMESTAMP SP [HOSTNAME SP] TAG ["[" PID "]"] [":"] [SP] MSG
//
//   TIMESTAMP  "Mmm dd hh:mm:ss" (§4.1.2; "Nov  3", "Nov 3", a year, a fraction) or RFC 3339
//              (rsyslog's RSYSLOG_ForwardFormat, loggen, journald files; local zone if none)
//   HOSTNAME   absent when the first word is tag-shaped ("app:", "app[12]:", "app[12]"): that is
//              what logger and libc send to /dev/log. A one-word remainder is the message.
//   TAG        up to ':', '[' or SP; rsyslog forwards "host app[12] msg" and "host app msg" (no
//              colon), so after a hostname the first word is the tag whatever ends it.
//
// Without a timestamp (§4.3.2: a relay treats it as having none) the record still parses when it
// had a PRI: no host, a tag only if tag-shaped. Without PRI and timestamp it is not syslog: the
// caller marks it malformed. No I/O here.

import { RECORD_FLAG } from '../../core/records.js';
import { HASH_PRIME, HASH_SEED, intern, MAX_INTERN_BYTES } from './intern.js';
import { REUSE_YES, SP, type ParseState } from './state.js';
import { parseBsdTime, parseRfc3339 } from './timestamp.js';

const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
/** Longest tag (program name) taken; RFC 3164 says 32, real programs go beyond. */
export const MAX_TAG_BYTES = MAX_INTERN_BYTES;
/** Longest PID taken between the brackets. */
const MAX_PID_BYTES = 32;

/**
 * Reads TAG[PID][:] at p into record i. `strict`: only a tag-shaped word counts ("app:" then SP or
 * end, "app[pid]" then ':' SP or end); else the first word is the tag whatever ends it.
 * Returns where MSG starts, or -1 when there is no tag (nothing written).
 */
function readTag(st: ParseState, p: number, e: number, i: number, strict: boolean): number {
  const data = st.data;
  let h = HASH_SEED;
  let q = p;
  const lim = Math.min(e, p + MAX_TAG_BYTES);
  let c = -1;
  for (; q < lim; q++) {
    c = data[q]!;
    if (c === COLON || c === LBRACKET || c === SP) break;
    h = Math.imul(h ^ c, HASH_PRIME);
  }
  if (q === p) return -1;
  if (q === lim && q < e) return -1; // too long for a tag
  let m: number;
  let pidS = -1;
  let pidE = -1;
  if (q === e) {
    if (strict) return -1;
    m = e;
  } else if (c === SP) {
    if (strict) return -1;
    m = q + 1;
  } else if (c === COLON) {
    m = q + 1;
    if (m < e && data[m] === SP) m++;
    else if (strict && m < e) return -1;
  } else {
    // '[': a PID up to ']' (no SP inside)
    let r = q + 1;
    const rl = Math.min(e, r + MAX_PID_BYTES + 1);
    while (r < rl && data[r] !== RBRACKET && data[r] !== SP) r++;
    if (r >= rl || data[r] !== RBRACKET) return -1;
    pidS = q + 1;
    pidE = r;
    m = r + 1;
    if (m < e) {
      const d = data[m];
      if (d === COLON) {
        m++;
        if (m < e && data[m] === SP) m++;
      } else if (d === SP) m++;
      else return -1;
    }
  }
  st.f.program[i] = intern(data, p, q, h);
  if (pidS >= 0 && pidE > pidS) {
    st.f.pidStart[i] = pidS;
    st.f.pidEnd[i] = pidE;
  }
  return m;
}

/**
 * Parses record i from p (just after the PRI, or the record start when it had none) to e.
 * Fields the message lacks keep their defaults (already set). Returns false when the record is
 * not syslog at all (no PRI and no timestamp).
 */
export function parse3164(st: ParseState, p: number, e: number, i: number, flags: number): boolean {
  const data = st.data;
  const f = st.f;
  const t = st.t;
  // TIMESTAMP
  let q = -1;
  if (p < e) {
    const c = data[p]!;
    if (c >= 0x30 && c <= 0x39) q = parseRfc3339(data, p, e, t);
    else q = parseBsdTime(data, p, e, st.nowMs, st.nowYear, t);
    if (q >= 0 && q < e && data[q] !== SP) q = -1;
  }
  if (q < 0) {
    if ((flags & RECORD_FLAG.HAS_PRI) === 0) return false;
    const m = p < e ? readTag(st, p, e, i, true) : -1;
    f.msgStart[i] = m >= 0 ? m : p;
    f.flags[i] = flags;
    return true;
  }
  f.timeMs[i] = t.ms;
  f.tzMin[i] = t.tzMin;
  f.fracDigits[i] = t.frac;
  flags |= RECORD_FLAG.HAS_TIME;
  p = q;
  while (p < e && data[p] === SP) p++;

  // HOSTNAME or TAG: scan the first word, noting a ':' or '[' (a tag's shape)
  let h = HASH_SEED;
  let special = false;
  for (q = p; q < e; q++) {
    const c = data[q]!;
    if (c === SP) break;
    if (c === COLON || c === LBRACKET) special = true;
    h = Math.imul(h ^ c, HASH_PRIME);
  }
  if (special) {
    const m = readTag(st, p, e, i, true);
    if (m >= 0) {
      f.msgStart[i] = m;
      f.flags[i] = flags;
      return true;
    }
  }
  if (q === e) {
    // nothing, or one word that is no tag: the message
    f.msgStart[i] = p;
    f.flags[i] = flags;
    return true;
  }
  f.host[i] = intern(data, p, q, h);
  flags |= RECORD_FLAG.HAS_HOST;
  p = q + 1;
  while (p < e && data[p] === SP) p++;
  const m = p < e ? readTag(st, p, e, i, false) : -1;
  f.msgStart[i] = m >= 0 ? m : p;
  f.flags[i] = flags;
  // TIMESTAMP HOSTNAME TAG ending in SP: every byte read lies before m (see ParseState.reuse).
  if (m > p && data[m - 1] === SP) st.reuse = REUSE_YES;
  return true;
}
