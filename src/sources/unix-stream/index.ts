// The `unix-stream` source factory: syslog over a unix stream socket (logger -T, libc syslog() on
// a stream /dev/log). Wiring only; see source.ts and conn.ts.

import type { SourceFactory } from '../../core/component.js';
import { unixStreamOptions, type UnixStreamOptions } from './options.js';
import { UnixStreamSource } from './source.js';

/** `create` returns the concrete UnixStreamSource (path, connections and stats for tests and status). */
export interface UnixStreamFactory extends SourceFactory<typeof unixStreamOptions> {
  create(options: UnixStreamOptions): UnixStreamSource;
}

export const unixStreamSource: UnixStreamFactory = {
  type: 'unix-stream',
  options: unixStreamOptions,
  create: (options) => new UnixStreamSource(options),
};

export { UnixStreamSource } from './source.js';
export { unixStreamOptions, type UnixStreamOptions } from './options.js';
