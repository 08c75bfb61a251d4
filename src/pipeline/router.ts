// The router: for each batch, the destinations of every path whose sources include the batch's
// source and whose filter matches; a bounded number of writes in flight per destination (the
// backpressure toward sources); retries of `retryable` with backoff while running; joins outcomes.
// It knows components only through core/ interfaces.

import { compact, type Batch } from '../core/batch.js';
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
    const plan = this._plan(source, batch);
    if (plan.length === 0) {
      batch.settle(DELIVERED);
      return;
    }
    const writes: Promise<Outcome>[] = [];
    for (const [i, b] of plan) {
      const wait = this._slots[i]!.acquire();
      if (wait !== undefined) await wait;
      writes.push(this._writeWithRetry(i, b));
    }
    const done = Promise.all(writes).then((outcomes) => batch.settle(joinOutcomes(outcomes)));
    this._inflight.add(done);
    void done.finally(() => this._inflight.delete(done));
  }

  /**
   * Which destinations get which batch, in destination order: the batch itself where a path
   * takes it whole, a compacted copy where per-record filters keep only some records, nothing
   * where no record is kept.
   */
  private _plan(source: string, batch: Batch): Array<[number, Batch]> {
    const routes = this._routes.get(source);
    if (routes === undefined) return [];
    const whole = new Set<number>();
    let masks: Map<number, Uint8Array> | undefined;
    for (const r of routes) {
      const decision = r.filter === undefined ? true : r.filter.matchBatch(batch.meta);
      if (decision === false) continue;
      if (decision === true) {
        for (const t of r.targets) whole.add(t);
        continue;
      }
      const mask = recordMask(r.filter!, batch);
      masks ??= new Map();
      for (const t of r.targets) {
        const prev = masks.get(t);
        if (prev === undefined) masks.set(t, mask);
        else masks.set(t, orMasks(prev, mask));
      }
    }
    const plan: Array<[number, Batch]> = [];
    for (const t of whole) plan.push([t, batch]);
    if (masks !== undefined) {
      const compacted = new Map<Uint8Array, Batch | null>();
      for (const [t, mask] of masks) {
        if (whole.has(t)) continue;
        let b = compacted.get(mask);
        if (b === undefined) {
          b = compact(batch, mask);
          compacted.set(mask, b);
        }
        if (b !== null) plan.push([t, b]);
      }
    }
    return plan.sort((a, b) => a[0] - b[0]);
  }

  /** Called holding slot i; releases it when done (or earlier, when the destination parks the batch). */
  private async _writeWithRetry(i: number, batch: Batch): Promise<Outcome> {
    const target = this._targets[i]!;
    const slot = this._slots[i]!;
    let holding = true;
    const yieldSlot = (): void => {
      if (!holding) return;
      holding = false;
      slot.release();
    };
    try {
      for (let attempt = 0; ; attempt++) {
        if (!holding) {
          const wait = slot.acquire();
          if (wait !== undefined) await wait;
          holding = true;
        }
        let outcome: Outcome;
        try {
          outcome = await target.destination.write(batch, yieldSlot);
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
      if (holding) slot.release();
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

function recordMask(filter: CompiledFilter, batch: Batch): Uint8Array {
  const mask = new Uint8Array(batch.count);
  for (let i = 0; i < mask.length; i++) mask[i] = filter.matchRecord(batch, i) ? 1 : 0;
  return mask;
}

function orMasks(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! | b[i]!;
  return out;
}
