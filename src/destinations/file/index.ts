// The file destination: factory and per-instance handle. Compiles the options into a FileRoute
// at start; the shared WriterCore (writer.ts) does the durable, exactly-once writing.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Destination, DestinationFactory } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { retryable, type Outcome } from '../../core/outcome.js';
import { compileLineFormat } from './format.js';
import { fileDestinationOptions, parseMode, type FileDestinationOptions } from './options.js';
import { compileParts, parsePathTemplate } from './path-template.js';
import { acquireWriter, releaseWriter, type FileRoute, type WriterCore, type WriterHooks } from './writer.js';

export { fileDestinationOptions, type FileDestinationOptions } from './options.js';

/** Where an instance keeps its journal: `${stateDir}/file-dest/${id}.journal`. */
export function journalPath(stateDir: string, id: string): string {
  return join(resolve(stateDir), 'file-dest', `${id}.journal`);
}

function compileRoute(o: FileDestinationOptions): FileRoute {
  const p = parsePathTemplate(o.path);
  if (!p.ok) throw new LogshipError('LS_CONFIG_INVALID', `file destination: bad path template: ${p.message}`);
  return {
    baseDir: resolve(o.base_dir),
    path: compileParts(p.parts),
    line: compileLineFormat(o.template),
    fsync: o.fsync,
    reorderWaitMs: o.reorder_wait_ms,
    modes: { dirMode: parseMode(o.dir_mode), fileMode: parseMode(o.file_mode), sync: o.fsync },
  };
}

type State = { readonly kind: 'new' } | { readonly kind: 'started'; readonly core: WriterCore; readonly journal: string } | { readonly kind: 'closed' };

export class FileDestination implements Destination {
  readonly maxInFlight: number;
  private readonly _options: FileDestinationOptions;
  private readonly _route: FileRoute;
  private readonly _hooks: WriterHooks;
  private _state: State = { kind: 'new' };
  private readonly _inflight = new Set<Promise<Outcome>>();

  /** `hooks` is a test seam (crash simulation); the factory never passes it. */
  constructor(options: FileDestinationOptions, hooks: WriterHooks = {}) {
    this._options = options;
    this.maxInFlight = options.max_in_flight;
    this._route = compileRoute(options);
    this._hooks = hooks;
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this._state.kind !== 'new') throw new LogshipError('LS_INTERNAL', 'file destination started twice');
    try {
      await mkdir(this._route.baseDir, { recursive: true, mode: this._route.modes.dirMode });
    } catch (err) {
      throw new LogshipError(
        'LS_STARTUP',
        `file destination "${ctx.id}": cannot create base_dir ${this._route.baseDir}: ${String((err as NodeJS.ErrnoException).code ?? err)}; fix its permissions or set base_dir`,
        { cause: err },
      );
    }
    const journal = journalPath(ctx.node.stateDir, ctx.id);
    const o = this._options;
    const core = await acquireWriter(journal, ctx, o.fsync, o.max_open_files, this._hooks, o.max_tracked_streams, o.max_in_flight);
    this._state = { kind: 'started', core, journal };
  }

  write(batch: Batch, yieldSlot?: () => void): Promise<Outcome> {
    if (this._state.kind !== 'started') {
      return Promise.resolve(retryable(new LogshipError('LS_SHUTDOWN', 'file destination is not running')));
    }
    const p = this._state.core.submit(this._route, batch, yieldSlot);
    this._inflight.add(p);
    void p.then(() => this._inflight.delete(p));
    return p;
  }

  /** Resolves when every write() made so far is answered. */
  async flush(): Promise<void> {
    await Promise.all([...this._inflight]);
  }

  /** Finishes this instance's writes, then releases the shared writer (the last one closes files). */
  async close(): Promise<void> {
    const st = this._state;
    if (st.kind !== 'started') {
      this._state = { kind: 'closed' };
      return;
    }
    this._state = { kind: 'closed' };
    // Batches parked waiting for earlier ones go back unwritten (their senders resend them).
    st.core.unpark(this._route);
    await Promise.all([...this._inflight]);
    await releaseWriter(st.journal);
  }

  /** Committed high water mark of a stream (status, tests). */
  highWater(origin: string, stream: string): number | undefined {
    return this._state.kind === 'started' ? this._state.core.highWater(origin, stream) : undefined;
  }
}

export const fileDestination: DestinationFactory<typeof fileDestinationOptions> = {
  type: 'file',
  options: fileDestinationOptions,
  create: (options) => new FileDestination(options),
};
