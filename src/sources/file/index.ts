// File tail source: the factory registered in sources/catalog.ts. The file is the buffer: offsets
// advance only when batches are delivered, and a restart resumes from the checkpoint.

import type { SourceFactory } from '../../core/component.js';
import { fileSourceOptions } from './options.js';
import { FileSource } from './source.js';

export const fileSource: SourceFactory<typeof fileSourceOptions> = {
  type: 'file',
  options: fileSourceOptions,
  create: (options) => new FileSource(options),
};

export { fileSourceOptions, type FileSourceOptions } from './options.js';
