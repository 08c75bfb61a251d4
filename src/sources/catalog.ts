// Source catalog: type name → factory. Adding a source is one folder and one line here.
import type { SourceFactory } from '../core/component.js';
import { fileSource } from './file/index.js';
import { shipListenerSource } from './ship-listener/index.js';
import { pipeSource } from './pipe/index.js';
import { unixDgramSource } from './unix-dgram/index.js';
import { unixStreamSource } from './unix-stream/index.js';
import { syslogUdpSource } from './syslog-udp/index.js';
import { syslogTcpSource } from './syslog-tcp/index.js';
import { syslogTlsSource } from './syslog-tls/index.js';

export const SOURCE_CATALOG: ReadonlyMap<string, SourceFactory> = new Map<string, SourceFactory>([
  [fileSource.type, fileSource],
  [shipListenerSource.type, shipListenerSource],
  [unixDgramSource.type, unixDgramSource],
  [unixStreamSource.type, unixStreamSource],
  [pipeSource.type, pipeSource],
  [syslogUdpSource.type, syslogUdpSource],
  [syslogTcpSource.type, syslogTcpSource],
  [syslogTlsSource.type, syslogTlsSource],
]);
