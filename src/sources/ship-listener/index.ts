// The `ship-listener` source factory: receives batches from clients and relays over the ship
// protocol and acknowledges each once delivered. Wiring only; see server.ts and conn.ts.

import type { SourceFactory } from '../../core/component.js';
import { shipListenerOptions, type ShipListenerOptions } from './options.js';
import { ShipListener } from './server.js';

/** `create` returns the concrete ShipListener, whose address()/port tell the bound port. */
export interface ShipListenerFactory extends SourceFactory<typeof shipListenerOptions> {
  create(options: ShipListenerOptions): ShipListener;
}

export const shipListenerSource: ShipListenerFactory = {
  type: 'ship-listener',
  network: true,
  options: shipListenerOptions,
  create: (options) => new ShipListener(options),
};

export { ShipListener, STOP_BOUND_MS } from './server.js';
export { shipListenerOptions, type ShipListenerOptions } from './options.js';
export type { PeerStats } from './conn.js';
