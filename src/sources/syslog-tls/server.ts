// Binding of the syslog-tls listener: reads the certificate, key and CA files, creates a TLS
// server (client certificates required when configured), hands each peer to the syslog-tcp
// connection code once its handshake is done, and counts failed handshakes.

import { readFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { createServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { LogshipError } from '../../core/errors.js';
import type { BindFn } from '../syslog-tcp/server.js';
import type { SyslogTlsOptions } from './options.js';

async function readPem(path: string, key: 'cert_file' | 'key_file' | 'ca_file'): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new LogshipError('LS_STARTUP', `syslog-tls: cannot read ${key} ${path}: ${code}; fix the path or the file's permissions`, { cause: err });
  }
}

/** The BindFn of syslog-tls for these options. */
export function tlsBinder(o: SyslogTlsOptions): BindFn {
  return async (req, ctx) => {
    const cert = await readPem(o.cert_file, 'cert_file');
    const key = await readPem(o.key_file, 'key_file');
    const ca = o.ca_file === undefined ? undefined : await readPem(o.ca_file, 'ca_file');
    const tlsOpts: TlsOptions = {
      cert,
      key,
      minVersion: 'TLSv1.2',
      requestCert: o.require_client_cert,
      rejectUnauthorized: o.require_client_cert,
      handshakeTimeout: o.handshake_timeout_ms,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    };
    if (ca !== undefined) tlsOpts.ca = ca;
    let server: Server;
    try {
      server = createServer(tlsOpts, (socket: TLSSocket) => req.onConnection(socket));
    } catch (err) {
      throw new LogshipError(
        'LS_STARTUP',
        `syslog-tls: the certificate, key or CA cannot be used: ${(err as Error).message}; check cert_file, key_file and ca_file`,
        { cause: err },
      );
    }
    server.maxConnections = req.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      req.onDrop(`${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}`);
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      ctx.telemetry.emit('syslog_tls_handshake_failed', { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err });
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new LogshipError('LS_STARTUP', `cannot listen on tcp:${req.host}:${req.port}: ${err.message}; free the port or change listen`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ host: req.host, port: req.port }, () => {
        server.removeListener('error', onError);
        // Accept errors after bind (EMFILE...) must not crash the process; they are transient.
        server.on('error', () => {});
        resolve();
      });
    });
    return server;
  };
}
