// logship → real receivers: logship's syslog destination feeds an rsyslog receiver (TCP RFC 5424
// octet-counted, UDP RFC 3164) and a syslog-ng receiver (network() TCP RFC 3164 newline-framed,
// syslog() TCP RFC 5424 octet-counted). The receivers' own parse of each message is checked:
// facility, severity, host, program, pid, timestamp and message — for plain file lines (headers
// from the source's settings) and for syslog lines forwarded with their own headers.
import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnLogship } from '../helpers/logship.js';
import { startRsyslogReceiver, startSyslogNgReceiver, type PeerReceiver, type ReceivedRecord } from '../helpers/peers/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const year = new Date().getFullYear();

test('logship syslog destination → rsyslog and syslog-ng receivers, every framing and format', { timeout: 120_000 }, async (t) => {
  const rs = await startRsyslogReceiver(t, { listen: ['tcp', 'udp'] });
  const ng = await startSyslogNgReceiver(t, {
    listen: [
      { driver: 'network', transport: 'tcp' },
      { driver: 'syslog', transport: 'tcp' },
    ],
  });
  const dir = await tmpDir(t, 'logship-interop-out-');
  const input = join(dir, 'in');
  await mkdir(input);
  await writeFile(join(input, 'raw.log'), '');
  await writeFile(join(input, 'sys.log'), '');
  const targets: Array<[string, string, string]> = [
    ['rs-tcp', `tcp:127.0.0.1:${rs.ports[0]}`, 'format: rfc5424, framing: octet-counting'],
    ['rs-udp', `udp:127.0.0.1:${rs.ports[1]}`, 'format: rfc3164'],
    ['ng-net', `tcp:127.0.0.1:${ng.ports[0]}`, 'format: rfc3164, framing: newline'],
    ['ng-syslog', `tcp:127.0.0.1:${ng.ports[1]}`, 'format: rfc5424, framing: octet-counting'],
  ];
  const config = join(dir, 'emitter.yaml');
  await writeFile(
    config,
    `node: { name: emitter, state_dir: ${join(dir, 'state')} }
log: { level: warn }
sources:
  raw: { type: file, include: ["${input}/raw.log"], start_at: beginning, facility: local2, severity: err, program: webapp }
  sys: { type: file, include: ["${input}/sys.log"], start_at: beginning, format: syslog }
destinations:
${targets.map(([name, target, opts]) => `  ${name}: { type: syslog, target: "${target}", ${opts} }`).join('\n')}
paths:
${targets.map(([name]) => `  - { from: [raw, sys], filter: 'message contains "to-${name}"', to: [${name}] }`).join('\n')}
`,
  );
  const p = spawnLogship(['run', '--config', config]);
  t.after(() => p.stop('SIGKILL'));
  const sentAt = Date.now();
  for (const [name] of targets) {
    await appendFile(join(input, 'raw.log'), `plain line to-${name}\n`);
    await appendFile(join(input, 'sys.log'), `<134>Nov  3 01:02:03 peerhost app[123]: forwarded to-${name}\n`);
  }

  const find = async (r: PeerReceiver, tag: string): Promise<[ReceivedRecord, ReceivedRecord]> =>
    waitFor(
      `two records for ${tag}`,
      async () => {
        const recs = (await r.records()).filter((x) => x.message.includes(`to-${tag}`));
        const plain = recs.find((x) => x.message.startsWith('plain'));
        const fwd = recs.find((x) => x.message.startsWith('forwarded'));
        return plain && fwd ? ([plain, fwd] as [ReceivedRecord, ReceivedRecord]) : undefined;
      },
      20_000,
      100,
    );

  for (const [receiver, tag] of [
    [rs, 'rs-tcp'],
    [rs, 'rs-udp'],
    [ng, 'ng-net'],
    [ng, 'ng-syslog'],
  ] as const) {
    const [plain, fwd] = await find(receiver, tag).catch((err: Error) => {
      throw new Error(`${err.message}\nreceiver got: ${JSON.stringify(receiver.output())}\nlogship said: ${p.output()}`);
    });
    const what = `${tag}: ${JSON.stringify(plain.raw)} / ${JSON.stringify(fwd.raw)}`;
    // A plain file line: the header comes from the source's settings and the node.
    assert.equal(plain.facility, 18, what); // local2
    assert.equal(plain.severity, 3, what); // err
    assert.equal(plain.host, 'emitter', what);
    assert.equal(plain.program, 'webapp', what);
    assert.equal(plain.message, `plain line to-${tag}`, what);
    const ts = Date.parse(plain.timestamp);
    assert.ok(Math.abs(ts - sentAt) < 60_000, `${what}: timestamp ${plain.timestamp}`);
    // A syslog line keeps its own header end to end.
    assert.equal(fwd.facility, 16, what); // local0
    assert.equal(fwd.severity, 6, what); // info
    assert.equal(fwd.host, 'peerhost', what);
    assert.equal(fwd.program, 'app', what);
    assert.equal(fwd.pid, '123', what);
    assert.equal(fwd.message, `forwarded to-${tag}`, what);
    assert.equal(Date.parse(fwd.timestamp), Date.parse(`${year}-11-03T01:02:03`), `${what}: timestamp ${fwd.timestamp}`);
  }
  assert.equal(await p.stop('SIGTERM'), 0, p.output());
});
