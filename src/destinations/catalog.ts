// Destination catalog: type name → factory. Adding a destination is one folder and one line here.
import type { DestinationFactory } from '../core/component.js';
import { blackholeDestination } from './blackhole/index.js';
import { fileDestination } from './file/index.js';
import { shipDestination } from './ship/index.js';
import { syslogDestination } from './syslog/index.js';

export const DESTINATION_CATALOG: ReadonlyMap<string, DestinationFactory> = new Map<string, DestinationFactory>([
  [fileDestination.type, fileDestination],
  [shipDestination.type, shipDestination],
  [blackholeDestination.type, blackholeDestination],
  [syslogDestination.type, syslogDestination],
]);
