// The router: for each batch, the destinations of every path whose sources include the batch's
// source and whose filter matches; a bounded number of writes in flight per destination (the
// backpressure toward sources); retries of `retryable` with backoff while running; joins outcomes.
// It knows components only through core/ interfaces.

import type { Batch } from '../core/batch.js';
import type { CompiledFilter, Destination, Telemetry } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import { DELIVERED, retryable, type Outcome } from '../core/outcome.js';
import { backoffMs } from '../util/backoff.js';
import { Semaphore } from '../util/semaphore.js';
import { joinOutcomes } from './settle.js';

export interface RouteTarget {
  readonly name: string;
  readonly destination: Destination;
  readonly telemetry: Telemetry;
}

interface Route {
  readonly filter: CompiledFilter | undefined;
  readonly targets: readonly number[];
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;

export class Router {
  private readonly _targets: readonly RouteTarget[];
  private readonly _slots: readonly Semaphore[];
  private readonly _routes = new Map<string, Route[]>();
  private readonly _inflight = new Set<Promise<void>>();
  private _running = true;
  private readonly _stopWaiters = new Set<() => void>();

  constructor(targets: readonly RouteTarget[], paths: ReadonlyArray<{ from: readonly string[]; to: readonly string[]; filter?: CompiledFilter }>) {
    this._targets = targets;
    this._slots = targets.map((t) => new Semaphore(Math.max(1, t.destination.maxInFlight)));
    const index = new Map(targets.map((t, i) => [t.name, i]));
    for (const p of paths) {
      const route: Route = { filter: p.filter, targets: p.to.map((d) => index.get(d)!).sort((a, b) => a - b) };
      for (const s of p.from) {
        const list = this._routes.get(s) ?? [];
        list.push(route);
        this._routes.set(s, list);
      }
    }
  }

  /** Routes a batch from `source`. Resolves once every target destination has taken it (backpressure). */
  async push(source: string, batch: Batch): Promise<void> {
    const targets = this._targetsFor(source, batch);
    if (targets.length === 0) {
      batch.settle(DELIVERED);
      return;
    }
    const writes: Promise<Outcome>[] = [];
    for (const i of targets) {
      const wait = this._slots[i]!.acquire();
      if (wait !== undefined) await wait;
      writes.push(this._writeWithRetry(i, batch));
    }
    const done = Promise.all(writes).then((outcomes) => batch.settle(joinOutcomes(outcomes)));
    this._inflight.add(done);
    void done.finally(() => this._inflight.delete(done));
  }

  private _targetsFor(source: string, batch: Batch): number[] {
    const routes = this._routes.get(source);
    if (routes === undefined) return [];
    if (routes.length === 1) {
      const r = routes[0]!;
      return r.filter === undefined || r.filter.matchBatch(batch.meta) ? [...r.targets] : [];
    }
    const set = new Set<number>();
    for (const r of routes) {
      if (r.filter === undefined || r.filter.matchBatch(batch.meta)) for (const t of r.targets) set.add(t);
    }
    return [...set].sort((a, b) => a - b);
  }

  private async _writeWithRetry(i: number, batch: Batch): Promise<Outcome> {
    const target = this._targets[i]!;
    try {
      for (let attempt = 0; ; attempt++) {
        let outcome: Outcome;
        try {
          outcome = await target.destination.write(batch);
        } catch (err) {
          // A destination must not throw; treat it as retryable so nothing accepted is lost.
          outcome = retryable(err instanceof Error ? err : new Error(String(err)));
        }
        if (outcome.kind !== 'retryable') {
          if (outcome.kind === 'rejected') target.telemetry.emit('batch_rejected', { err: outcome.error, lines: batch.count });
          return outcome;
        }
        if (!this._running) return outcome;
        const delay = outcome.retryInMs ?? backoffMs(attempt, RETRY_MIN_MS, RETRY_MAX_MS);
        target.telemetry.emit('delivery_retry', { err: outcome.error, attempt: attempt + 1, delayMs: delay });
        await this._sleep(delay);
        if (!this._running) return retryable(new LogshipError('LS_SHUTDOWN', 'shutting down; the batch will be re-read after restart'));
      }
    } finally {
      this._slots[i]!.release();
    }
  }

  private _sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this._stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this._stopWaiters.add(done);
    });
  }

  /** Stops retrying; pending retries settle as retryable. */
  stopRetrying(): void {
    this._running = false;
    for (const w of [...this._stopWaiters]) w();
  }

  /** Waits (bounded) until every routed batch has settled. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this._inflight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await Promise.race([Promise.all(this._inflight), new Promise((r) => setTimeout(r, left))]);
    }
    return true;
  }
}
