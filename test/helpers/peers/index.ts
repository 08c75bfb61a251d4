// Real syslog peers for the interop tier: rsyslog, syslog-ng, loggen and util-linux logger, each run
// by the test as its own foreground process with its own config and state in a temp dir, on high
// loopback ports, stopped by its own pid. Knows nothing of logship. Installed by .ci/install-peers.sh.
// This file is the public face; the modules beside it hold one concern each.
export { PeerError, type AfterHost, type Framing, type Transport } from './common.js';
export { peerPaths, SYSLOG_NG_DIR, type PeerPaths } from './paths.js';
export { freeLoopbackPort, isListening } from './ports.js';
export type { PeerConfig, PeerExit, PeerProcess, PeerStartOptions, ReadySpec } from './process.js';
export { startRsyslog, type RsyslogStartOptions } from './rsyslog.js';
export { startSyslogNg, syslogNgArgs, type SyslogNgStartOptions } from './syslog-ng.js';
export {
  startRsyslogReceiver,
  startSyslogNgReceiver,
  type PeerReceiver,
  type ReceivedRecord,
  type RsyslogReceiverOptions,
  type SyslogNgListen,
  type SyslogNgReceiverOptions,
} from './receivers.js';
export {
  startRsyslogSender,
  startSyslogNgSender,
  type PeerSender,
  type RsyslogSenderOptions,
  type SenderInput,
  type SenderOptions,
  type SenderTarget,
  type SyslogNgSenderOptions,
} from './senders.js';
export { runLoggen, runLogger, type LoggenOptions, type LoggenResult } from './clients.js';
