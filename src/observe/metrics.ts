// Counters and the telemetry implementation: every event both logs (rate-limited) and counts.

import type { Logger, Telemetry } from '../core/component.js';
import { LogshipError } from '../core/errors.js';
import { EVENTS, type EventName } from './events.js';

export class Counters {
  private readonly _values = new Map<string, number>();

  add(name: string, labels: string, n: number): void {
    const key = `${name}{${labels}}`;
    this._values.set(key, (this._values.get(key) ?? 0) + n);
  }

  /** Sum of a counter over all label sets matching the given label fragment. */
  get(name: string, labelFragment = ''): number {
    let sum = 0;
    for (const [k, v] of this._values) {
      if (k.startsWith(`${name}{`) && k.includes(labelFragment)) sum += v;
    }
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this._values);
  }

  /** Prometheus text exposition. */
  render(): string {
    const lines: string[] = [];
    for (const [k, v] of [...this._values].sort()) lines.push(`${k} ${v}`);
    return `${lines.join('\n')}\n`;
  }
}

const LOG_INTERVAL_MS = 10_000;

/** Telemetry for one component: counters labelled {component,type,id}; logs rate-limited per event. */
export class ComponentTelemetry implements Telemetry {
  private readonly _labels: string;
  private readonly _lastLog = new Map<string, { at: number; suppressed: number }>();
  private readonly _counters: Counters;
  private readonly _log: Logger;

  constructor(counters: Counters, log: Logger, component: 'source' | 'destination' | 'pipeline' | 'node', type: string, id: string) {
    this._counters = counters;
    this._log = log;
    this._labels = `component="${component}",type="${type}",id="${id}"`;
  }

  emit(event: string, fields: Record<string, unknown> = {}, count = 1): void {
    const spec = (EVENTS as Record<string, (typeof EVENTS)[EventName] | undefined>)[event];
    if (spec === undefined) throw new LogshipError('LS_INTERNAL', `telemetry event "${event}" is not declared in observe/events.ts`);
    this._counters.add(spec.counter, this._labels, count);
    if (spec.level === 'none') return;
    const now = Date.now();
    const last = this._lastLog.get(event);
    if (spec.level !== 'info' && last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this._lastLog.set(event, { at: now, suppressed: 0 });
    const obj = suppressed > 0 ? { event, ...fields, suppressed } : { event, ...fields };
    this._log[spec.level](obj, spec.message);
  }
}
