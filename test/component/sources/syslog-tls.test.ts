// Component tests of the syslog-tls source (RFC 5425) on real loopback sockets. The certificates
// (a CA, a server and a client certificate) are generated at run time with the openssl CLI into a
// temp dir: no key is committed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { recordFields } from '../../../src/codec/syslog/parse.js';
import type { Batch } from '../../../src/core/batch.js';
import { LogshipError } from '../../../src/core/errors.js';
import type { SyslogStreamServer } from '../../../src/sources/syslog-tcp/index.js';
import { syslogTlsSource } from '../../../src/sources/syslog-tls/index.js';
import { testSourceContext } from '../../helpers/context.js';
import { tmpDir } from '../../helpers/tmp.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, signed by the CA. */
async function makePki(t: TestContext): Promise<Pki> {
  const dir = await tmpDir(t, 'logship-tls-');
  const p = (f: string): string => join(dir, f);
  const ossl = (args: string[]): Promise<unknown> => run('openssl', args, { timeout: 20_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ossl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=logship test CA']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await writeFile(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    await ossl(['req', ...ec, '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`), '-subj', `/CN=logship test ${who}`]);
    await ossl(['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${who}.crt`), '-days', '2', '-extfile', p(`${who}.ext`)]);
  }
  return { dir, ca: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key') };
}

async function startSource(t: TestContext, opts: Record<string, unknown>) {
  const batches: Batch[] = [];
  const ctx = testSourceContext({ stateDir: await tmpDir(t), id: 'tls-in' }, (b) => void batches.push(b));
  const source: SyslogStreamServer = syslogTlsSource.create(syslogTlsSource.options.parse({ type: 'syslog-tls', listen: 'tcp:127.0.0.1:0', ...opts }));
  await source.start(ctx);
  t.after(() => source.stop());
  const records = (): string[] => batches.flatMap((b) => Array.from({ length: b.count }, (_, i) => b.data.toString('latin1', b.recordStart(i), b.textEnd(i))));
  return { source, ctx, batches, records };
}

async function tlsClient(t: TestContext, port: number, k: Pki, withCert: boolean): Promise<TLSSocket> {
  const ca = await readFile(k.ca);
  const opts = withCert ? { ca, cert: await readFile(k.clientCert), key: await readFile(k.clientKey) } : { ca };
  const s = connect({ host: '127.0.0.1', port, ...opts });
  s.on('error', () => {});
  t.after(() => s.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  return s;
}

const frame = (m: string): string => `${Buffer.byteLength(m)} ${m}`;

test('require_client_cert: a client without a certificate is refused; one with a certificate delivers', async (t) => {
  const k = await makePki(t);
  const s = await startSource(t, { cert_file: k.serverCert, key_file: k.serverKey, ca_file: k.ca, require_client_cert: true });

  // TLS 1.3: the client finishes its side of the handshake, then the server's alert closes it.
  const anon = await tlsClient(t, s.source.port, k, false).catch(() => null);
  if (anon !== null) {
    anon.write(frame('<13>app: must not arrive'));
    await new Promise<void>((resolve) => (anon.destroyed ? resolve() : anon.once('close', () => resolve())));
  }
  await waitFor('failed handshake counted', () => s.ctx.counters.get('logship_syslog_tls_handshake_failures_total') === 1, 5000);

  const good = await tlsClient(t, s.source.port, k, true);
  good.write(frame('<134>1 2026-11-23T10:00:00.123Z web-1 myapp 42 - - hello over tls') + frame('<13>second'));
  await waitFor('2 records', () => s.records().length === 2, 5000);
  await sleep(50);
  assert.deepEqual(s.records(), ['<134>1 2026-11-23T10:00:00.123Z web-1 myapp 42 - - hello over tls', '<13>second']);
  const f = recordFields(s.batches[0]!);
  assert.equal(f.facility(0), 16);
  assert.equal(f.severity(0), 6);
  assert.equal(f.host[0], 'web-1');
  assert.equal(f.program[0], 'myapp');
  assert.equal(f.timeMs[0], Date.parse('2026-11-23T10:00:00.123Z'));
  assert.equal(s.batches[0]!.meta.host, '127.0.0.1');
  assert.deepEqual(s.source.connections().map((c) => c.framing), ['octet-counting']);
});

test('without require_client_cert any TLS client delivers; newline framing is detected too', async (t) => {
  const k = await makePki(t);
  const s = await startSource(t, { cert_file: k.serverCert, key_file: k.serverKey });
  const c = await tlsClient(t, s.source.port, k, false);
  c.write('<13>one\n<13>two\n');
  await waitFor('2 records', () => s.records().length === 2, 5000);
  assert.deepEqual(s.records(), ['<13>one', '<13>two']);
  assert.deepEqual(s.source.connections().map((x) => x.framing), ['newline']);
});

test('a plain-TCP peer on the TLS port is counted as a failed handshake; the listener goes on', async (t) => {
  const k = await makePki(t);
  const s = await startSource(t, { cert_file: k.serverCert, key_file: k.serverKey, handshake_timeout_ms: 1000 });
  const { connect: tcpConnect } = await import('node:net');
  const raw = tcpConnect({ host: '127.0.0.1', port: s.source.port });
  raw.on('error', () => {});
  t.after(() => raw.destroy());
  raw.write('<13>plain text on a TLS port\n');
  await waitFor('failed handshake counted', () => s.ctx.counters.get('logship_syslog_tls_handshake_failures_total') === 1, 5000);
  const c = await tlsClient(t, s.source.port, k, false);
  c.write(frame('<13>still serving'));
  await waitFor('record', () => s.records().length === 1, 5000);
  assert.deepEqual(s.records(), ['<13>still serving']);
});

test('stop() closes the TLS listener and pushes the partial last message', async (t) => {
  const k = await makePki(t);
  const s = await startSource(t, { cert_file: k.serverCert, key_file: k.serverKey });
  const c = await tlsClient(t, s.source.port, k, false);
  c.write('<13>complete\n<13>partial');
  await waitFor('received', () => s.records().length === 1, 5000);
  await sleep(50);
  await s.source.stop();
  assert.deepEqual(s.records(), ['<13>complete', '<13>partial']);
});

test('unreadable certificate files fail start() with LS_STARTUP; require_client_cert needs ca_file', async (t) => {
  const k = await makePki(t);
  const bad = syslogTlsSource.create(syslogTlsSource.options.parse({ type: 'syslog-tls', listen: 'tcp:127.0.0.1:0', cert_file: join(k.dir, 'missing.crt'), key_file: k.serverKey }));
  const ctx = testSourceContext({ stateDir: await tmpDir(t) }, () => undefined);
  await assert.rejects(bad.start(ctx), (err: unknown) => err instanceof LogshipError && err.code === 'LS_STARTUP');
  const mismatched = syslogTlsSource.create(syslogTlsSource.options.parse({ type: 'syslog-tls', listen: 'tcp:127.0.0.1:0', cert_file: k.serverCert, key_file: k.clientKey }));
  await assert.rejects(mismatched.start(ctx), (err: unknown) => err instanceof LogshipError && err.code === 'LS_STARTUP');

  const r = syslogTlsSource.options.safeParse({ type: 'syslog-tls', listen: 'tcp:0.0.0.0:6514', cert_file: 'a', key_file: 'b', require_client_cert: true });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues[0]?.path, ['ca_file']);
  const ok = syslogTlsSource.options.parse({ type: 'syslog-tls', listen: 'tcp:0.0.0.0:6514', cert_file: 'a', key_file: 'b' });
  assert.equal(ok.require_client_cert, false);
  assert.equal(ok.max_connections, 1024);
});
