// rsyslog as a peer: `rsyslogd -n` with a config of the test's, checked with -N1 before the start.
import { q, type AfterHost } from './common.js';
import { peerPaths } from './paths.js';
import { runToEnd, startDaemon, type PeerConfig, type PeerProcess, type PeerStartOptions } from './process.js';

export interface RsyslogStartOptions extends PeerStartOptions {
  /** The rsyslog.conf body (RainerScript): modules, inputs, rulesets, actions; or a function of the
   *  peer's own dir returning it. The helper prepends `global(workDirectory=<dir> net.enableDNS="off" …)`;
   *  it loads no module (no imuxsock, no imklog). Bind inputs to a ruleset so rsyslog's own messages
   *  (which go to the default ruleset) stay out of the test's output. */
  config: PeerConfig;
  /** global(localHostname): the HOSTNAME rsyslog puts on messages it makes itself (imfile). */
  localHostname?: string;
  /** global(maxMessageSize) in bytes (rsyslog's default: 8096). */
  maxMessageSize?: number;
}

/** Starts `rsyslogd -n -f <dir>/rsyslog.conf -i <dir>/rsyslogd.pid` after validating the config (-N1). */
export async function startRsyslog(t: AfterHost, opts: RsyslogStartOptions): Promise<PeerProcess> {
  const p = peerPaths();
  return startDaemon(t, opts, {
    name: 'rsyslog',
    cmd: p.rsyslogd,
    configFile: 'rsyslog.conf',
    pidFile: 'rsyslogd.pid',
    wrap: (dir, body) => {
      const global = [`workDirectory=${q(dir)}`, 'net.enableDNS="off"'];
      if (opts.localHostname !== undefined) global.push(`localHostname=${q(opts.localHostname)}`);
      if (opts.maxMessageSize !== undefined) global.push(`maxMessageSize=${q(String(opts.maxMessageSize))}`);
      return `# written by test/helpers/peers/rsyslog.ts\nglobal(${global.join(' ')})\n${body}\n`;
    },
    check: async (configPath) => {
      const check = await runToEnd(p.rsyslogd, ['-N1', '-f', configPath], { timeoutMs: 10_000 });
      if (check.code === 0) return undefined;
      return `rsyslog rejects its config (rsyslogd -N1 exit ${check.code}):\n${check.stderr}${check.stdout}`;
    },
    args: (f) => ['-n', '-f', f.configPath, '-i', f.pidFile],
  });
}
