// Test helper: reads the syslog fixture files (test/fixtures/syslog-*.txt) and builds batches and
// expectations from them. Format: a message as a JSON string on one line, then "=> {expected}".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Batch, type BatchMeta } from '../../../../src/core/batch.js';
import { RECORD_FLAG, type RecordFields } from '../../../../src/core/records.js';

export const FIXTURES_DIR = new URL('../../../fixtures/', import.meta.url);

/** The batch meta every fixture's expectations assume. */
export const TEST_META: BatchMeta = {
  host: 'relay-1',
  program: 'syslog',
  facility: 1,
  severity: 5,
  timeMs: Date.UTC(2026, 10, 23, 12, 0, 0),
  format: 'syslog',
};

export interface Expect {
  pri: number;
  host: string;
  program: string;
  time: string;
  msg: string;
  flags: string[];
  pid: string | null;
  msgid: string | null;
  sd: string | null;
  tz: number;
  frac: number;
}

export interface FixtureCase {
  /** "file:line" of the message. */
  readonly where: string;
  readonly raw: Buffer;
  readonly expect: Expect;
}

const REQUIRED = ['pri', 'host', 'program', 'time', 'msg', 'flags'] as const;

export function loadFixtures(name: string): FixtureCase[] {
  const lines = readFileSync(new URL(name, FIXTURES_DIR), 'utf8').split('\n');
  const out: FixtureCase[] = [];
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    if (!line.startsWith('"')) continue;
    const next = lines[k + 1] ?? '';
    assert.ok(next.startsWith('=> '), `${name}:${k + 2}: expected "=> {...}" after a message`);
    const exp = JSON.parse(next.slice(3)) as Partial<Expect>;
    for (const key of REQUIRED) assert.ok(key in exp, `${name}:${k + 2}: missing "${key}"`);
    out.push({
      where: `${name}:${k + 1}`,
      raw: Buffer.from(JSON.parse(line) as string, 'utf8'),
      expect: { pid: null, msgid: null, sd: null, tz: 0, frac: 0, ...exp } as Expect,
    });
    k++;
  }
  assert.ok(out.length > 0, `${name}: no cases`);
  return out;
}

/** A batch of the given records; `terminator` is appended to each (as a file or TCP source would). */
export function batchOf(records: readonly Buffer[], terminator = '\n', meta: BatchMeta = TEST_META): Batch {
  const term = Buffer.from(terminator);
  const parts: Buffer[] = [];
  const ends = new Uint32Array(records.length);
  let off = 0;
  records.forEach((r, i) => {
    parts.push(r, term);
    off += r.length + term.length;
    ends[i] = off;
  });
  return new Batch(Buffer.concat(parts), ends, meta, { origin: 'test', stream: 's1', offset: 0 });
}

const FLAG_NAMES: Record<string, number> = {
  RFC5424: RECORD_FLAG.RFC5424,
  MALFORMED: RECORD_FLAG.MALFORMED,
  TIME: RECORD_FLAG.HAS_TIME,
  HOST: RECORD_FLAG.HAS_HOST,
  PRI: RECORD_FLAG.HAS_PRI,
};

export function flagNames(v: number): string[] {
  return Object.keys(FLAG_NAMES)
    .filter((k) => (v & FLAG_NAMES[k]!) !== 0)
    .sort();
}

/** "2026-11-23T11:38:22.322519Z" → µs since the epoch (Date.parse stops at ms). */
export function isoMicros(iso: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(iso);
  assert.ok(m, `bad expected time ${iso}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}

function slice(data: Buffer, s: number, e: number): string | null {
  return s < 0 ? null : data.toString('utf8', s, e);
}

/** The fields of record i, in the fixtures' vocabulary. */
export function actual(batch: Batch, f: RecordFields, i: number): Expect {
  const d = batch.data;
  return {
    pri: f.pri[i]!,
    host: f.host[i]!,
    program: f.program[i]!,
    time: `${Math.round(f.timeMs[i]! * 1000)}µs`,
    msg: d.toString('utf8', f.msgStart[i]!, f.msgEnd[i]!),
    flags: flagNames(f.flags[i]!),
    pid: slice(d, f.pidStart[i]!, f.pidEnd[i]!),
    msgid: slice(d, f.msgidStart[i]!, f.msgidEnd[i]!),
    sd: slice(d, f.sdStart[i]!, f.sdEnd[i]!),
    tz: f.tzMin[i]!,
    frac: f.fracDigits[i]!,
  };
}

/** Asserts record i against a fixture expectation. */
export function assertFields(batch: Batch, f: RecordFields, i: number, c: FixtureCase): void {
  const want = { ...c.expect, time: `${isoMicros(c.expect.time)}µs`, flags: [...c.expect.flags].sort() };
  assert.deepEqual(actual(batch, f, i), want, c.where);
}
