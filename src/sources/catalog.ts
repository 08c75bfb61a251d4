// Source catalog: type name → factory. Adding a source is one folder and one line here.
import type { SourceFactory } from '../core/component.js';
import { fileSource } from './file/index.js';
import { shipListenerSource } from './ship-listener/index.js';

export const SOURCE_CATALOG: ReadonlyMap<string, SourceFactory> = new Map<string, SourceFactory>([
  [fileSource.type, fileSource],
  [shipListenerSource.type, shipListenerSource],
]);
