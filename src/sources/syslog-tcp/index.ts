// The `syslog-tcp` source factory (RFC 6587: newline or octet-counted framing, detected per
// connection). Wiring only; see server.ts, conn.ts and codec/framing.

import type { SourceFactory } from '../../core/component.js';
import { listenTcp } from '../../transport/tcp.js';
import { streamSettings, syslogTcpOptions, type SyslogTcpOptions } from './options.js';
import { SyslogStreamServer, type BindFn, type SyslogStreamInternals } from './server.js';

// Accepted paused: the connection starts the native reader or node:net's reading (conn.ts).
const bindTcp: BindFn = (req) => listenTcp({ ...req, pauseOnConnect: true });

/** `create` returns the concrete server, whose address()/port tell the bound port. */
export interface SyslogTcpFactory extends SourceFactory<typeof syslogTcpOptions> {
  create(options: SyslogTcpOptions): SyslogStreamServer;
}

/** A syslog-tcp source; `internals` are test seams (which reader, a stand-in binding). */
export function syslogTcpServer(options: SyslogTcpOptions, internals: SyslogStreamInternals = {}): SyslogStreamServer {
  return new SyslogStreamServer(streamSettings(options), 'tcp', bindTcp, internals);
}

export const syslogTcpSource: SyslogTcpFactory = {
  type: 'syslog-tcp',
  network: true,
  options: syslogTcpOptions,
  create: (options) => syslogTcpServer(options),
};

export { SyslogStreamServer, STOP_BOUND_MS, type SyslogStreamInternals, type TcpReaderKind } from './server.js';
export { syslogTcpOptions, type SyslogTcpOptions } from './options.js';
export type { CloseCause, ConnStats, Framing } from './conn.js';
