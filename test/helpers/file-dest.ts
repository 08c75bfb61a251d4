// Shared by the file destination's component tests: batches of raw lines, a destination on tmp
// dirs (with or without the writer's test seams), outcome checks, the journal's record types.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Batch, indexLines, type BatchMeta } from '../../src/core/batch.js';
import type { Outcome } from '../../src/core/outcome.js';
import { FileDestination, fileDestination, fileDestinationOptions } from '../../src/destinations/file/index.js';
import type { JournalRecord } from '../../src/destinations/file/journal.js';
import { testContext } from './context.js';
import { tmpDir } from './tmp.js';

export const T0 = Date.UTC(2026, 10, 23, 10, 33, 0, 123);

export const meta = (host = 'web-1', program = 'app', extra: Partial<BatchMeta> = {}): BatchMeta => ({
  host,
  program,
  facility: 1,
  severity: 6,
  timeMs: T0,
  ...extra,
});

export function batch(text: string, offset: number, m: BatchMeta = meta(), stream = 's1', origin = 'client-a'): Batch {
  const data = Buffer.from(text);
  return new Batch(data, indexLines(data), m, { origin, stream, offset });
}

/** Lines "p0\n" … "p{n-1}\n" and their byte offsets. */
export function lines(prefix: string, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix}${i}\n`;
  return s;
}

export interface Env {
  base: string;
  state: string;
}

export async function env(t: TestContext): Promise<Env> {
  const root = await tmpDir(t);
  return { base: join(root, 'out'), state: join(root, 'state') };
}

export async function start(t: TestContext, e: Env, opts: Record<string, unknown> = {}, id = 'files') {
  const options = fileDestinationOptions.parse({ type: 'file', base_dir: e.base, template: 'raw', ...opts });
  const dest = fileDestination.create(options) as FileDestination;
  const ctx = testContext({ id, stateDir: e.state, role: 'server' });
  await dest.start(ctx);
  t.after(() => dest.close());
  return { dest, ctx, counter: (name: string) => ctx.counters.get(`logship_file_dest_${name}_total`) };
}

export const read = (p: string): Promise<string> => readFile(p, 'utf8');

export function delivered(o: Outcome): void {
  assert.equal(o.kind, 'delivered', o.kind === 'delivered' ? '' : String(o.error));
}

/** A journal's records, in order (an intact journal: no torn tail). */
export function journalRecords(buf: Buffer): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (let off = 0; off < buf.length; off += 8 + buf.readUInt32LE(off)) {
    out.push(JSON.parse(buf.subarray(off + 8, off + 8 + buf.readUInt32LE(off)).toString()) as JournalRecord);
  }
  return out;
}

/** The types of a journal's records, in order. */
export const journalTypes = (buf: Buffer): string[] => journalRecords(buf).map((r) => r.t);

/** The writer's test seams (writer.ts WriterHooks). */
export type Hooks = NonNullable<ConstructorParameters<typeof FileDestination>[1]>;
export type Fault = Hooks['fault'];

/** A destination with fault injection (test seam of writer.ts), fsync on. */
export async function startFaulty(t: TestContext, e: Env, hooks: Hooks, opts: Record<string, unknown> = {}) {
  const dest = new FileDestination(fileDestinationOptions.parse({ type: 'file', base_dir: e.base, template: 'raw', fsync: true, ...opts }), hooks);
  const ctx = testContext({ id: 'files', stateDir: e.state, role: 'server' });
  await dest.start(ctx);
  t.after(() => dest.close());
  return { dest, ctx, counter: (name: string) => ctx.counters.get(`logship_file_dest_${name}_total`) };
}

/** Fails the `nth` `step` on `what` (1: the first) with EIO, and only that one. */
export function failOnce(step: Parameters<NonNullable<Fault>>[0], what: string, nth = 1): NonNullable<Fault> {
  let seen = 0;
  return (s, w) => {
    if (s !== step || w !== what || ++seen !== nth) return;
    throw Object.assign(new Error(`injected ${s} failure`), { code: 'EIO' });
  };
}

export function retryableWith(o: Outcome, code: string): void {
  assert.equal(o.kind, 'retryable');
  assert.equal(o.kind === 'retryable' && (o.error as { code?: string }).code, code);
}

