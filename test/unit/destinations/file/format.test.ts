import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Batch, indexLines, type BatchMeta } from '../../../../src/core/batch.js';
import { recordFields } from '../../../../src/codec/syslog/parse.js';
import { compileLineFormat, encodedBound, encodeRecords, encodeSyslogRecords, renderLines, syslogBound } from '../../../../src/destinations/file/format.js';
import { appendPlanned, lineRuns, setLineRuns, type LineRunsBinding } from '../../../../src/destinations/file/line-runs.js';
import { prngInts } from '../../../helpers/prng.js';
import { tmpDir } from '../../../helpers/tmp.js';

const META: BatchMeta = { host: 'web-1', program: 'nginx', facility: 3, severity: 4, timeMs: Date.UTC(2026, 10, 23, 10, 33, 0, 123) };

function batchOf(text: string | Buffer, meta: BatchMeta = META, offset = 0): Batch {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  return new Batch(data, indexLines(data), meta, { origin: 'n', stream: 's', offset });
}

function format(template: string, b: Batch, first = 0, from = 0): string {
  const lines = renderLines(compileLineFormat(template), b.meta);
  const out = Buffer.alloc(encodedBound(lines, b, first, from));
  const end = encodeRecords(out, 0, lines, b, first, from);
  return out.subarray(0, end).toString('latin1');
}

test('default format is like syslog-ng file output', () => {
  assert.equal(
    format('default', batchOf('hello\nworld\n')),
    '2026-11-23T10:33:00.123Z web-1 nginx: hello\n2026-11-23T10:33:00.123Z web-1 nginx: world\n',
  );
});

test('raw writes the original lines only; CRLF is normalized to LF', () => {
  assert.equal(format('raw', batchOf('a\r\nb\n\nc\n')), 'a\nb\n\nc\n');
});

test('custom template with every macro and two messages', () => {
  const t = '${PRI} ${facility}.${severity} ${YEAR}${MONTH}${DAY}${HOUR}${MIN}${SEC} [${MESSAGE}|${MESSAGE}]';
  assert.equal(format(t, batchOf('x\ny\n')), '28 daemon.warning 20261123103300 [x|x]\n28 daemon.warning 20261123103300 [y|y]\n');
});

test('a template without ${MESSAGE} writes one line per record', () => {
  assert.equal(format('${host}', batchOf('a\nb\n')), 'web-1\nweb-1\n');
});

test('NUL is dropped; a stray CR and invalid UTF-8 are kept', () => {
  const data = Buffer.concat([Buffer.from('a\u0000b\rc'), Buffer.from([0xff, 0xfe]), Buffer.from('\n\u0000\u0000\nz\u0000\n')]);
  const out = format('raw', batchOf(data));
  assert.deepEqual(Buffer.from(out, 'latin1'), Buffer.concat([Buffer.from('ab\rc'), Buffer.from([0xff, 0xfe]), Buffer.from('\n\nz\n')]));
  assert.equal(format('<${MESSAGE}|${MESSAGE}>', batchOf('a\u0000b\nc\n')), '<ab|ab>\n<c|c>\n');
});

test('control characters in host or program cannot break the line', () => {
  const meta = { ...META, host: 'evil\nhost', program: 'p\u0000' };
  assert.equal(format('${host} ${program}: ${MESSAGE}', batchOf('m\n', meta)), 'evil_host p_: m\n');
});

test('writing from a record in the middle (dedupe) and from inside a record (straddle)', () => {
  const b = batchOf('aaa\nbbb\nccc\n');
  assert.equal(format('raw', b, 1, 4), 'bbb\nccc\n');
  assert.equal(format('raw', b, 1, 6), 'b\nccc\n');
  assert.equal(format('raw', b, 3, 12), '');
});

test('a last record without terminator gets one', () => {
  const data = Buffer.from('one\ntwo');
  const b = new Batch(data, new Uint32Array([4, 7]), META, { origin: 'n', stream: 's', offset: 0 });
  assert.equal(format('raw', b), 'one\ntwo\n');
});

test('the bound is never exceeded', () => {
  const b = batchOf('x\r\n\u0000\n\n'.repeat(50));
  for (const t of ['raw', 'default', '${MESSAGE}${MESSAGE}${MESSAGE}', 'const']) {
    const lines = renderLines(compileLineFormat(t), b.meta);
    const bound = encodedBound(lines, b, 0, 0);
    const out = Buffer.alloc(bound + 16, 0x21);
    const end = encodeRecords(out, 0, lines, b, 0, 0);
    assert.ok(end <= bound, t);
    assert.equal(out[bound], 0x21);
  }
});

// ---- issue 3: syslog batches render each line from the record's own header -------------------

const SYSLOG_META: BatchMeta = { ...META, host: 'sender', program: 'meta-prog', format: 'syslog' };
const SYSLOG_TEXT =
  [
    '<34>1 2026-11-23T10:33:00.123+02:00 web-1 sshd 1234 ID47 [exampleSDID@32473 iut="3"] message one',
    '<13>1 2026-11-24T00:00:01Z db-2 cron - - - hello',
    'not syslog at all',
  ].join('\n') + '\n';

function syslogFormat(template: string, b: Batch, first = 0, from = 0, records: number[] | null = null): string {
  const fmt = compileLineFormat(template);
  const fields = recordFields(b);
  const bound = syslogBound(fmt, b, fields, records, first);
  const out = Buffer.alloc(bound + 8, 0x21);
  const end = encodeSyslogRecords(out, 0, fmt, b, fields, records, first, from);
  assert.ok(end <= bound, `wrote ${end} > bound ${bound}`);
  assert.equal(out[bound], 0x21, 'nothing past the bound');
  return out.subarray(0, end).toString('utf8');
}

test('issue 3: the default line of a syslog record takes date, host, program and message from the record', () => {
  assert.equal(
    syslogFormat('default', batchOf(SYSLOG_TEXT, SYSLOG_META)),
    '2026-11-23T08:33:00.123Z web-1 sshd: message one\n' +
      '2026-11-24T00:00:01.000Z db-2 cron: hello\n' +
      // not syslog: kept whole as the message, the batch meta for the rest (time: when it was read)
      '2026-11-23T10:33:00.123Z sender meta-prog: not syslog at all\n',
  );
});

test('issue 3: PRI, facility, severity, PID, MSGID, SDATA and date macros per record', () => {
  const t = '${PRI} ${facility}.${severity} ${YEAR}${MONTH}${DAY}${HOUR}${MIN}${SEC} [${PID}] [${MSGID}] [${SDATA}] ${MESSAGE}';
  assert.equal(
    syslogFormat(t, batchOf(SYSLOG_TEXT, SYSLOG_META)),
    '34 auth.crit 20261123083300 [1234] [ID47] [[exampleSDID@32473 iut="3"]] message one\n' +
      '13 user.notice 20261124000001 [] [] [] hello\n' +
      '28 daemon.warning 20261123103300 [] [] [] not syslog at all\n',
  );
});

test('issue 3: raw writes a syslog record as received; records can be picked (per-record paths)', () => {
  const b = batchOf(SYSLOG_TEXT, SYSLOG_META);
  assert.equal(syslogFormat('raw', b), SYSLOG_TEXT);
  assert.equal(syslogFormat('${host}|${MESSAGE}', b, 0, 0, [0, 2]), 'web-1|message one\nsender|not syslog at all\n');
});

test('issue 3: a straddled syslog record is cut at hw: raw from hw, the message from hw when hw is inside it', () => {
  const b = batchOf(SYSLOG_TEXT, SYSLOG_META);
  const msg = SYSLOG_TEXT.indexOf('message one');
  assert.equal(syslogFormat('raw', b, 0, msg + 8, [0]), 'one\n');
  assert.equal(syslogFormat('${host}: ${MESSAGE}', b, 0, msg + 8, [0]), 'web-1: one\n');
  // hw inside the header: the whole message part is still new
  assert.equal(syslogFormat('${host}: ${MESSAGE}', b, 0, 5, [0]), 'web-1: message one\n');
});

test('issue 3: ${PID} ${MSGID} ${SDATA} are empty for batches that are not syslog', () => {
  assert.equal(format('[${PID}][${MSGID}][${SDATA}] ${MESSAGE}', batchOf('x\n')), '[][][] x\n');
});

test('issue 3: NUL and control bytes of a syslog record cannot break the file format; the bound holds', () => {
  const evil =
    Buffer.concat([
      Buffer.from('<13>1 2026-11-23T10:33:00Z h\u0001st app\u0007 p\u0000d - [x@1 a="\u0000\u0001"] m\u0000s\u0000g'),
      Buffer.from('\n<13>Nov 23 10:33:00 host tag[1]: a\u0000b\n\u0000\n'),
      Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0xff, 0xfe, 0x0a]),
    ]);
  const b = batchOf(evil, SYSLOG_META);
  for (const t of ['default', 'raw', '${PID}${MSGID}${SDATA}${MESSAGE}${MESSAGE}', '${ISODATE} ${PRI} ${facility} ${severity}', 'const']) {
    const out = syslogFormat(t, b);
    assert.ok(!out.includes('\u0000'), `${t}: no NUL`);
    assert.equal(out.split('\n').length - 1, b.count, `${t}: one line per record`);
  }
  assert.equal(syslogFormat('${host} ${program} ${PID} ${MESSAGE}', batchOf(evil.subarray(0, evil.indexOf(0x0a) + 1), SYSLOG_META)), 'h_st app_ p_d msg\n');
});

test('perf-hot: long and short runs are copied alike (messages, literals and names past the byte-by-byte size)', () => {
  const long = 'm'.repeat(40) + ' middle ' + 'n'.repeat(40);
  const host = 'h'.repeat(45);
  const text = `<13>Nov 23 10:33:00 ${host} app[7]: ${long}\n<13>Nov 23 10:33:01 short app: a\u0000${long}\u0000z\n`;
  const b = batchOf(text, SYSLOG_META);
  const lit = '-'.repeat(33);
  assert.equal(
    syslogFormat(`\${SEC}${lit}\${host}|\${MESSAGE}`, b),
    `00${lit}${host}|${long}\n01${lit}short|a${long}z\n`,
  );
  // the straddled record is written from hw on, inside the long message
  const hw = text.indexOf(' middle ');
  assert.equal(syslogFormat('|${MESSAGE}', b, 0, hw), `| middle ${'n'.repeat(40)}\n|a${long}z\n`);
  // plain batches: long segments and records
  assert.equal(format(`${lit}\${MESSAGE}`, batchOf(`${long}\nx\u0000${long}\n`)), `${lit}${long}\n${lit}x${long}\n`);
});

test('perf-hot: a line whose record has the time, host, program and PRI of the line before repeats its start; any change renders anew', () => {
  const recs = [
    '<13>1 2026-11-23T10:33:00Z web-1 app 1 - - one',
    '<13>1 2026-11-23T10:33:00Z web-1 app 2 - - two',
    '<13>1 2026-11-23T10:33:01Z web-1 app 2 - - three',
    '<13>1 2026-11-23T10:33:01Z web-2 app 2 - - four',
    '<13>1 2026-11-23T10:33:01Z web-2 other 2 - - five',
    '<14>1 2026-11-23T10:33:01Z web-2 other 2 - - six',
    '<14>1 2026-11-23T10:33:01Z web-2 other 2 - - seven',
  ];
  const b = batchOf(recs.join('\n') + '\n', SYSLOG_META);
  const y = 2026;
  // short prefix (copied byte by byte), long prefix (copyWithin), a date after ${MESSAGE}, PID after it
  assert.equal(
    syslogFormat('${host}|${MESSAGE}|${SEC}${PID}', b),
    'web-1|one|001\nweb-1|two|002\nweb-1|three|012\nweb-2|four|012\nweb-2|five|012\nweb-2|six|012\nweb-2|seven|012\n',
  );
  const long = '${ISODATE} ${facility}.${severity} ${PRI} ${host} ${program}: ${MESSAGE}';
  const d = (s: string): string => `${y}-11-23T10:33:0${s}.000Z`;
  assert.equal(
    syslogFormat(long, b),
    [
      `${d('0')} user.notice 13 web-1 app: one`,
      `${d('0')} user.notice 13 web-1 app: two`,
      `${d('1')} user.notice 13 web-1 app: three`,
      `${d('1')} user.notice 13 web-2 app: four`,
      `${d('1')} user.notice 13 web-2 other: five`,
      `${d('1')} user.info 14 web-2 other: six`,
      `${d('1')} user.info 14 web-2 other: seven`,
    ].join('\n') + '\n',
  );
  // a ${PID} before ${MESSAGE} comes from each record's bytes: never repeated
  assert.equal(syslogFormat('${host}[${PID}] ${MESSAGE}', b, 0, 0, [0, 1]), 'web-1[1] one\nweb-1[2] two\n');
});

// ---- the native line writer (line-runs.ts) against the JavaScript loop ------------------------

/** Encodes as the writer does: the batch's bytes first in the arena, the lines after them. */
function inArena(template: string, b: Batch, first: number, from: number): Buffer {
  const fmt = compileLineFormat(template);
  const fields = recordFields(b);
  const bound = syslogBound(fmt, b, fields, null, first);
  const n = b.data.length;
  const out = Buffer.alloc(n + bound + 8, 0x21);
  b.data.copy(out, 0);
  const end = encodeSyslogRecords(out, n, fmt, b, fields, null, first, from, out.subarray(0, n));
  assert.ok(end <= n + bound, `wrote ${end - n} > bound ${bound}`);
  assert.equal(out[n + bound], 0x21, 'nothing past the bound');
  return Buffer.from(out.subarray(n, end));
}

/** Runs of records that repeat a header (RFC 3164 and 5424), with headers changing now and then. */
function runsText(rnd: (k: number) => number): string {
  const lines: string[] = [];
  let header = '';
  const n = 1 + rnd(300);
  for (let i = 0; i < n; i++) {
    if (header === '' || rnd(12) === 0) {
      const sec = String(10 + rnd(3)).padStart(2, '0');
      const host = `host-${rnd(3)}`;
      header = [
        `<13>Dec  7 04:36:${sec} ${host} prog[${rnd(2)}]: `,
        `<14>1 2026-12-07T04:36:${sec}.${rnd(1000)}Z ${host} app ${rnd(9)} - - `,
        `<13>Dec  7 04:36:${sec} ${host} prog: `,
      ][rnd(3)]!;
    }
    const kind = rnd(20);
    const msg = kind === 0 ? '' : kind === 1 ? 'x\r' : kind === 2 ? 'trailing  ' : kind === 3 ? 'not syslog' : `message ${i} ${'m'.repeat(rnd(40))}`;
    lines.push(kind === 3 ? msg : header + msg);
  }
  return lines.join('\n') + (rnd(3) === 0 ? '' : '\n');
}

test('perf-hot: the native line writer writes runs of repeated headers byte for byte as the JavaScript loop does', (t) => {
  const real = lineRuns();
  assert.ok(real !== null, 'the line writer is built (npm ci builds it)');
  let calls = 0;
  let lines = 0;
  const counting: LineRunsBinding = {
    ...real,
    lines: (out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop) => {
      calls++;
      const end = real.lines(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop);
      lines += stop[0]! - i;
      return end;
    },
  };
  t.after(() => setLineRuns(undefined));
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prngInts(seed);
    const b = batchOf(runsText(rnd), SYSLOG_META);
    const first = rnd(4) === 0 ? rnd(b.count) : 0;
    const from = first > 0 ? b.recordStart(first) + rnd(5) : 0;
    for (const template of ['default', '${host} ${program}[${PRI}]: ${MESSAGE}', '${MESSAGE}', '${ISODATE} ${MESSAGE} (${PID})', 'raw']) {
      setLineRuns(null);
      const js = inArena(template, b, first, from);
      setLineRuns(counting);
      const native = inArena(template, b, first, from);
      assert.deepEqual(native.toString('latin1'), js.toString('latin1'), `seed ${seed}, ${template}, first ${first}, from ${from}`);
    }
  }
  assert.ok(calls > 100 && lines > 5000, `the native writer wrote ${lines} lines in ${calls} calls`);
});

/**
 * As inArena, but the way the writer plans a cycle: the batch read where it lies, its runs planned
 * (RunPlan), then appended to a file by the pool job. What the file holds, the plan's length, and
 * how many bytes of the lines the main thread left unwritten.
 */
async function plannedToFile(
  file: string,
  template: string,
  b: Batch,
  first: number,
  from: number,
  planSize = 4 * b.count + 5,
): Promise<{ bytes: Buffer; planned: number; deferred: number }> {
  const runs = lineRuns()!;
  const fmt = compileLineFormat(template);
  const fields = recordFields(b);
  const bound = syslogBound(fmt, b, fields, null, first);
  const out = Buffer.alloc(16 + bound + 8, 0);
  const runPlan = { plan: new Uint32Array(planSize), at: 0, src: 0 };
  const end = encodeSyslogRecords(out, 16, fmt, b, fields, null, first, from, b.data, runPlan);
  assert.ok(end <= 16 + bound, `wrote ${end - 16} > bound ${bound}`);
  let deferred = 0;
  for (let k = 16; k < end; k++) if (out[k] === 0) deferred++; // (the texts hold no NUL: a run's line is still unwritten)
  const fh = await open(file, 'w');
  try {
    await appendPlanned(runs, fh.fd, out, 16, end, [b.data], runPlan.plan, 0, runPlan.at);
  } finally {
    await fh.close();
  }
  return { bytes: await readFile(file), planned: runPlan.at, deferred };
}

test('perf-hot: planned runs, their lines copied and appended in the thread pool, give the file the bytes the JavaScript loop writes', async (t) => {
  assert.ok(lineRuns() !== null, 'the line writer is built');
  const file = join(await tmpDir(t), 'out.log');
  let planned = 0;
  let deferred = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const rnd = prngInts(seed);
    const b = batchOf(runsText(rnd), SYSLOG_META);
    const first = rnd(4) === 0 ? rnd(b.count) : 0;
    const from = first > 0 ? b.recordStart(first) + rnd(5) : 0;
    for (const template of ['default', '${host} ${program}[${PRI}]: ${MESSAGE}', '${ISODATE} ${MESSAGE} (${PID})', 'raw']) {
      setLineRuns(null);
      const js = inArena(template, b, first, from);
      setLineRuns(undefined);
      const got = await plannedToFile(file, template, b, first, from);
      assert.equal(got.bytes.toString('latin1'), js.toString('latin1'), `seed ${seed}, ${template}, first ${first}, from ${from}`);
      planned += got.planned;
      deferred += got.deferred;
    }
  }
  // The runs were planned, not written: their bytes were left to the pool job.
  assert.ok(planned > 10_000 && deferred > 100_000, `${planned} plan entries, ${deferred} bytes left to the pool`);
});

test('a plan too small for every run: the runs that do not fit are written in JavaScript, the same bytes', async (t) => {
  assert.ok(lineRuns() !== null, 'the line writer is built');
  const file = join(await tmpDir(t), 'out.log');
  let cut = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const b = batchOf(runsText(prngInts(seed)), SYSLOG_META);
    setLineRuns(null);
    const js = inArena('default', b, 0, 0);
    setLineRuns(undefined);
    const full = await plannedToFile(file, 'default', b, 0, 0);
    for (const size of [0, 5, 6, 7, 13, 40, 100]) {
      const got = await plannedToFile(file, 'default', b, 0, 0, size);
      assert.equal(got.bytes.toString('latin1'), js.toString('latin1'), `seed ${seed}, a plan of ${size}`);
      assert.ok(got.planned <= size);
      if (got.planned < full.planned) cut++;
    }
  }
  assert.ok(cut > 100, `${cut} plans were cut short`);
});

test('the pool job refuses a plan outside its bounds (nothing queued) and reports a failed write with its errno code', async (t) => {
  const runs = lineRuns();
  assert.ok(runs !== null, 'the line writer is built');
  const file = join(await tmpDir(t), 'out.log');
  const src = Buffer.from('message-one|message-two|');
  const out = Buffer.from('prefix: \n'.padEnd(80, '.'));
  const fh = await open(file, 'w');
  t.after(() => fh.close());
  // A sound plan: one run of two lines, prefix at 0 (8 bytes), messages from source 0.
  const plan = new Uint32Array([16, 0, 8, 2, 0, 0, 11, 12, 11]);
  await appendPlanned(runs, fh.fd, out, 0, 16 + 2 * 20, [src], plan, 0, plan.length);
  assert.equal((await readFile(file, 'latin1')).slice(16), 'prefix: message-one\nprefix: message-two\n');
  const size = (await readFile(file)).length;
  const refused = async (p: number[], what: string, sources: Uint8Array[] = [src]): Promise<void> => {
    await assert.rejects(appendPlanned(runs, fh.fd, out, 0, 80, sources, new Uint32Array(p), 0, p.length), { code: 'EINVAL', name: 'RangeError' }, what);
    assert.equal((await readFile(file)).length, size, `nothing written: ${what}`);
  };
  await refused([16, 0, 8, 2, 0, 0, 11], 'a run with fewer lines than it counts');
  await refused([16, 0, 8, 1, 0, 20, 11], 'a message past the end of its source');
  await refused([16, 0, 8, 1, 1, 0, 11], 'a source that is not there');
  await refused([16, 12, 8, 1, 0, 0, 11], 'a prefix that ends after the line starts');
  await refused([70, 0, 8, 1, 0, 0, 11], 'a line past the end');
  await refused([16, 0, 8, 0, 0], 'an empty run');
  await refused([30, 0, 8, 1, 0, 0, 1, 16, 0, 8, 1, 0, 0, 1], 'runs out of order');
  await refused([16, 0, 8, 1, 0, 0, 11], 'a source inside out', [out.subarray(40)]);
  await refused([16, 0, 8, 1, 0, 0, 11], 'a source that is no Uint8Array', [new Uint32Array(8) as unknown as Uint8Array]);
  // A plan outside its file's range: the file starts at 8, the prefix lies before it.
  await assert.rejects(appendPlanned(runs, fh.fd, out, 8, 80, [src], new Uint32Array([16, 0, 8, 1, 0, 0, 11]), 0, 7), RangeError, "a prefix before the file's bytes");
  assert.throws(() => runs.append(fh.fd, out, 0, 81, [src], plan, 0, plan.length, () => undefined), RangeError);
  assert.throws(() => runs.append(Number.NaN, out, 0, 80, [src], plan, 0, plan.length, () => undefined), RangeError);
  assert.throws(() => runs.append(2 ** 32 + 1, out, 0, 80, [src], plan, 0, plan.length, () => undefined), RangeError);
  assert.throws(() => runs.append(fh.fd, out, 0.5, 80, [src], plan, 0, plan.length, () => undefined), RangeError);
  // An empty message whose msgStart lies past its record (and the batch) is planned as the line
  // lines() writes: the prefix and LF.
  const data = Buffer.from('h0 a\nh1 b\nh2 c\nh3 d\nh4 \n');
  const cols = [Uint32Array.from([5, 10, 15, 20, 24]), Uint32Array.from([3, 8, 13, 18, 25]), Uint32Array.from([4, 9, 14, 19, 24]), new Int32Array(5)] as const;
  const arena = Buffer.alloc(64);
  data.copy(arena, 0);
  arena.write('P: ', 25);
  const stop = new Int32Array(2);
  const written = runs.lines(arena, 28, 25, 3, 0, 24, ...cols, 1, 5, stop);
  const p2 = new Uint32Array(16);
  const out2 = Buffer.alloc(64);
  out2.write('P: ');
  assert.equal(runs.plan(data, 64, 3, 0, 3, ...cols, 1, 5, stop, p2, 0, 0), written - 25);
  const file2 = join(dirname(file), 'empty.log');
  const fh2 = await open(file2, 'w');
  await appendPlanned(runs, fh2.fd, out2, 0, written - 25, [data], p2, 0, stop[1]!).finally(() => fh2.close());
  assert.equal(await readFile(file2, 'latin1'), arena.subarray(25, written).toString('latin1'));
  assert.equal(await readFile(file2, 'latin1'), 'P: P: b\nP: c\nP: d\nP: \n'); // (the prefix's own line, then the run)
  // A real failed write(2): /dev/full answers ENOSPC.
  const full = await open('/dev/full', 'w');
  t.after(() => full.close());
  await assert.rejects(appendPlanned(runs, full.fd, out, 0, 40, [src], plan, 0, 0), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC' && /write/.test(e.message));
});

test('the native line writer refuses or stops on arguments its caller never passes (no write outside its arena)', () => {
  const b = lineRuns();
  assert.ok(b !== null, 'the line writer is built');
  const stop = new Int32Array(1);
  const out = new Uint8Array(64);
  const u = (n: number): Uint32Array => new Uint32Array(n);
  // An empty run (i == n): nothing written, nothing read.
  assert.equal(b.lines(out, 10, 0, 4, 0, 10, u(1), u(1), u(1), new Int32Array(1), 1, 1, stop), 10);
  assert.equal(stop[0], 1);
  // The batch's bytes must end before the output starts; positions that overflow are refused.
  assert.throws(() => b.lines(out, 10, 0, 4, 0, 11, u(3), u(3), u(3), new Int32Array(3), 1, 3, stop), RangeError);
  assert.throws(() => b.lines(out, 10, 2 ** 62, 2 ** 62, 0, 8, u(3), u(3), u(3), new Int32Array(3), 1, 3, stop), RangeError);
  // A record whose end lies past the batch's bytes is left to the caller.
  const ends = new Uint32Array([2, 4, 40]);
  assert.equal(b.lines(out, 10, 0, 2, 0, 8, ends, new Uint32Array([0, 2, 4]), new Uint32Array([1, 3, 39]), new Int32Array([0, 0, 0]), 1, 3, stop), 14);
  assert.equal(stop[0], 2);
});

test('perf-hot: runs shorter than four records stay in JavaScript (a native call costs more than a few lines)', (t) => {
  const real = lineRuns();
  assert.ok(real !== null);
  let calls = 0;
  setLineRuns({ ...real, lines: (...a: Parameters<LineRunsBinding['lines']>) => (calls++, real.lines(...a)) });
  t.after(() => setLineRuns(undefined));
  const pairs = Array.from({ length: 40 }, (_, k) => `<13>Dec  7 04:36:${String(10 + (k % 50)).padStart(2, '0')} h p: m${k}`);
  const b = batchOf(pairs.flatMap((l) => [l, `${l} again`, `${l} and again`]).join('\n') + '\n', SYSLOG_META);
  const got = inArena('default', b, 0, 0);
  assert.equal(calls, 0);
  setLineRuns(null);
  assert.deepEqual(got, inArena('default', b, 0, 0));
});
