// Where the peers' binaries are (installed by .ci/install-peers.sh) and the environment syslog-ng's
// unpacked tree needs. No processes here.
import { accessSync, constants as fsc } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerError } from './common.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where .ci/install-peers.sh unpacks syslog-ng-core (it conflicts with rsyslog as a Debian package). */
export const SYSLOG_NG_DIR = join(REPO, '.ci', 'peers', 'syslog-ng');
export const SYSLOG_NG_CONFIG_VERSION = '3.38';

export interface PeerPaths {
  rsyslogd: string;
  syslogNg: string;
  loggen: string;
  logger: string;
  /** syslog-ng's shared libraries (LD_LIBRARY_PATH) and modules (--module-path). */
  syslogNgLib: string;
  syslogNgModules: string;
  /** SYSLOGNG_PREFIX for loggen, which finds its plugins under it. */
  syslogNgPrefix: string;
}

let cachedPaths: PeerPaths | undefined;

/** Where the peers' binaries are, or a PEER_NOT_INSTALLED error saying how to install them. */
export function peerPaths(): PeerPaths {
  if (cachedPaths) return cachedPaths;
  const prefix = join(SYSLOG_NG_DIR, 'usr');
  const lib = join(prefix, 'lib', 'syslog-ng');
  const p: PeerPaths = {
    rsyslogd: '/usr/sbin/rsyslogd',
    syslogNg: join(prefix, 'sbin', 'syslog-ng'),
    loggen: join(prefix, 'bin', 'loggen'),
    logger: '/usr/bin/logger',
    syslogNgLib: lib,
    syslogNgModules: join(lib, SYSLOG_NG_CONFIG_VERSION),
    syslogNgPrefix: prefix,
  };
  const missing = [p.rsyslogd, p.syslogNg, p.loggen, p.logger].filter((f) => {
    try {
      accessSync(f, fsc.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new PeerError(
      'PEER_NOT_INSTALLED',
      `syslog peers missing (${missing.join(', ')}): run \`bash .ci/install-peers.sh\` as root first (it installs logger, rsyslog and an unpacked syslog-ng-core)`,
    );
  }
  cachedPaths = p;
  return p;
}

/** The environment of syslog-ng and loggen: their own libraries first, and their prefix. */
export function syslogNgEnv(p: PeerPaths): NodeJS.ProcessEnv {
  const ld = process.env['LD_LIBRARY_PATH'];
  return { ...process.env, LD_LIBRARY_PATH: ld ? `${p.syslogNgLib}:${ld}` : p.syslogNgLib, SYSLOGNG_PREFIX: p.syslogNgPrefix };
}
