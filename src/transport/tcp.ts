// TCP sockets and their lifecycle: connect with a timeout and an abort signal, listen, close.
// Knows nothing of frames (codec/ does the parsing).

import { connect, createServer, type Server, type Socket } from 'node:net';
import { LogshipError } from '../core/errors.js';

export interface ConnectOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Connect to host:port. The name is resolved by the OS resolver on every call (upstreams are named
 * by DNS and re-resolved on reconnect). Rejects with LS_SHIP_DISCONNECTED on error or timeout and
 * with LS_SHUTDOWN when aborted; the socket is destroyed in every failure case.
 */
export function connectTcp(host: string, port: number, opts: ConnectOptions): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (opts.signal?.aborted === true) {
      reject(new LogshipError('LS_SHUTDOWN', `connect to ${host}:${port} aborted: shutting down`));
      return;
    }
    const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      if (err === null) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(err);
      }
    };
    const onConnect = (): void => done(null);
    const onError = (err: Error): void =>
      done(new LogshipError('LS_SHIP_DISCONNECTED', `cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
    const onAbort = (): void => done(new LogshipError('LS_SHUTDOWN', `connect to ${host}:${port} aborted: shutting down`));
    const timer = setTimeout(
      () => done(new LogshipError('LS_SHIP_DISCONNECTED', `cannot connect to ${host}:${port}: no answer within ${opts.timeoutMs} ms (connect_timeout_ms)`)),
      opts.timeoutMs,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly onConnection: (socket: Socket) => void;
  /** Called when a connection is refused because maxConnections is reached. */
  readonly onDrop?: (remote: string) => void;
  /** Hand sockets over paused: nothing is read until the receiver resumes them (default false). */
  readonly pauseOnConnect?: boolean;
}

/** Bind a TCP server. Rejects with LS_STARTUP when the address cannot be bound. */
export function listenTcp(opts: ListenOptions): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000, pauseOnConnect: opts.pauseOnConnect ?? false }, opts.onConnection);
    server.maxConnections = opts.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      opts.onDrop?.(`${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}`);
    });
    const onError = (err: Error): void => {
      reject(new LogshipError('LS_STARTUP', `cannot listen on tcp:${opts.host}:${opts.port}: ${err.message}; free the port or change listen`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.removeListener('error', onError);
      // Accept errors after bind (EMFILE...) must not crash the process; they are transient.
      server.on('error', () => {});
      resolve(server);
    });
  });
}

/**
 * Stop accepting now; resolves once the server and every connection it accepted are closed
 * (the caller ends or destroys those connections).
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** "host:port" of the peer, for logs. */
export function remoteOf(socket: Socket): string {
  const a = socket.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}
