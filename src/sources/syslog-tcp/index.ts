// The `syslog-tcp` source factory (RFC 6587: newline or octet-counted framing, detected per
// connection). Wiring only; see server.ts, conn.ts and codec/framing.

import type { SourceFactory } from '../../core/component.js';
import { listenTcp } from '../../transport/tcp.js';
import { streamSettings, syslogTcpOptions, type SyslogTcpOptions } from './options.js';
import { SyslogStreamServer, type BindFn } from './server.js';

const bindTcp: BindFn = (req) => listenTcp(req);

/** `create` returns the concrete server, whose address()/port tell the bound port. */
export interface SyslogTcpFactory extends SourceFactory<typeof syslogTcpOptions> {
  create(options: SyslogTcpOptions): SyslogStreamServer;
}

export const syslogTcpSource: SyslogTcpFactory = {
  type: 'syslog-tcp',
  options: syslogTcpOptions,
  create: (options) => new SyslogStreamServer(streamSettings(options), 'tcp', bindTcp),
};

export { SyslogStreamServer, STOP_BOUND_MS } from './server.js';
export { syslogTcpOptions, type SyslogTcpOptions } from './options.js';
export type { CloseCause, ConnStats, Framing } from './conn.js';
