// The `syslog-tls` source factory (RFC 5425): the syslog-tcp listener over TLS, optionally
// requiring client certificates. Wiring only; the connections are syslog-tcp's.

import type { SourceFactory } from '../../core/component.js';
import { streamSettings } from '../syslog-tcp/options.js';
import { SyslogStreamServer } from '../syslog-tcp/server.js';
import { tlsBinder } from './server.js';
import { syslogTlsOptions, type SyslogTlsOptions } from './options.js';

/** `create` returns the concrete server, whose address()/port tell the bound port. */
export interface SyslogTlsFactory extends SourceFactory<typeof syslogTlsOptions> {
  create(options: SyslogTlsOptions): SyslogStreamServer;
}

export const syslogTlsSource: SyslogTlsFactory = {
  type: 'syslog-tls',
  network: true,
  options: syslogTlsOptions,
  create: (options) => new SyslogStreamServer(streamSettings(options), 'tls', tlsBinder(options)),
};

export { syslogTlsOptions, type SyslogTlsOptions } from './options.js';
