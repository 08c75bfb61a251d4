// syslog-ng as a peer: `syslog-ng -F` from the unpacked tree, with its own pid, persist and control
// files in its dir, and base options that keep it quiet and deterministic.
import { join } from 'node:path';
import type { AfterHost } from './common.js';
import { peerPaths, syslogNgEnv, SYSLOG_NG_CONFIG_VERSION, type PeerPaths } from './paths.js';
import { startDaemon, type PeerConfig, type PeerProcess, type PeerStartOptions } from './process.js';

export interface SyslogNgStartOptions extends PeerStartOptions {
  /** The syslog-ng.conf body: sources, destinations, log paths; or a function of the peer's own dir
   *  returning it. The helper prepends `@version` and `options { … }` (no DNS, keep_hostname,
   *  time_reopen(1), no stats); another options block may follow. */
  config: PeerConfig;
}

const SYSLOG_NG_BASE_OPTIONS =
  'options { use_dns(no); dns_cache(no); keep_hostname(yes); chain_hostnames(no); time_reopen(1); stats_freq(0); mark_freq(0); };';

/** The foreground command line of syslog-ng with `configPath`, keeping its state files in `dir`. */
export function syslogNgArgs(p: PeerPaths, dir: string, configPath: string): string[] {
  return [
    '-F',
    '-e',
    '--no-caps',
    `--cfgfile=${configPath}`,
    `--module-path=${p.syslogNgModules}`,
    `--persist-file=${join(dir, 'syslog-ng.persist')}`,
    `--pidfile=${join(dir, 'syslog-ng.pid')}`,
    `--control=${join(dir, 'syslog-ng.ctl')}`,
  ];
}

/** Starts `syslog-ng -F` from the unpacked folder with its own pid, persist and control files. */
export async function startSyslogNg(t: AfterHost, opts: SyslogNgStartOptions): Promise<PeerProcess> {
  const p = peerPaths();
  return startDaemon(t, opts, {
    name: 'syslog-ng',
    cmd: p.syslogNg,
    configFile: 'syslog-ng.conf',
    pidFile: 'syslog-ng.pid',
    wrap: (_dir, body) => `@version: ${SYSLOG_NG_CONFIG_VERSION}\n# written by test/helpers/peers/syslog-ng.ts\n${SYSLOG_NG_BASE_OPTIONS}\n${body}\n`,
    args: (f) => syslogNgArgs(p, f.dir, f.configPath),
    env: syslogNgEnv(p),
  });
}
