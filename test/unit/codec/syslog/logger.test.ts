// The parser against util-linux logger's own output, made here and now: `logger --stderr --no-act`
// prints the exact message it would send (and sends nothing). Needs util-linux's logger, which
// .ci/run installs for the interop tier too.
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseSyslogRecords } from '../../../../src/codec/syslog/parse.js';
import { resetZoneCache } from '../../../../src/codec/syslog/timestamp.js';
import { RECORD_FLAG } from '../../../../src/core/records.js';
import { actual, batchOf, TEST_META } from './fixtures.js';

resetZoneCache();
const run = promisify(execFile);

/** What logger prints for these arguments (without its trailing "\n"), and when it ran. */
async function logger(args: string[], tz = 'UTC'): Promise<{ raw: Buffer; before: number; after: number }> {
  const before = Date.now();
  const { stderr } = await run('logger', ['--stderr', '--no-act', '-n', '127.0.0.1', '-P', '9', ...args], {
    encoding: 'buffer',
    env: { ...process.env, TZ: tz, LC_ALL: 'C' },
    timeout: 10_000,
  });
  const after = Date.now();
  assert.equal(stderr[stderr.length - 1], 0x0a);
  return { raw: stderr.subarray(0, stderr.length - 1), before, after };
}

function parse(raw: Buffer, now: number): ReturnType<typeof actual> & { timeMs: number } {
  const b = batchOf([raw], '\n', { ...TEST_META, timeMs: now });
  const f = parseSyslogRecords(b);
  return { ...actual(b, f, 0), timeMs: f.timeMs[0]! };
}

const short = hostname().split('.')[0]!;

test('issue-3: logger --rfc3164 -i -t -p', async () => {
  const { raw, before, after } = await logger(['--rfc3164', '-i', '-t', 'myapp', '-p', 'local3.warning', 'hello 3164 é']);
  const r = parse(raw, after);
  assert.deepEqual(r.flags, ['HOST', 'PRI', 'TIME'], raw.toString());
  assert.equal(r.pri, 19 * 8 + 4);
  assert.equal(r.host, short);
  assert.equal(r.program, 'myapp');
  assert.match(r.pid ?? '', /^\d+$/);
  assert.equal(r.msg, 'hello 3164 é');
  assert.ok(r.timeMs >= Math.floor(before / 1000) * 1000 && r.timeMs <= after, `${r.timeMs} in [${before}, ${after}]`);
});

test('issue-3: logger --rfc5424 with --msgid and escaped --sd-param', async () => {
  const { raw, before, after } = await logger([
    '--rfc5424',
    '-i',
    '-t',
    'myapp',
    '-p',
    'daemon.err',
    '--msgid',
    'ID47',
    '--sd-id',
    'x@32473',
    '--sd-param',
    'a="b\\]c"',
    '--sd-param',
    'q="say \\"hi\\""',
    'hello 5424',
  ]);
  const r = parse(raw, after);
  assert.deepEqual(r.flags, ['HOST', 'PRI', 'RFC5424', 'TIME'], raw.toString());
  assert.equal(r.pri, 3 * 8 + 3);
  assert.equal(r.host, hostname());
  assert.equal(r.program, 'myapp');
  assert.equal(r.pid, String(Number(r.pid)));
  assert.equal(r.msgid, 'ID47');
  assert.equal(r.sd, '[timeQuality tzKnown="1" isSynced="0"][x@32473 a="b\\]c" q="say \\"hi\\""]');
  assert.equal(r.msg, 'hello 5424');
  assert.equal(r.frac, 6);
  assert.ok(r.timeMs >= before && r.timeMs <= after + 1, `${r.timeMs} in [${before}, ${after}]`);
});

test('issue-3: logger --rfc5424=notq,notime,nohost: nil time and host take the defaults', async () => {
  const { raw, after } = await logger(['--rfc5424=notq,notime,nohost', '-t', 'x', 'bare']);
  const r = parse(raw, after);
  assert.deepEqual(r.flags, ['PRI', 'RFC5424'], raw.toString());
  assert.equal(r.host, TEST_META.host);
  assert.equal(r.timeMs, after);
  assert.equal(r.msg, 'bare');
});

test('issue-3: logger --rfc5424 in a +05:30 zone keeps the offset', async () => {
  const { raw, before, after } = await logger(['--rfc5424', '-t', 'k', 'offset'], 'Asia/Kolkata');
  const r = parse(raw, after);
  assert.equal(r.tz, 330, raw.toString());
  assert.ok(r.timeMs >= before && r.timeMs <= after + 1);
  assert.equal((parseSyslogRecords(batchOf([raw])).flags[0]! & RECORD_FLAG.MALFORMED) === 0, true);
});
