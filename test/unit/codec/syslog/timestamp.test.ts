// Unit tests of codec/syslog/timestamp.ts: RFC 3339 and RFC 3164 timestamps read and written,
// local zones with DST and half-hour offsets (process.env.TZ switched per test), year inference.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  daysFromCivil,
  localYear,
  parseBsdTime,
  parseRfc3339,
  resetZoneCache,
  TimeScratch,
  writeBsdTime,
  writeRfc3339,
} from '../../../../src/codec/syslog/timestamp.js';
import { BufferWriter } from '../../../../src/util/buffer-writer.js';

/** Runs the test body in zone `tz`, then restores the previous one. */
function inZone(t: TestContext, tz: string): void {
  const prev = process.env.TZ;
  process.env.TZ = tz;
  resetZoneCache();
  t.after(() => {
    if (prev === undefined) delete process.env.TZ;
    else process.env.TZ = prev;
    resetZoneCache();
  });
}

function iso(s: string): { end: number; ms: number; tz: number; frac: number } {
  const b = Buffer.from(s);
  const t = new TimeScratch();
  const end = parseRfc3339(b, 0, b.length, t);
  return { end, ms: t.ms, tz: t.tzMin, frac: t.frac };
}

function bsd(s: string, nowMs: number): { end: number; ms: number; tz: number; frac: number } {
  const b = Buffer.from(s);
  const t = new TimeScratch();
  const end = parseBsdTime(b, 0, b.length, nowMs, localYear(nowMs), t);
  return { end, ms: t.ms, tz: t.tzMin, frac: t.frac };
}

function w3339(ms: number, tz: number, frac: number): string {
  const w = new BufferWriter({ initialBytes: 16 });
  writeRfc3339(w, ms, tz, frac);
  return w.view().toString();
}

function wBsd(ms: number, tz: number): string {
  const w = new BufferWriter({ initialBytes: 16 });
  writeBsdTime(w, ms, tz);
  return w.view().toString();
}

const NOW = Date.UTC(2026, 10, 23, 12);

test('daysFromCivil agrees with Date.UTC from 1600 to 2400', () => {
  for (let y = 1600; y <= 2400; y += 7) {
    for (const [m, d] of [[1, 1], [2, 28], [2, 29], [3, 1], [7, 31], [12, 31]] as const) {
      assert.equal(daysFromCivil(y, m, d) * 86_400_000, Date.UTC(y, m - 1, d), `${y}-${m}-${d}`);
    }
  }
});

test('RFC 3339: offsets, fractions, case, and what is refused', (t) => {
  inZone(t, 'UTC');
  assert.deepEqual(iso('2026-11-23T11:38:22.322519+00:00'), { end: 32, ms: Date.UTC(2026, 10, 23, 11, 38, 22, 322) + 0.519, tz: 0, frac: 6 });
  const k = iso('2026-11-23T17:08:22+05:30');
  assert.equal(k.ms, Date.UTC(2026, 10, 23, 11, 38, 22));
  assert.equal(k.tz, 330);
  assert.equal(iso('2026-11-23T08:08:22-03:30').tz, -210);
  assert.equal(iso('2026-11-23t10:00:00z').ms, Date.UTC(2026, 10, 23, 10));
  assert.equal(iso('2026-11-23T11:00:00+0100').ms, Date.UTC(2026, 10, 23, 10));
  assert.equal(iso('2026-11-23T10:00:00.1Z').frac, 1);
  const ns = iso('2026-11-23T10:00:00.123456789Z');
  assert.equal(ns.frac, 6);
  assert.equal(Math.round(ns.ms * 1000) % 1_000_000, 123456);
  assert.equal(iso('2024-02-29T00:00:00Z').end, 20);
  for (const bad of [
    '2026-11-23 10:00:00Z',
    '2026-11-23T10:00Z',
    '2026-00-23T10:00:00Z',
    '2026-13-23T10:00:00Z',
    '2026-11-31T10:00:00Z',
    '2025-02-29T10:00:00Z',
    '2026-11-23T24:00:00Z',
    '2026-11-23T10:60:00Z',
    '2026-11-23T10:00:61Z',
    '2026-11-23T10:00:00.Z',
    '2026-11-23T10:00:00+25:00',
    '2026-11-23T10:00:00+01:',
    '2026-1a-23T10:00:00Z',
    '20x6-11-23T10:00:00Z',
  ]) {
    assert.equal(iso(bad).end, -1, bad);
  }
});

test('RFC 3339 without offset is local time (loggen, journald files)', (t) => {
  inZone(t, 'America/New_York');
  const r = iso('2026-11-23T06:38:47');
  assert.equal(r.ms, Date.UTC(2026, 10, 23, 11, 38, 47));
  assert.equal(r.tz, -300);
  const summer = iso('2026-07-01T06:00:00');
  assert.equal(summer.ms, Date.UTC(2026, 6, 1, 10));
  assert.equal(summer.tz, -240);
});

test('RFC 3164: local zone with DST (Europe/Paris), the gap and the overlap', (t) => {
  inZone(t, 'Europe/Paris');
  const winter = bsd('Nov 23 12:00:00', NOW);
  assert.equal(winter.ms, Date.UTC(2026, 10, 23, 11));
  assert.equal(winter.tz, 60);
  const summer = bsd('Jul 15 10:00:00', NOW);
  assert.equal(summer.ms, Date.UTC(2026, 6, 15, 8));
  assert.equal(summer.tz, 120);
  // the hour before each change: the offset at the wall time read as UTC is already the new one
  assert.equal(bsd('Mar 29 01:30:00', NOW).ms, Date.UTC(2026, 2, 29, 0, 30));
  assert.equal(bsd('Mar 29 01:30:00', NOW).tz, 60);
  assert.equal(bsd('Oct 25 01:30:00', NOW).ms, Date.UTC(2026, 9, 24, 23, 30));
  assert.equal(bsd('Oct 25 01:30:00', NOW).tz, 120);
  // 02:30 does not exist on 2026-03-29 and happens twice on 2026-10-25: any instant whose local
  // wall clock reads back as a real time near it is acceptable, but it must be one of the candidates.
  const gap = bsd('Mar 29 02:30:00', NOW);
  assert.ok(gap.ms === Date.UTC(2026, 2, 29, 0, 30) || gap.ms === Date.UTC(2026, 2, 29, 1, 30), `gap ${new Date(gap.ms).toISOString()}`);
  const overlap = bsd('Oct 25 02:30:00', NOW);
  assert.ok(
    overlap.ms === Date.UTC(2026, 9, 25, 0, 30) || overlap.ms === Date.UTC(2026, 9, 25, 1, 30),
    `overlap ${new Date(overlap.ms).toISOString()}`,
  );
  assert.equal(wBsd(overlap.ms, overlap.tz), 'Oct 25 02:30:00');
});

test('RFC 3164: half-hour zones (America/St_Johns, Asia/Kolkata)', (t) => {
  inZone(t, 'America/St_Johns');
  assert.equal(bsd('Nov 23 08:08:22', NOW).ms, Date.UTC(2026, 10, 23, 11, 38, 22));
  assert.equal(bsd('Nov 23 08:08:22', NOW).tz, -210);
  assert.equal(bsd('Jul  1 08:00:00', NOW).tz, -150);
  process.env.TZ = 'Asia/Kolkata';
  resetZoneCache();
  assert.equal(bsd('Nov 23 17:08:22', NOW).ms, Date.UTC(2026, 10, 23, 11, 38, 22));
  assert.equal(bsd('Nov 23 17:08:22', NOW).tz, 330);
});

test('RFC 3164: the year is the local one at reception (Asia/Tokyo on UTC new year\'s eve)', (t) => {
  inZone(t, 'Asia/Tokyo');
  const now = Date.UTC(2026, 11, 31, 23, 30); // 2027-01-01 08:30 in Tokyo
  assert.equal(localYear(now), 2027);
  assert.equal(bsd('Jan  1 08:00:00', now).ms, Date.UTC(2026, 11, 31, 23));
  assert.equal(bsd('Dec 31 20:00:00', now).ms, Date.UTC(2026, 11, 31, 11));
  // a day ahead is still this year; more is last year
  assert.equal(bsd('Jan  2 08:29:59', now).ms, Date.UTC(2027, 0, 1, 23, 29, 59));
  assert.equal(bsd('Jan  2 08:30:01', now).ms, Date.UTC(2026, 0, 1, 23, 30, 1));
});

test('RFC 3164: forms read and refused', (t) => {
  inZone(t, 'UTC');
  assert.deepEqual(bsd('Nov  3 10:00:00', NOW), { end: 15, ms: Date.UTC(2026, 10, 3, 10), tz: 0, frac: 0 });
  assert.equal(bsd('Nov 3 10:00:00', NOW).end, 14);
  assert.equal(bsd('NOV 03 10:00:00', NOW).ms, Date.UTC(2026, 10, 3, 10));
  assert.deepEqual(bsd('Nov 23 10:00:00.250', NOW), { end: 19, ms: Date.UTC(2026, 10, 23, 10, 0, 0, 250), tz: 0, frac: 3 });
  assert.equal(bsd('Nov 23 2019 10:00:00', NOW).ms, Date.UTC(2019, 10, 23, 10));
  for (const bad of ['Nov 23 10:00', 'Nox 23 10:00:00', 'Nov 32 10:00:00', 'Nov 00 10:00:00', 'Feb 30 10:00:00', 'Nov 23 25:00:00', 'Nov  310:00:00', 'Nov 23 2019 10:00', '23 Nov 10:00:00']) {
    assert.equal(bsd(bad, NOW).end, -1, bad);
  }
  assert.equal(bsd('Feb 29 2025 10:00:00', NOW).end, -1); // an explicit year without Feb 29
});

test('writeRfc3339: every precision and offset; agrees with toISOString on random instants', () => {
  const ms = Date.UTC(2026, 10, 23, 11, 38, 22, 322) + 0.519;
  assert.equal(w3339(ms, 0, 6), '2026-11-23T11:38:22.322519Z');
  assert.equal(w3339(ms, 0, 3), '2026-11-23T11:38:22.322Z');
  assert.equal(w3339(ms, 0, 1), '2026-11-23T11:38:22.3Z');
  assert.equal(w3339(ms, 0, 0), '2026-11-23T11:38:22Z');
  assert.equal(w3339(ms, 330, 6), '2026-11-23T17:08:22.322519+05:30');
  assert.equal(w3339(ms, -210, 0), '2026-11-23T08:08:22-03:30');
  assert.equal(w3339(Date.UTC(2026, 11, 31, 23, 30), 60, 0), '2027-01-01T00:30:00+01:00');
  assert.equal(w3339(-500, 0, 3), '1969-12-31T23:59:59.500Z');
  let seed = 7;
  for (let k = 0; k < 5000; k++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const t = Math.floor((seed / 2147483648) * 8e12) - 1e12;
    assert.equal(w3339(t, 0, 3), new Date(t).toISOString());
  }
});

test('writeBsdTime: space-padded day, wall clock at the record offset', () => {
  assert.equal(wBsd(Date.UTC(2026, 10, 3, 9, 5, 7), 0), 'Nov  3 09:05:07');
  assert.equal(wBsd(Date.UTC(2026, 10, 23, 11, 38, 22, 999), 0), 'Nov 23 11:38:22');
  assert.equal(wBsd(Date.UTC(2026, 11, 31, 23, 30), 60), 'Jan  1 00:30:00');
  assert.equal(wBsd(Date.UTC(2026, 0, 1, 1), -120), 'Dec 31 23:00:00');
});
