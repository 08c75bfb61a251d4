// The `unix-dgram` source factory: a /dev/log-style unix datagram socket (util-linux logger,
// libc syslog()). Wiring only; see source.ts, and native.ts for the socket binding.

import type { SourceFactory } from '../../core/component.js';
import { unixDgramOptions, type UnixDgramOptions } from './options.js';
import { UnixDgramSource } from './source.js';

/** `create` returns the concrete UnixDgramSource (path, stream and stats for tests and status). */
export interface UnixDgramFactory extends SourceFactory<typeof unixDgramOptions> {
  create(options: UnixDgramOptions): UnixDgramSource;
}

export const unixDgramSource: UnixDgramFactory = {
  type: 'unix-dgram',
  options: unixDgramOptions,
  create: (options) => new UnixDgramSource(options),
};

export { UnixDgramSource } from './source.js';
export { unixDgramOptions, type UnixDgramOptions } from './options.js';
