// Unit tests of the syslog parser (codec/syslog/parse.ts) on the fixture files of real peers'
// messages and of real-world variants, plus properties: framing independence, defaults, caching,
// interning under pressure, and random bytes (never throws, keeps every byte).
process.env.TZ = 'UTC'; // the fixtures' 3164 times are read in the local zone

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnsOf, headerRuns, setHeaderRuns, type HeaderRunsBinding } from '../../../../src/codec/syslog/header-runs.js';
import { countMalformed, parseSyslogRecords, recordFields } from '../../../../src/codec/syslog/parse.js';
import { resetZoneCache } from '../../../../src/codec/syslog/timestamp.js';
import { Batch } from '../../../../src/core/batch.js';
import { RECORD_FLAG } from '../../../../src/core/records.js';
import { prng } from '../../../helpers/prng.js';
import { actual, assertFields, batchOf, loadFixtures, TEST_META } from './fixtures.js';

resetZoneCache();
const PEERS = loadFixtures('syslog-peers.txt');
const VARIANTS = loadFixtures('syslog-variants.txt');
const ALL = [...PEERS, ...VARIANTS];

for (const [name, cases] of [['peers', PEERS], ['variants', VARIANTS]] as const) {
  test(`issue-3: every ${name} fixture parses to its expected fields (one batch, "\\n"-terminated)`, () => {
    const batch = batchOf(cases.map((c) => c.raw));
    const f = parseSyslogRecords(batch);
    assert.equal(f.count, cases.length);
    cases.forEach((c, i) => assertFields(batch, f, i, c));
  });
}

test('issue-3: the same fields whatever the framing: "\\r\\n", none (datagrams), one record per batch', () => {
  const ref = batchOf(ALL.map((c) => c.raw));
  const rf = parseSyslogRecords(ref);
  for (const term of ['\r\n', '']) {
    const b = batchOf(
      ALL.map((c) => c.raw),
      term,
    );
    const f = parseSyslogRecords(b);
    ALL.forEach((c, i) => {
      // A record without terminator that ends in "\n" has it cut as the batch's terminator: same result.
      assert.deepEqual(actual(b, f, i), actual(ref, rf, i), `${c.where} with terminator ${JSON.stringify(term)}`);
    });
  }
  ALL.forEach((c, i) => {
    const b = batchOf([c.raw]);
    assert.deepEqual(actual(b, parseSyslogRecords(b), 0), actual(ref, rf, i), c.where);
  });
});

test('issue-3: countMalformed counts the records flagged MALFORMED', () => {
  const batch = batchOf(ALL.map((c) => c.raw));
  const f = parseSyslogRecords(batch);
  const want = ALL.filter((c) => c.expect.flags.includes('MALFORMED')).length;
  assert.ok(want >= 10);
  assert.equal(countMalformed(f), want);
});

test('a malformed record keeps its whole text as the message and gets every default', () => {
  const batch = batchOf([Buffer.from('<13>1 2026-11-23T10:00:00Z h a 99 ID [x y="1"] broken-sd-follows-without-space')]);
  // This one parses; now break its SD and check nothing of the half-parsed header survives.
  const bad = batchOf([Buffer.from('<13>1 2026-11-23T10:00:00Z h a 99 ID [x y="1"]broken')]);
  assert.equal(countMalformed(parseSyslogRecords(batch)), 0);
  const f = parseSyslogRecords(bad);
  assert.equal(f.flags[0], RECORD_FLAG.MALFORMED);
  assert.equal(f.host[0], TEST_META.host);
  assert.equal(f.program[0], TEST_META.program);
  assert.equal(f.pri[0], TEST_META.facility * 8 + TEST_META.severity);
  assert.equal(f.timeMs[0], TEST_META.timeMs);
  for (const arr of [f.pidStart, f.pidEnd, f.msgidStart, f.msgidEnd, f.sdStart, f.sdEnd]) assert.equal(arr[0], -1);
  assert.equal(bad.data.toString('utf8', f.msgStart[0], f.msgEnd[0]), '<13>1 2026-11-23T10:00:00Z h a 99 ID [x y="1"]broken');
});

test('defaults come from the batch meta; an out-of-range facility/severity falls back to user.notice', () => {
  const meta = { ...TEST_META, host: 'h2', program: 'p2', facility: 4, severity: 2 };
  const b = batchOf([Buffer.from('no pri, no time')], '\n', meta);
  const f = parseSyslogRecords(b);
  assert.equal(f.host[0], 'h2');
  assert.equal(f.program[0], 'p2');
  assert.equal(f.pri[0], 4 * 8 + 2);
  const odd = parseSyslogRecords(batchOf([Buffer.from('x')], '\n', { ...TEST_META, facility: 99, severity: -1 }));
  assert.equal(odd.pri[0], 13);
});

test('recordFields parses a syslog batch once and caches it in batch.fields', () => {
  const b = batchOf(PEERS.map((c) => c.raw));
  assert.equal(b.fields, undefined);
  const f = recordFields(b);
  assert.equal(b.fields, f);
  assert.equal(recordFields(b), f);
  assert.equal(f.host[0], 'vm');
});

test('recordFields of a non-syslog batch fills every record from the meta, the message = the record text', () => {
  const meta = { ...TEST_META, format: undefined, host: 'web-1', program: 'nginx', facility: 16, severity: 3 };
  const lines = ['<13>Nov 23 10:00:00 host app: looks like syslog but is not parsed', 'plain line', '', 'crlf line\r'];
  const b = batchOf(
    lines.map((l) => Buffer.from(l)),
    '\n',
    meta,
  );
  const f = recordFields(b);
  assert.equal(b.fields, f);
  lines.forEach((l, i) => {
    assert.equal(f.host[i], 'web-1');
    assert.equal(f.program[i], 'nginx');
    assert.equal(f.pri[i], 16 * 8 + 3);
    assert.equal(f.timeMs[i], meta.timeMs);
    assert.equal(f.flags[i], 0);
    assert.equal(b.data.toString('utf8', f.msgStart[i], f.msgEnd[i]), l.replace(/\r$/, ''));
  });
  assert.equal(countMalformed(f), 0);
});

test('recordFields keeps fields a source already set', () => {
  const b = batchOf([Buffer.from('<13>Nov 23 10:00:00 host app: x')]);
  const pre = parseSyslogRecords(b);
  const b2 = new Batch(b.data, b.ends, b.meta, b.pos, { fields: pre });
  assert.equal(recordFields(b2), pre);
});

test('host and program names stay right when thousands of distinct names churn the intern cache', () => {
  const n = 12_000;
  const recs: Buffer[] = [];
  for (let k = 0; k < n; k++) recs.push(Buffer.from(`<13>Nov 23 10:00:00 host-${k % 9001} prog${k % 7919}[${k}]: m${k}`));
  // twice, so names come back after being evicted
  const b = batchOf([...recs, ...recs]);
  const f = parseSyslogRecords(b);
  for (let k = 0; k < 2 * n; k++) {
    const j = k % n;
    assert.equal(f.host[k], `host-${j % 9001}`);
    assert.equal(f.program[k], `prog${j % 7919}`);
  }
});

test('non-UTF-8 bytes: the message keeps them verbatim, a host name decodes with U+FFFD', () => {
  const raw = Buffer.concat([Buffer.from('<13>Nov 23 10:00:00 h'), Buffer.from([0xff, 0xfe]), Buffer.from(' app: '), Buffer.from([0xc3, 0x28, 0x00, 0x80])]);
  const b = batchOf([raw]);
  const f = parseSyslogRecords(b);
  assert.equal(f.host[0], 'h\ufffd\ufffd');
  assert.equal(f.program[0], 'app');
  assert.deepEqual([...b.data.subarray(f.msgStart[0], f.msgEnd[0])], [0xc3, 0x28, 0x00, 0x80]);
});

test('random bytes and mutated fixtures never throw; every record stays inside its bounds', () => {
  const rand = prng(3);
  const recs: Buffer[] = [];
  const alphabet = Buffer.from('<>0123456789 -:[]"\\TZ.+NovDec\ufeff\r\n\u0000abc');
  for (let k = 0; k < 3000; k++) {
    if (k % 2 === 0) {
      // a fixture with a few bytes replaced, cut or repeated
      const src = ALL[Math.floor(rand() * ALL.length)]!.raw;
      const r = Buffer.from(src);
      for (let m = 0; m < 3; m++) if (r.length > 0) r[Math.floor(rand() * r.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      recs.push(r.subarray(0, Math.floor(rand() * (r.length + 1))).filter((x) => x !== 0x0a) as Buffer);
    } else {
      const len = Math.floor(rand() * 80);
      const r = Buffer.alloc(len);
      for (let m = 0; m < len; m++) r[m] = rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      recs.push(Buffer.from(r.filter((x) => x !== 0x0a)));
    }
  }
  const b = batchOf(recs);
  const f = parseSyslogRecords(b);
  for (let i = 0; i < f.count; i++) {
    const s = b.recordStart(i);
    const e = b.textEnd(i);
    assert.ok(f.msgStart[i]! >= s && f.msgStart[i]! <= f.msgEnd[i]! && f.msgEnd[i]! <= e, `record ${i} message bounds`);
    for (const [a, z] of [
      [f.pidStart, f.pidEnd],
      [f.msgidStart, f.msgidEnd],
      [f.sdStart, f.sdEnd],
    ] as const) {
      if (a[i] !== -1) assert.ok(a[i]! >= s && a[i]! < z[i]! && z[i]! <= e, `record ${i} field bounds`);
    }
    assert.ok(f.pri[i]! <= 191);
    assert.ok(Number.isFinite(f.timeMs[i]));
    if ((f.flags[i]! & RECORD_FLAG.MALFORMED) !== 0) {
      assert.equal(f.msgStart[i], s);
      assert.equal(f.flags[i], RECORD_FLAG.MALFORMED);
    }
  }
});

test('perf-hot: a record that starts with the header of the one before gets the fields a parse of it alone gives', () => {
  // Each fixture's header (up to its message) followed by tails that a header-only look would
  // misread: nothing, a space, a BOM (RFC 5424), a colon, a tag-like word, CR/NUL, another header.
  const tails = ['', ' ', 'x', ' x', '\ufeff', '\ufeffm', ':', ': m', 'app[1]: m', 'w', 'a b', '\r', '\u0000', '\r\u0000', '<13>Nov 23 10:00:00 h a: m'];
  for (const c of ALL) {
    const one = batchOf([c.raw]);
    const f1 = parseSyslogRecords(one);
    const header = one.data.subarray(0, f1.msgStart[0]!);
    const raws = [c.raw, ...tails.map((t) => Buffer.concat([header, Buffer.from(t)])), c.raw];
    const b = batchOf(raws);
    const f = parseSyslogRecords(b);
    raws.forEach((r, i) => {
      const alone = batchOf([r]);
      const want = actual(alone, parseSyslogRecords(alone), 0);
      assert.deepEqual(actual(b, f, i), want, `${c.where}: ${JSON.stringify(r.toString('latin1'))}`);
    });
  }
});

// ---- the native header reader (header-runs.ts) against the JavaScript loop --------------------

test('perf-hot: the native header reader takes repeated headers over exactly as the JavaScript loop does', (t) => {
  const real = headerRuns();
  assert.ok(real !== null, 'the header reader is built (npm ci builds it)');
  let taken = 0;
  const counting: HeaderRunsBinding = {
    take: (data, ends, i, n, hj, hs, hn, bom, cols, stop) => {
      real.take(data, ends, i, n, hj, hs, hn, bom, cols, stop);
      taken += stop[0]! - i;
    },
  };
  t.after(() => setHeaderRuns(undefined));
  const r = prng(5);
  const int = (k: number): number => Math.floor(r() * k);
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  for (let round = 0; round < 150; round++) {
    const records: Buffer[] = [];
    const count = 1 + int(60);
    while (records.length < count) {
      const c = ALL[int(ALL.length)]!;
      const one = parseSyslogRecords(batchOf([c.raw]));
      const ms = one.msgStart[0]!;
      for (let k = 1 + int(16); k > 0; k--) {
        const kind = int(8);
        // The same header with another message: a longer or shorter tail, trailing CR/NUL, a BOM.
        const tail =
          kind === 0 ? Buffer.from(`more ${int(1000)}`) : kind === 1 ? Buffer.from('\r') : kind === 2 ? Buffer.from([0]) : kind === 3 ? BOM : Buffer.alloc(0);
        const body = kind === 3 ? Buffer.concat([c.raw.subarray(0, ms), BOM, c.raw.subarray(ms)]) : kind === 4 ? c.raw.subarray(0, Math.max(ms, c.raw.length - int(5))) : c.raw;
        records.push(kind === 3 ? body : Buffer.concat([body, tail]));
      }
    }
    const term = ['\n', '\r\n', ''][int(3)]!;
    setHeaderRuns(null);
    const js = parseSyslogRecords(batchOf(records, term));
    setHeaderRuns(counting);
    const native = parseSyslogRecords(batchOf(records, term));
    for (const col of ['pri', 'timeMs', 'tzMin', 'fracDigits', 'host', 'program', 'pidStart', 'pidEnd', 'msgidStart', 'msgidEnd', 'sdStart', 'sdEnd', 'msgStart', 'msgEnd', 'flags', 'same'] as const) {
      assert.deepEqual(Array.from(native[col] as ArrayLike<unknown>), Array.from(js[col] as ArrayLike<unknown>), `round ${round}: ${col}`);
    }
  }
  assert.ok(taken > 1000, `the native reader took ${taken} headers over`);
});

test('the native header reader takes every column before it touches a buffer: a detached one is refused, not read', () => {
  const b = headerRuns();
  assert.ok(b !== null, 'the header reader is built');
  const batch = batchOf([Buffer.from('<13>Dec  7 04:36:10 h p: a'), Buffer.from('<13>Dec  7 04:36:10 h p: b')]);
  const f = parseSyslogRecords(batch);
  const data = new Uint8Array(batch.data);
  const cols = columnsOf(f).slice(0, 13);
  // The last column's getter detaches the data's buffer while the reader reads the columns.
  Object.defineProperty(cols, 13, {
    get: () => {
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return f.same;
    },
  });
  assert.throws(() => b.take(data, batch.ends, 1, 2, 0, 0, 20, false, cols, new Int32Array(1)), RangeError);
  assert.throws(() => b.take(new Uint8Array(8), batch.ends, 1, 2, 0, 2 ** 62, 2 ** 62, false, columnsOf(f), new Int32Array(1)), RangeError);
});

test('perf-hot: the native header reader is called once per run, after three records taken over in JavaScript; shorter runs make no call', (t) => {
  const real = headerRuns();
  assert.ok(real !== null);
  const calls: number[] = [];
  setHeaderRuns({ take: (...a: Parameters<HeaderRunsBinding['take']>) => (calls.push(a[2]), real.take(...a)) });
  t.after(() => setHeaderRuns(undefined));
  const h = (sec: number): string => `<13>Dec  7 04:36:${sec} host prog: `;
  // a run of 3 (parsed + 2 taken over), then one of 10
  const lines = [...Array.from({ length: 3 }, (_, k) => `${h(10)}m${k}`), ...Array.from({ length: 10 }, (_, k) => `${h(11)}n${k}`)];
  const f = parseSyslogRecords(batchOf(lines.map((l) => Buffer.from(l))));
  assert.deepEqual(calls, [7], 'one call, for the second run, from its fifth record');
  assert.deepEqual(Array.from(f.same), [-1, 0, 0, -1, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
});
