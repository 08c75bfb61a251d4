// A real ComponentContext/SourceContext for component tests: counters are real, logs are kept.
import type { Batch } from '../../src/core/batch.js';
import type { ComponentContext, Logger, NodeInfo, SourceContext } from '../../src/core/component.js';
import { ComponentTelemetry, Counters } from '../../src/observe/metrics.js';

export interface LogEntry {
  level: string;
  obj: object;
  msg: string;
}

export function memoryLogger(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}): Logger {
  const mk = (level: string) => (obj: object, msg: string) => {
    entries.push({ level, obj: { ...bindings, ...obj }, msg });
  };
  return {
    error: mk('error'),
    warn: mk('warn'),
    info: mk('info'),
    debug: mk('debug'),
    child: (b) => memoryLogger(entries, { ...bindings, ...b }),
  };
}

export function testContext(opts: { id?: string; stateDir: string; nodeName?: string; role?: NodeInfo['role'] }): ComponentContext & {
  counters: Counters;
  logs: LogEntry[];
} {
  const logs: LogEntry[] = [];
  const counters = new Counters();
  const log = memoryLogger(logs);
  const id = opts.id ?? 'test';
  return {
    id,
    node: { name: opts.nodeName ?? 'test-node', role: opts.role ?? 'client', stateDir: opts.stateDir, version: '0.0.0-test' },
    log,
    telemetry: new ComponentTelemetry(counters, log, 'source', 'test', id),
    counters,
    logs,
  };
}

/** A source context whose push hands batches to `onBatch` (which may delay to apply backpressure). */
export function testSourceContext(
  opts: Parameters<typeof testContext>[0],
  onBatch: (b: Batch) => void | Promise<void>,
): SourceContext & { counters: Counters; logs: LogEntry[] } {
  const base = testContext(opts);
  return { ...base, push: async (b: Batch) => onBatch(b) };
}
