// Syslog timestamps, bytes ↔ ms: RFC 3339 / RFC 5424 §6.2.3 TIMESTAMP, the RFC 3164 §4.1.2
// "Mmm dd hh:mm:ss" form with its inferred year, and the writers for both. Pure arithmetic on
// bytes (days-from-civil), no Date object per record; the process's local zone is asked once per
// 15 minutes of time (offsets change on quarter hours at most). No I/O here.
//
// Times are ms since the epoch as a double that keeps microseconds as a fraction: at today's
// epoch values the double's step is 0.24 µs, so Math.round(ms * 1000) gives the µs back exactly.

import type { BufferWriter } from '../../util/buffer-writer.js';

const MS_PER_DAY = 86_400_000;
const MS_PER_QUARTER = 900_000;
/** A 3164 date that would lie further than this in the future is taken to be from last year. */
export const FUTURE_SLACK_MS = MS_PER_DAY;

/** Result of a timestamp parse: one instance reused for every record of a batch. */
export class TimeScratch {
  /** ms since the epoch (UTC), with µs as fraction. */
  ms: number;
  /** Offset of the written time, minutes east of UTC (the local zone's when it had none). */
  tzMin: number;
  /** Digits of fraction written (0..6; more are read but cut to 6). */
  frac: number;

  constructor() {
    this.ms = 0;
    this.tzMin = 0;
    this.frac = 0;
  }
}

/** Days since 1970-01-01 of a proleptic Gregorian date, month 1..12 (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const key = (y * 16 + m) * 32 + d;
  if (key === _dfcKey) return _dfcDays;
  _dfcKey = key;
  _dfcDays = daysFromCivilUncached(y, m, d);
  return _dfcDays;
}

// Records of a batch mostly share their date: remember the last one.
let _dfcKey = -1;
let _dfcDays = 0;

function daysFromCivilUncached(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

// ---- local zone ------------------------------------------------------------------------------

// Direct-mapped by quarter hour: a relay's senders disagree by minutes to hours, and a cache of
// one entry would then ask the zone (a Date and a tz lookup, ~1 µs) on almost every record.
const ZONE_SLOTS = 64;
const _zoneKeys = new Float64Array(ZONE_SLOTS).fill(Number.NaN);
const _zoneOffs = new Int16Array(ZONE_SLOTS);

/** Offset of the process's local zone at `utcMs`, minutes east of UTC (cached per quarter hour). */
export function localOffsetMin(utcMs: number): number {
  const k = Math.floor(utcMs / MS_PER_QUARTER);
  const slot = k & (ZONE_SLOTS - 1);
  if (_zoneKeys[slot] !== k) {
    _zoneKeys[slot] = k;
    _zoneOffs[slot] = -new Date(k * MS_PER_QUARTER).getTimezoneOffset();
  }
  return _zoneOffs[slot]!;
}

/** Forgets the cached zone offsets (tests that change process.env.TZ). */
export function resetZoneCache(): void {
  _zoneKeys.fill(Number.NaN);
}

/** A local wall-clock time (its fields read as if UTC) → UTC ms. Two passes settle DST edges. */
export function localWallToUtc(wallMs: number): number {
  const off1 = localOffsetMin(wallMs);
  const guess = wallMs - off1 * 60_000;
  const off2 = localOffsetMin(guess);
  return off2 === off1 ? guess : wallMs - off2 * 60_000;
}

/** Local calendar year at `utcMs`. */
export function localYear(utcMs: number): number {
  const wall = utcMs + localOffsetMin(utcMs) * 60_000;
  return yearOfDays(Math.floor(wall / MS_PER_DAY));
}

function yearOfDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

// ---- parsing ---------------------------------------------------------------------------------

function digit(data: Uint8Array, p: number): number {
  const v = data[p]! - 0x30;
  return v >= 0 && v <= 9 ? v : -1;
}

function two(data: Uint8Array, p: number): number {
  const a = data[p]! - 0x30;
  const b = data[p + 1]! - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Time of day found by the last timeOfDay(), ms with µs fraction (a second return value without an object). */
let _tod = 0;

/** Reads "hh:mm:ss[.frac]" at p: returns the position after it, or -1. Sets out.frac and `_tod`. */
function timeOfDay(data: Uint8Array, p: number, e: number, out: TimeScratch): number {
  if (p + 8 > e || data[p + 2] !== 0x3a || data[p + 5] !== 0x3a) return -1;
  const hh = two(data, p);
  const mi = two(data, p + 3);
  const ss = two(data, p + 6);
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return -1;
  p += 8;
  let micro = 0;
  let nf = 0;
  if (p < e && data[p] === 0x2e) {
    p++;
    for (; p < e; p++) {
      const v = digit(data, p);
      if (v < 0) break;
      if (nf < 6) micro = micro * 10 + v;
      nf++;
    }
    if (nf === 0) return -1;
    for (let k = nf; k < 6; k++) micro *= 10;
  }
  out.frac = nf > 6 ? 6 : nf;
  // A leap second (ss = 60) lands on the next second's first instant.
  _tod = (hh * 3600 + mi * 60 + ss) * 1000 + micro / 1000;
  return p;
}

/**
 * RFC 3339 (RFC 5424 §6.2.3): "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)" at p. Lenient where senders
 * are: lower-case t/z, ±hhmm, and no offset at all (loggen, journald files) = the local zone.
 * Returns the position after the timestamp, or -1.
 */
export function parseRfc3339(data: Uint8Array, p: number, e: number, out: TimeScratch): number {
  if (p + 19 > e || data[p + 4] !== 0x2d || data[p + 7] !== 0x2d) return -1;
  const t = data[p + 10];
  if (t !== 0x54 && t !== 0x74) return -1;
  const yh = two(data, p);
  const yl = two(data, p + 2);
  const y = yh * 100 + yl;
  const mo = two(data, p + 5);
  const d = two(data, p + 8);
  if (yh < 0 || yl < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo]! || (mo === 2 && d === 29 && !isLeap(y))) return -1;
  const q = timeOfDay(data, p + 11, e, out);
  if (q < 0) return -1;
  const wall = daysFromCivil(y, mo, d) * MS_PER_DAY + _tod;
  if (q === e) return zoneless(wall, q, out);
  const z = data[q];
  if (z === 0x5a || z === 0x7a) {
    out.ms = wall;
    out.tzMin = 0;
    return q + 1;
  }
  if (z !== 0x2b && z !== 0x2d) return zoneless(wall, q, out);
  const oh = q + 3 <= e ? two(data, q + 1) : -1;
  if (oh < 0 || oh > 23) return -1;
  let r = q + 3;
  if (r < e && data[r] === 0x3a) r++;
  const om = r + 2 <= e ? two(data, r) : -1;
  if (om < 0 || om > 59) return -1;
  const off = (oh * 60 + om) * (z === 0x2d ? -1 : 1);
  out.ms = wall - off * 60_000;
  out.tzMin = off;
  return r + 2;
}

function zoneless(wall: number, q: number, out: TimeScratch): number {
  out.ms = localWallToUtc(wall);
  out.tzMin = localOffsetMin(out.ms);
  return q;
}

/** "jan".."dec" in any case → 1..12, else 0. */
export function monthOf(data: Uint8Array, p: number): number {
  const k = ((data[p]! | 0x20) << 16) | ((data[p + 1]! | 0x20) << 8) | (data[p + 2]! | 0x20);
  switch (k) {
    case 0x6a616e: return 1; // jan
    case 0x666562: return 2; // feb
    case 0x6d6172: return 3; // mar
    case 0x617072: return 4; // apr
    case 0x6d6179: return 5; // may
    case 0x6a756e: return 6; // jun
    case 0x6a756c: return 7; // jul
    case 0x617567: return 8; // aug
    case 0x736570: return 9; // sep
    case 0x6f6374: return 10; // oct
    case 0x6e6f76: return 11; // nov
    case 0x646563: return 12; // dec
    default: return 0;
  }
}

/**
 * RFC 3164 §4.1.2 "Mmm dd hh:mm:ss" at p, in the local zone, with the variants seen in the wild:
 * an unpadded day ("Nov 3"), a year before the time ("Nov 23 2026 10:00:00", Cisco/Juniper) and
 * a fraction after the seconds. Without a year: the local year at `nowMs`, or the one before when
 * that would put the date more than FUTURE_SLACK_MS past `nowMs` (a December line read in January).
 * Returns the position after the timestamp, or -1.
 */
export function parseBsdTime(data: Uint8Array, p: number, e: number, nowMs: number, nowYear: number, out: TimeScratch): number {
  if (p + 14 > e || data[p + 3] !== 0x20) return -1;
  const mo = monthOf(data, p);
  if (mo === 0) return -1;
  p += 4;
  if (data[p] === 0x20) p++; // space-padded day
  let d = digit(data, p);
  if (d < 0) return -1;
  p++;
  const d2 = digit(data, p);
  if (d2 >= 0) {
    d = d * 10 + d2;
    p++;
  }
  if (data[p] !== 0x20 || d < 1 || d > DAYS_IN_MONTH[mo]!) return -1;
  p++;
  let year = -1;
  if (p + 5 <= e && data[p + 4] === 0x20 && data[p + 2] !== 0x3a) {
    const hi = two(data, p);
    const lo = two(data, p + 2);
    if (hi < 0 || lo < 0) return -1;
    year = hi * 100 + lo;
    p += 5;
  }
  const q = timeOfDay(data, p, e, out);
  if (q < 0) return -1;
  const tod = _tod;
  let y = year >= 0 ? year : nowYear;
  if (mo === 2 && d === 29 && !isLeap(y)) {
    if (year >= 0) return -1;
    y--; // Feb 29 read in a non-leap year: the last leap year is the best guess
    while (!isLeap(y)) y--;
  }
  let ms = localWallToUtc(daysFromCivil(y, mo, d) * MS_PER_DAY + tod);
  if (year < 0 && ms > nowMs + FUTURE_SLACK_MS) {
    y--;
    if (mo === 2 && d === 29) while (!isLeap(y)) y--;
    ms = localWallToUtc(daysFromCivil(y, mo, d) * MS_PER_DAY + tod);
  }
  out.ms = ms;
  out.tzMin = localOffsetMin(ms);
  return q;
}

// ---- writing ---------------------------------------------------------------------------------

const MONTH_BYTES = Buffer.from('JanFebMarAprMayJunJulAugSepOctNovDec', 'latin1');

// The civil date of the last day written: formatting a batch computes it once, not per record.
let _civDays = Number.NaN;
let _civY = 1970;
let _civM = 1;
let _civD = 1;

function civil(days: number): void {
  if (days === _civDays) return;
  _civDays = days;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  _civD = doy - Math.floor((153 * mp + 2) / 5) + 1;
  _civM = mp < 10 ? mp + 3 : mp - 9;
  _civY = yoe + era * 400 + (_civM <= 2 ? 1 : 0);
}

/** Writes "hh:mm:ss" of a second-of-day. */
function writeClock(out: BufferWriter, sod: number): void {
  const hh = Math.floor(sod / 3600);
  const rem = sod - hh * 3600;
  const mi = Math.floor(rem / 60);
  out.pad2(hh);
  out.byte(0x3a);
  out.pad2(mi);
  out.byte(0x3a);
  out.pad2(rem - mi * 60);
}

/**
 * RFC 3339 as RFC 5424 §6.2.3 wants it: "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)", the wall time at
 * offset `tzMin`, with `fracDigits` (0..6) digits of fraction. Offset 0 is written "Z".
 */
export function writeRfc3339(out: BufferWriter, ms: number, tzMin: number, fracDigits: number): void {
  const us = Math.round((ms + tzMin * 60_000) * 1000);
  const secs = Math.floor(us / 1e6);
  const days = Math.floor(secs / 86400);
  civil(days);
  out.padN(_civY, 4);
  out.byte(0x2d);
  out.pad2(_civM);
  out.byte(0x2d);
  out.pad2(_civD);
  out.byte(0x54);
  writeClock(out, secs - days * 86400);
  if (fracDigits > 0) {
    const n = fracDigits > 6 ? 6 : fracDigits;
    out.byte(0x2e);
    out.padN(Math.floor((us - secs * 1e6) / 10 ** (6 - n)), n);
  }
  if (tzMin === 0) {
    out.byte(0x5a);
    return;
  }
  const a = tzMin < 0 ? -tzMin : tzMin;
  out.byte(tzMin < 0 ? 0x2d : 0x2b);
  out.pad2(Math.floor(a / 60));
  out.byte(0x3a);
  out.pad2(a % 60);
}

/** RFC 3164 §4.1.2 "Mmm dd hh:mm:ss" (day space-padded), the wall time at offset `tzMin`. */
export function writeBsdTime(out: BufferWriter, ms: number, tzMin: number): void {
  const secs = Math.floor((ms + tzMin * 60_000) / 1000);
  const days = Math.floor(secs / 86400);
  civil(days);
  out.bytes(MONTH_BYTES, (_civM - 1) * 3, _civM * 3);
  out.byte(0x20);
  if (_civD < 10) {
    out.byte(0x20);
    out.byte(0x30 + _civD);
  } else out.pad2(_civD);
  out.byte(0x20);
  writeClock(out, secs - days * 86400);
}
