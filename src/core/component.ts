// The interfaces every plug-in implements, and the contexts the pipeline hands them.
// The core knows no plug-in by name: catalogs map a `type` to a factory.

import type { z } from 'zod';
import type { Batch, BatchMeta } from './batch.js';
import type { Outcome } from './outcome.js';

/** Minimal logger surface (pino-compatible): data in fields, one short sentence. */
export interface Logger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Counters of a component, by event name (see observe/events.ts). */
export interface Telemetry {
  emit(event: string, fields?: Record<string, unknown>, count?: number): void;
}

export interface NodeInfo {
  readonly name: string;
  readonly role: 'client' | 'relay' | 'server';
  readonly stateDir: string;
  readonly version: string;
}

export interface ComponentContext {
  /** The component's name in the config. */
  readonly id: string;
  readonly node: NodeInfo;
  readonly log: Logger;
  readonly telemetry: Telemetry;
}

export interface SourceContext extends ComponentContext {
  /**
   * Hand a batch to the router. Resolves once the router has room (backpressure): a source that
   * awaits it is throttled. The batch's fate arrives on `batch.settled`.
   */
  push(batch: Batch): Promise<void>;
}

export interface Source {
  /** Bind or open; rejects with a startup error. */
  start(ctx: SourceContext): Promise<void>;
  /** Stop reading and wait for in-flight batches to settle (bounded by the caller). */
  stop(): Promise<void>;
}

export interface Destination {
  /**
   * Make the batch durable, or say why not. At most `maxInFlight` calls outstanding, not counting
   * those whose batch the destination *parked*: one it holds without working on it (waiting for an
   * earlier batch of the same stream that comes another way) calls `yieldSlot()` once, so that the
   * router may hand it other batches meanwhile; the outcome still arrives through the promise.
   * The memory of parked batches must be bounded by their senders (a receiver's window).
   */
  write(batch: Batch, yieldSlot?: () => void): Promise<Outcome>;
  readonly maxInFlight: number;
  start(ctx: ComponentContext): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A plug-in kind. `options` is the zod schema of its config block, `type` literal included,
 * with a `.describe()` on every key (docs/config.md is generated from them).
 */
export interface SourceFactory<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly options: S;
  /** It listens for other hosts over the network: the process gets a larger young generation (boot.ts). */
  readonly network?: true;
  create(options: z.output<S>): Source;
}

export interface DestinationFactory<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly options: S;
  create(options: z.output<S>): Destination;
}

/**
 * A compiled filter. matchBatch decides a whole batch from its shared metadata when it can
 * (true/false); undefined means the answer depends on the records (a message test, or a
 * syslog batch whose records carry their own host, program, PRI), and then matchRecord decides
 * each record. Neither can fail at run time.
 */
export interface CompiledFilter {
  matchBatch(meta: BatchMeta): boolean | undefined;
  matchRecord(batch: Batch, i: number): boolean;
}
