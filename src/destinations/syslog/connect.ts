// Outgoing TCP and TLS connections of the syslog destination: connect with a timeout and an abort
// signal (TLS: handshake and certificate check included), and the TLS material read from files.
// Sockets only: nothing here knows what a batch or a syslog message is.
// (transport/tcp.ts's connectTcp does the same for the ship protocol, with its error codes.)

import { readFile } from 'node:fs/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { LogshipError } from '../../core/errors.js';
import type { SyslogDestinationOptions, SyslogTarget } from './options.js';

/** TLS settings ready for tls.connect (files already read). */
export type TlsSettings = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

/** Reads the TLS files of the options. Rejects with LS_STARTUP naming the key of a file that cannot be read. */
export async function loadTlsSettings(o: SyslogDestinationOptions, target: SyslogTarget): Promise<TlsSettings> {
  const t = o.tls;
  const read = async (key: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (err) {
      throw new LogshipError('LS_STARTUP', `syslog destination: cannot read tls.${key} ${path}: ${String((err as NodeJS.ErrnoException).code ?? err)}; fix the path or its permissions`, {
        cause: err,
      });
    }
  };
  const [ca, cert, key] = await Promise.all([read('ca_file', t?.ca_file), read('cert_file', t?.cert_file), read('key_file', t?.key_file)]);
  const name = t?.server_name ?? target.host;
  const settings: TlsSettings = { rejectUnauthorized: t?.verify ?? true };
  // SNI carries names only (RFC 6066 §3); an IP target is checked against the certificate's IP SANs.
  if (isIP(name) === 0) settings.servername = name;
  if (ca !== undefined) settings.ca = ca;
  if (cert !== undefined) settings.cert = cert;
  if (key !== undefined) settings.key = key;
  return settings;
}

export interface StreamConnectOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** TLS when set. */
  readonly tls?: TlsSettings;
}

/**
 * Connect to the receiver (TLS: and complete the handshake). The name is resolved on every call.
 * Rejects with LS_SYSLOG_SEND on an error or timeout and LS_SHUTDOWN when aborted; the socket
 * is destroyed in every failure case.
 */
export function connectStream(target: SyslogTarget, opts: StreamConnectOptions): Promise<Socket> {
  const where = `${target.transport}:${target.host}:${target.port}`;
  return new Promise<Socket>((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(new LogshipError('LS_SHUTDOWN', `connect to ${where} aborted: shutting down`));
      return;
    }
    const base = { host: target.host, port: target.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 };
    const socket: Socket = opts.tls === undefined ? netConnect(base) : tlsConnect({ ...base, ...opts.tls });
    const ready = opts.tls === undefined ? 'connect' : 'secureConnect';
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket.removeListener(ready, onReady);
      socket.removeListener('error', onError);
      if (err === null) resolve(socket);
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onReady = (): void => done(null);
    const onError = (err: Error): void => done(new LogshipError('LS_SYSLOG_SEND', `cannot connect to ${where}: ${err.message}`, { cause: err }));
    const onAbort = (): void => done(new LogshipError('LS_SHUTDOWN', `connect to ${where} aborted: shutting down`));
    const timer = setTimeout(
      () => done(new LogshipError('LS_SYSLOG_SEND', `cannot connect to ${where}: no ${opts.tls === undefined ? 'answer' : 'TLS handshake'} within ${opts.timeoutMs} ms (connect_timeout_ms)`)),
      opts.timeoutMs,
    );
    socket.once(ready, onReady);
    socket.once('error', onError);
    opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}
