// The `syslog` destination factory: forwards batches to a syslog receiver (rsyslog, syslog-ng, …)
// over UDP, TCP or TLS. Wiring only: the bytes are made in encode.ts (with codec/syslog's
// formatter), the connection and delivery logic live in stream.ts (TCP/TLS) and datagram.ts (UDP).

import type { DestinationFactory } from '../../core/component.js';
import { DatagramSender } from './datagram.js';
import { parseTarget, syslogDestinationOptions, type SyslogDestinationOptions } from './options.js';
import { StreamSender } from './stream.js';

export type SyslogSender = StreamSender | DatagramSender;

export interface SyslogDestinationFactory extends DestinationFactory<typeof syslogDestinationOptions> {
  create(options: SyslogDestinationOptions): SyslogSender;
}

export const syslogDestination: SyslogDestinationFactory = {
  type: 'syslog',
  options: syslogDestinationOptions,
  create: (options) => {
    const t = parseTarget(options.target);
    return t.ok && t.value.transport === 'udp' ? new DatagramSender(options) : new StreamSender(options);
  },
};

export { DatagramSender } from './datagram.js';
export { StreamSender, CLOSE_GRACE_MS } from './stream.js';
export { syslogDestinationOptions, type SyslogDestinationOptions } from './options.js';
