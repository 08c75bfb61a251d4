// The `ship` destination factory: batches to an upstream relay or server, acknowledged per stream.
// Wiring only; the protocol lives in codec/ship, the sockets in transport/, the logic in sender.ts.

import type { DestinationFactory } from '../../core/component.js';
import { shipOptions, type ShipOptions } from './options.js';
import { ShipSender } from './sender.js';

/** `create` returns the concrete ShipSender (with `connected` and `pending` for status). */
export interface ShipDestinationFactory extends DestinationFactory<typeof shipOptions> {
  create(options: ShipOptions): ShipSender;
}

export const shipDestination: ShipDestinationFactory = {
  type: 'ship',
  options: shipOptions,
  create: (options) => new ShipSender(options),
};

export { ShipSender, type ShipInternals } from './sender.js';
export { shipOptions, type ShipOptions } from './options.js';
