// Unit tests of codec/syslog/format.ts: exact RFC 5424 / RFC 3164 output, headers of non-syslog
// records from the batch meta, sanitizing, and parse → format → parse round trips on every fixture.
process.env.TZ = 'UTC'; // 3164 output is the wall clock at the record's offset; the fixtures are UTC

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRecord, formatRfc3164, formatRfc5424, type SyslogFormat } from '../../../../src/codec/syslog/format.js';
import { parseSyslogRecords, recordFields } from '../../../../src/codec/syslog/parse.js';
import { resetZoneCache, writeBsdTime } from '../../../../src/codec/syslog/timestamp.js';
import type { Batch } from '../../../../src/core/batch.js';
import { RECORD_FLAG, type RecordFields } from '../../../../src/core/records.js';
import { BufferWriter } from '../../../../src/util/buffer-writer.js';
import { actual, batchOf, loadFixtures, TEST_META } from './fixtures.js';

resetZoneCache();
const ALL = [...loadFixtures('syslog-peers.txt'), ...loadFixtures('syslog-variants.txt')];

/** Every record of the batch formatted into one writer, one message per line. */
function formatAll(batch: Batch, fields: RecordFields, format: SyslogFormat, out = new BufferWriter({ initialBytes: 16 })): Buffer[] {
  const offs: number[] = [0];
  for (let i = 0; i < fields.count; i++) {
    formatRecord(format, batch, fields, i, out);
    offs.push(out.length);
  }
  const all = out.toBuffer();
  return offs.slice(1).map((e, i) => all.subarray(offs[i], e));
}

function one(raw: string, format: SyslogFormat, meta = TEST_META): string {
  const b = batchOf([Buffer.from(raw)], '\n', meta);
  const w = new BufferWriter();
  (format === 'rfc5424' ? formatRfc5424 : formatRfc3164)(b, recordFields(b), 0, w);
  return w.view().toString('utf8');
}

test('RFC 5424 output keeps PRI, time precision and offset, SD and MSG verbatim (RFC 5424 §6.5 examples)', () => {
  for (const ex of [
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8",
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \ufeffAn application event log entry...',
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    '<13>1 2026-11-23T11:38:22.329582Z vm myapp - ID47 [timeQuality tzKnown="1" isSynced="0"][exampleSDID@32473 iut="3" eventSource="App\\\\lic\\]ation" q="say \\"hi\\""] escaped sd',
  ]) {
    assert.equal(one(ex, 'rfc5424'), ex);
  }
  // offset 0 is written "Z"
  assert.equal(
    one('<156>1 2026-11-23T11:22:38.356743+00:00 vm myapp - - - hello', 'rfc5424'),
    '<156>1 2026-11-23T11:22:38.356743Z vm myapp - - - hello',
  );
});

test('RFC 5424 output of 3164 input: hostless, no-time and nil fields', () => {
  assert.equal(one('<38>Nov 23 11:38:22 vm sshd[4928]: Accepted', 'rfc5424'), '<38>1 2026-11-23T11:38:22Z vm sshd 4928 - - Accepted');
  assert.equal(one('<13>Nov 23 11:22:48 myapp: local', 'rfc5424'), '<13>1 2026-11-23T11:22:48Z relay-1 myapp - - - local');
  // no timestamp: the reception time (ms precision), never "-"
  assert.equal(one('<165>hello', 'rfc5424'), '<165>1 2026-11-23T12:00:00.000Z relay-1 syslog - - - hello');
  assert.equal(one('<13>1 - - - - - -', 'rfc5424'), '<13>1 2026-11-23T12:00:00.000Z relay-1 - - - -');
  // malformed: defaults, the whole record as MSG
  assert.equal(one('<999>oops', 'rfc5424'), '<13>1 2026-11-23T12:00:00.000Z relay-1 syslog - - - <999>oops');
});

test('RFC 3164 output: what a 3164 sender wrote comes back byte for byte', () => {
  for (const ex of [
    '<38>Nov 23 11:38:22 vm sshd[4928]: Accepted publickey for deploy from 10.0.3.17 port 52144 ssh2',
    '<156>Nov 23 11:38:22 vm myapp: hello 3164',
    '<13>Nov  3 10:00:00 host app: space-padded day',
    '<0>Nov 23 10:00:00 host kernel: kern.emerg',
  ]) {
    assert.equal(one(ex, 'rfc3164'), ex);
  }
});

test('RFC 3164 output of 5424 input: wall clock at the sender offset, SD and MSGID dropped, "-" for a nil APP-NAME', () => {
  assert.equal(
    one('<156>1 2026-11-23T12:39:20.039556+01:00 vm myapp 6687 ID47 [timeQuality tzKnown="1"] from 5424 sender', 'rfc3164'),
    '<156>Nov 23 12:39:20 vm myapp[6687]: from 5424 sender',
  );
  assert.equal(one('<13>1 2026-11-23T10:00:00Z h - - - - x', 'rfc3164'), '<13>Nov 23 10:00:00 h -: x');
  assert.equal(one('<13>1 2026-11-23T10:00:00Z h a 12]3 - -', 'rfc3164'), '<13>Nov 23 10:00:00 h a[12_3]:');
});

test('records of a non-syslog batch get their header from the meta', () => {
  const meta = { ...TEST_META, format: undefined, host: 'web-1', program: 'nginx', facility: 16, severity: 3 };
  assert.equal(one('GET / 200', 'rfc5424', meta), '<131>1 2026-11-23T12:00:00.000Z web-1 nginx - - - GET / 200');
  assert.equal(one('GET / 200', 'rfc3164', meta), '<131>Nov 23 12:00:00 web-1 nginx: GET / 200');
  // a line that looks like syslog is still just a line
  assert.equal(one('<13>Nov 23 10:00:00 h a: x', 'rfc3164', meta), '<131>Nov 23 12:00:00 web-1 nginx: <13>Nov 23 10:00:00 h a: x');
  assert.equal(one('', 'rfc5424', meta), '<131>1 2026-11-23T12:00:00.000Z web-1 nginx - - -');
});

test('header fields are made safe: PRINTUSASCII only, RFC 5424 lengths, no tag delimiters in a 3164 TAG', () => {
  const long = 'p'.repeat(60);
  const meta = { ...TEST_META, format: undefined, host: 'my host\n', program: 'my app:[x]' };
  assert.equal(one('m', 'rfc5424', meta), '<13>1 2026-11-23T12:00:00.000Z my_host_ my_app:[x] - - - m');
  assert.equal(one('m', 'rfc3164', meta), '<13>Nov 23 12:00:00 my_host_ my_app__x_: m');
  assert.equal(one('m', 'rfc5424', { ...meta, host: '', program: long }), `<13>1 2026-11-23T12:00:00.000Z - ${'p'.repeat(48)} - - - m`);
  assert.equal(one('m', 'rfc5424', { ...meta, host: 'hôte', program: 'x' }), '<13>1 2026-11-23T12:00:00.000Z h_te x - - - m');
  const longPid = `<13>1 2026-11-23T10:00:00Z h a ${'9'.repeat(140)} ${'M'.repeat(40)} - x`;
  assert.equal(one(longPid, 'rfc5424'), `<13>1 2026-11-23T10:00:00Z h a ${'9'.repeat(128)} ${'M'.repeat(32)} - x`);
});

test('a whole batch formats into one growing buffer', () => {
  const b = batchOf(ALL.map((c) => c.raw));
  const w = new BufferWriter({ initialBytes: 16 });
  const parts = formatAll(b, parseSyslogRecords(b), 'rfc5424', w);
  assert.equal(parts.length, ALL.length);
  assert.equal(w.length, parts.reduce((n, p) => n + p.length, 0));
});

for (const format of ['rfc5424', 'rfc3164'] as const) {
  test(`issue-3: parse → ${format} → parse keeps what ${format} can carry, for every fixture`, () => {
    const b1 = batchOf(ALL.map((c) => c.raw));
    const f1 = parseSyslogRecords(b1);
    const b2 = batchOf(formatAll(b1, f1, format));
    const f2 = parseSyslogRecords(b2);
    const wall = (f: RecordFields, i: number): string => {
      const w = new BufferWriter();
      writeBsdTime(w, f.timeMs[i]!, f.tzMin[i]!);
      return w.view().toString();
    };
    ALL.forEach((c, i) => {
      const a = actual(b1, f1, i);
      const z = actual(b2, f2, i);
      const where = `${c.where} → ${b2.data.toString('utf8', b2.recordStart(i), b2.textEnd(i))}`;
      assert.equal(z.flags.includes('MALFORMED'), false, where);
      assert.equal(z.pri, a.pri, where);
      assert.equal(z.host, a.host, where);
      assert.equal(z.msg, a.msg, where);
      assert.equal(z.pid, a.pid, where);
      if (format === 'rfc5424') {
        assert.deepEqual(z.flags, ['HOST', 'PRI', 'RFC5424', 'TIME'], where);
        assert.equal(z.program, a.program, where);
        assert.equal(z.time, a.time, where);
        assert.equal(z.tz, a.tz, where);
        assert.equal(z.frac, a.frac, where);
        assert.equal(z.msgid, a.msgid, where);
        assert.equal(z.sd, a.sd, where);
      } else {
        assert.deepEqual(z.flags, ['HOST', 'PRI', 'TIME'], where);
        assert.equal(z.program, a.program === '' ? '-' : a.program, where);
        // RFC 3164 has neither year nor zone: the wall clock is what survives
        assert.equal(wall(f2, i), wall(f1, i), where);
      }
    });
    // and a second round changes nothing
    const b3 = batchOf(formatAll(b2, f2, format));
    assert.deepEqual(b3.data, b2.data);
  });
}

test('a BOM skipped by the parser is written back, only where it was', () => {
  const withBom = '<13>1 2026-11-23T10:00:00Z h a - - - \ufeffbody';
  assert.equal(one(withBom, 'rfc5424'), withBom);
  assert.equal(one('<13>1 2026-11-23T10:00:00Z h a - - - \ufeff', 'rfc5424'), '<13>1 2026-11-23T10:00:00Z h a - - - \ufeff');
  const b = batchOf([Buffer.from(withBom)]);
  const f = parseSyslogRecords(b);
  assert.equal(f.flags[0]! & RECORD_FLAG.RFC5424, RECORD_FLAG.RFC5424);
  assert.equal(one(withBom, 'rfc3164'), '<13>Nov 23 10:00:00 h a: body');
});
