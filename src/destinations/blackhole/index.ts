// The blackhole destination: delivers everything and keeps nothing, counting lines and bytes.
// A reference for writing destinations and the sink of benchmarks. No I/O here.

import { z } from 'zod';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination, DestinationFactory } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { DELIVERED, retryable, type Outcome } from '../../core/outcome.js';

export const blackholeDestinationOptions = z
  .object({
    type: z.literal('blackhole').describe('Discards batches and answers "delivered"; counts lines and bytes.'),
    max_in_flight: z.number().int().min(1).max(1024).default(8).describe('Batches outstanding at once.'),
    delay_ms: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(0)
      .describe('Answer each batch after this many milliseconds (simulates a slow destination; 0: at once).'),
  })
  .strict();

export type BlackholeDestinationOptions = z.output<typeof blackholeDestinationOptions>;

export class BlackholeDestination implements Destination {
  readonly maxInFlight: number;
  private readonly _delayMs: number;
  private _ctx: ComponentContext | undefined = undefined;
  private _closed = false;
  private _lines = 0;
  private _bytes = 0;
  private readonly _inflight = new Set<Promise<Outcome>>();

  constructor(options: BlackholeDestinationOptions) {
    this.maxInFlight = options.max_in_flight;
    this._delayMs = options.delay_ms;
  }

  get lines(): number {
    return this._lines;
  }

  get bytes(): number {
    return this._bytes;
  }

  async start(ctx: ComponentContext): Promise<void> {
    this._ctx = ctx;
  }

  write(batch: Batch): Promise<Outcome> {
    if (this._ctx === undefined || this._closed) {
      return Promise.resolve(retryable(new LogshipError('LS_SHUTDOWN', 'blackhole destination is not running')));
    }
    const ctx = this._ctx;
    const count = (): Outcome => {
      this._lines += batch.count;
      this._bytes += batch.data.length;
      ctx.telemetry.emit('blackhole_lines', {}, batch.count);
      ctx.telemetry.emit('blackhole_bytes', {}, batch.data.length);
      return DELIVERED;
    };
    if (this._delayMs === 0) return Promise.resolve(count());
    const p = new Promise<Outcome>((resolve) => setTimeout(() => resolve(count()), this._delayMs));
    this._inflight.add(p);
    void p.then(() => this._inflight.delete(p));
    return p;
  }

  async flush(): Promise<void> {
    await Promise.all([...this._inflight]);
  }

  async close(): Promise<void> {
    this._closed = true;
    await this.flush();
  }
}

export const blackholeDestination: DestinationFactory<typeof blackholeDestinationOptions> = {
  type: 'blackhole',
  options: blackholeDestinationOptions,
  create: (options) => new BlackholeDestination(options),
};
