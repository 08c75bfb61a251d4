// The `pipe` source factory: newline-separated messages from a named pipe (FIFO). Wiring only;
// see source.ts, and fifo.ts for how the FIFO is created and read.

import type { SourceFactory } from '../../core/component.js';
import { pipeSourceOptions, type PipeSourceOptions } from './options.js';
import { PipeSource } from './source.js';

/** `create` returns the concrete PipeSource (path and stats for tests and status). */
export interface PipeSourceFactory extends SourceFactory<typeof pipeSourceOptions> {
  create(options: PipeSourceOptions): PipeSource;
}

export const pipeSource: PipeSourceFactory = {
  type: 'pipe',
  options: pipeSourceOptions,
  create: (options) => new PipeSource(options),
};

export { PipeSource } from './source.js';
export { pipeSourceOptions, type PipeSourceOptions } from './options.js';
