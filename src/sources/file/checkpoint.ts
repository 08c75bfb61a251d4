// Checkpoint file of one file source: per file generation, its identity, stream id and acked offset.
// Written to a temp name, fsync'd, renamed over the old one, and the directory fsync'd, so a crash
// leaves either the old or the new checkpoint, never a torn one. No tailing logic here.
//
//   { "version": 1, "files": [ { "path", "dev", "ino", "fingerprint", "fpLen", "stream", "offset" } ] }

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LogshipError } from '../../core/errors.js';

export interface CheckpointEntry {
  /** Where the generation was last seen. */
  readonly path: string;
  readonly dev: string;
  readonly ino: string;
  readonly fingerprint: string;
  readonly fpLen: number;
  /** Stream id of the generation: the same bytes always travel under the same id. */
  readonly stream: string;
  /** Offset up to which every byte is acknowledged (delivered or rejected). */
  readonly offset: number;
}

const entrySchema = z
  .object({
    path: z.string().min(1),
    dev: z.string().regex(/^\d+$/),
    ino: z.string().regex(/^\d+$/),
    fingerprint: z.string().regex(/^[0-9a-f]+$/),
    fpLen: z.number().int().min(0),
    stream: z.string().regex(/^[0-9a-f]{1,64}$/),
    offset: z.number().int().min(0),
  })
  .strict();

const fileSchema = z.object({ version: z.literal(1), files: z.array(entrySchema) }).strict();

function corrupt(file: string, detail: string, cause?: unknown): LogshipError {
  return new LogshipError(
    'LS_STATE_CORRUPT',
    `checkpoint file ${file} cannot be parsed (${detail}); move it away to start over ` +
      '(files are then read as on a first start, per start_at)',
    cause === undefined ? undefined : { cause },
  );
}

/** Parse a checkpoint file's text; throws LS_STATE_CORRUPT. */
export function parseCheckpoint(text: string, file: string): CheckpointEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, 'not JSON', err);
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw corrupt(file, issue === undefined ? 'bad shape' : `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data.files;
}

export function serializeCheckpoint(entries: readonly CheckpointEntry[]): string {
  return `${JSON.stringify({ version: 1, files: entries })}\n`;
}

/** Read the checkpoint; undefined when there is none yet (first start). */
export async function readCheckpoint(file: string): Promise<CheckpointEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LogshipError('LS_STARTUP', `checkpoint file ${file} cannot be read; check the permissions of the state directory`, {
      cause: err,
    });
  }
  return parseCheckpoint(text, file);
}

/** Atomically replace the checkpoint file with `text`: temp + fsync + rename + fsync of the directory. */
async function writeCheckpointText(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Serializes checkpoint writes: one at a time, in order. `write()` resolves true once a write that
 * started after the call has completed (so it holds the state of the call time), false on failure.
 * Calls made while a write is queued and not started yet share that write. A state whose text is
 * the one the last successful write put on disk is not written again (no temp file, no fsync).
 */
export class CheckpointWriter {
  private readonly _file: string;
  private readonly _snapshot: () => CheckpointEntry[];
  private readonly _onError: (err: unknown) => void;
  private _chain: Promise<boolean>;
  private _queued: Promise<boolean> | undefined;
  /** Text of the last successful write: what the file holds. */
  private _written: string | undefined;
  private _writes: number;

  constructor(file: string, snapshot: () => CheckpointEntry[], onError: (err: unknown) => void) {
    this._file = file;
    this._snapshot = snapshot;
    this._onError = onError;
    this._chain = Promise.resolve(true);
    this._queued = undefined;
    this._written = undefined;
    this._writes = 0;
  }

  /** Files written so far (skipped unchanged states not counted). */
  get writes(): number {
    return this._writes;
  }

  write(): Promise<boolean> {
    if (this._queued !== undefined) return this._queued;
    const next = this._chain.then(async () => {
      this._queued = undefined;
      const text = serializeCheckpoint(this._snapshot());
      if (text === this._written) return true;
      try {
        // Unknown until this write succeeds (a failed one may have replaced the file or not).
        this._written = undefined;
        await writeCheckpointText(this._file, text);
        this._written = text;
        this._writes++;
        return true;
      } catch (err) {
        this._onError(err);
        return false;
      }
    });
    this._queued = next;
    this._chain = next;
    return next;
  }

  /** The last write in the chain has finished. */
  idle(): Promise<boolean> {
    return this._chain;
  }
}
