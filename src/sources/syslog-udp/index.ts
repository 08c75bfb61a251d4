// The `syslog-udp` source factory (RFC 5426). Wiring only; see source.ts.

import type { SourceFactory } from '../../core/component.js';
import { syslogUdpOptions, type SyslogUdpOptions } from './options.js';
import { SyslogUdpSource } from './source.js';

/** `create` returns the concrete source, whose address()/port tell the bound port. */
export interface SyslogUdpFactory extends SourceFactory<typeof syslogUdpOptions> {
  create(options: SyslogUdpOptions): SyslogUdpSource;
}

export const syslogUdpSource: SyslogUdpFactory = {
  type: 'syslog-udp',
  network: true,
  options: syslogUdpOptions,
  create: (options) => new SyslogUdpSource(options),
};

export { SyslogUdpSource, MAX_UDP_SENDERS, UDP_SENDER_IDLE_MS } from './source.js';
export { syslogUdpOptions, type SyslogUdpOptions } from './options.js';
