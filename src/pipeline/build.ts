// Config → a running graph of components: destinations first, then the router, then sources.
// A source with a `spool` pushes into its spool (its batches count as received once durable
// there), and the spool's reader pushes into the router.
// Stop runs the other way: sources stop reading and wait for what is in flight, then each spool
// stops handing out batches, waits (bounded) for those in flight and persists its cursor, then the
// router stops retrying, then destinations flush and close. The same path serves start and reload.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../core/batch.js';
import type { ComponentContext, Destination, Logger, NodeInfo, Source, SourceContext } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import type { Config } from '../config/index.js';
import { DESTINATION_CATALOG } from '../destinations/catalog.js';
import { ComponentTelemetry, type Counters } from '../observe/metrics.js';
import { SOURCE_CATALOG } from '../sources/catalog.js';
import { Spool } from '../spool/index.js';
import { VERSION } from '../version.js';
import { Router, type RouteTarget } from './router.js';

/** At stop, how long a spool waits at most for the batches it handed out to settle. */
const SPOOL_SETTLE_MS = 3_000;

interface Running<T> {
  readonly name: string;
  readonly type: string;
  readonly component: T;
  readonly ctx: ComponentContext;
}

export class Pipeline {
  private readonly _sources: Running<Source>[] = [];
  private readonly _destinations: Running<Destination>[] = [];
  private readonly _spools = new Map<string, Spool>();
  private _router: Router | undefined;
  private readonly _log: Logger;
  private readonly _counters: Counters;
  private readonly _config: Config;

  private constructor(config: Config, log: Logger, counters: Counters) {
    this._config = config;
    this._log = log;
    this._counters = counters;
  }

  get config(): Config {
    return this._config;
  }

  /** Builds and starts everything; on a startup failure stops what started and rethrows. */
  static async start(config: Config, log: Logger, counters: Counters): Promise<Pipeline> {
    const p = new Pipeline(config, log, counters);
    try {
      await p._start();
    } catch (err) {
      await p.stop(5_000).catch(() => undefined);
      throw err;
    }
    return p;
  }

  /** A started source by name (used by tests and status). */
  source(name: string): Source | undefined {
    return this._sources.find((s) => s.name === name)?.component;
  }

  /** The spool of a source, if it has one (used by tests and status). */
  spool(name: string): Spool | undefined {
    return this._spools.get(name);
  }

  private async _start(): Promise<void> {
    const config = this._config;
    try {
      await mkdir(config.node.stateDir, { recursive: true });
    } catch (err) {
      throw new LogshipError('LS_STARTUP', `cannot create state directory ${config.node.stateDir} (node.state_dir): ${(err as Error).message}`, { cause: err });
    }
    const node: NodeInfo = { name: config.node.name, role: config.node.role, stateDir: config.node.stateDir, version: VERSION };

    for (const spec of config.destinations) {
      const factory = DESTINATION_CATALOG.get(spec.type)!;
      const log = this._log.child({ component: 'destination', type: spec.type, id: spec.name });
      const ctx: ComponentContext = {
        id: spec.name,
        node,
        log,
        telemetry: new ComponentTelemetry(this._counters, log, 'destination', spec.type, spec.name),
      };
      const dest = factory.create(spec.options);
      await wrapStartup(`destination "${spec.name}"`, () => dest.start(ctx));
      this._destinations.push({ name: spec.name, type: spec.type, component: dest, ctx });
      ctx.telemetry.emit('component_started', {});
    }

    const targets: RouteTarget[] = this._destinations.map((d) => ({ name: d.name, destination: d.component, telemetry: d.ctx.telemetry }));
    const router = new Router(
      targets,
      config.paths.map((p) => (p.filter ? { from: p.from, to: p.to, filter: p.filter.compiled } : { from: p.from, to: p.to })),
    );
    this._router = router;

    for (const spec of config.sources) {
      const factory = SOURCE_CATALOG.get(spec.type)!;
      const log = this._log.child({ component: 'source', type: spec.type, id: spec.name });
      const name = spec.name;
      const telemetry = new ComponentTelemetry(this._counters, log, 'source', spec.type, name);
      let push = (batch: Batch): Promise<void> => router.push(name, batch);
      if (spec.spool !== undefined) {
        const spool = await Spool.open(join(config.node.stateDir, 'spool', name), spec.spool, telemetry);
        this._spools.set(name, spool);
        spool.start(push);
        push = spool.append;
      }
      const ctx: SourceContext = { id: name, node, log, telemetry, push };
      const source = factory.create(spec.options);
      await wrapStartup(`source "${spec.name}"`, () => source.start(ctx));
      this._sources.push({ name, type: spec.type, component: source, ctx });
      ctx.telemetry.emit('component_started', {});
    }
  }

  /** Graceful stop within `timeoutMs`: what is not acknowledged by then is re-read after restart. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    // Sources that read files stop first, listeners last, so batches still in flight between
    // two roles in one process (the all-in-one demo) can still be acknowledged.
    const order = [...this._sources].sort((a, b) => Number(a.type === 'ship-listener') - Number(b.type === 'ship-listener'));
    for (const s of order) {
      await withTimeout(s.component.stop(), Math.max(100, left() / 2)).catch((err: unknown) => this._log.warn({ err, source: s.name }, 'Source did not stop cleanly.'));
      s.ctx.telemetry.emit('component_stopped', {});
    }
    // Spools stop after every source: nothing more comes in; what is in flight gets part of the
    // time left to settle, and the cursor is persisted where the settled prefix ends.
    await Promise.all(
      [...this._spools].map(([name, spool]) =>
        withTimeout(spool.stop(Math.min(SPOOL_SETTLE_MS, Math.max(100, left() / 3))), Math.max(200, left() / 2)).catch((err: unknown) => this._log.warn({ err, source: name }, 'Spool did not stop cleanly.')),
      ),
    );
    this._router?.stopRetrying();
    await this._router?.drain(Math.min(left(), 2_000));
    for (const d of this._destinations) {
      await withTimeout(d.component.flush(), left()).catch(() => undefined);
      await withTimeout(d.component.close(), Math.max(100, left())).catch((err: unknown) => this._log.warn({ err, destination: d.name }, 'Destination did not close cleanly.'));
      d.ctx.telemetry.emit('component_stopped', {});
    }
  }
}

async function wrapStartup(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LogshipError) throw err;
    throw new LogshipError('LS_STARTUP', `${what} could not start: ${(err as Error).message}`, { cause: err });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new LogshipError('LS_SHUTDOWN', `did not finish within ${ms} ms`)), ms);
    }),
  ]);
}
