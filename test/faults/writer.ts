// The fault tests' writer: appends sequence-numbered, fixed-length lines to the client's input
// files at a steady rate, so faults land mid-stream and the checker (test/helpers/checker.ts) can
// tell every line apart. Test code only; writes the input files and nothing else.
//
//   line g of the run → file g % N, as its (g / N)-th line:
//   "#F07 000012345 " + random base64 padding + "\n"   (LINE_BYTES bytes in all)

import { randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../helpers/wait.js';

/** Bytes of every written line, '\n' included: `#F07 000012345 ` + padding. */
export const LINE_BYTES = 100;

export function fileIds(files: number): string[] {
  return Array.from({ length: files }, (_, i) => `F${String(i).padStart(2, '0')}`);
}

/**
 * Random base64 text: line padding compresses about as well as real log text (3:4), not 100:1,
 * so the spool's bytes on disk (zstd) grow with the lines and its cap is reached for real.
 */
export function noise(chars: number): string {
  return randomBytes(Math.ceil((chars * 3) / 4) + 3).toString('base64').slice(0, chars);
}

/** One line (with its '\n'), padding taken from `pad` at `at` (LINE_BYTES - 16 characters). */
export function seqLine(id: string, seq: number, pad: string = noise(LINE_BYTES), at = 0): string {
  const head = `#${id} ${String(seq).padStart(9, '0')} `;
  const n = LINE_BYTES - 1 - head.length;
  return head + pad.slice(at, at + n) + '\n';
}

/**
 * Appends `perFile` lines to each of `files` files, round-robin, at `rate` lines/s (in ticks of
 * TICK_MS). One background loop, owned: `done` resolves when everything is written; stop() ends it early.
 */
export class SeqWriter {
  readonly ids: string[];
  readonly perFile: number;
  readonly total: number;
  written: number;
  /** Resolves when every line is written, or the writer stopped or failed (see `error`). */
  readonly done: Promise<void>;
  error: Error | null;
  private readonly _dir: string;
  private readonly _rate: number;
  private _stopped: boolean;

  static readonly TICK_MS = 25;

  constructor(dir: string, ids: string[], perFile: number, rate: number) {
    this.ids = ids;
    this.perFile = perFile;
    this.total = ids.length * perFile;
    this.written = 0;
    this.error = null;
    this._dir = dir;
    this._rate = rate;
    this._stopped = false;
    this.done = this._run().catch((err: unknown) => {
      this.error = err instanceof Error ? err : new Error(String(err));
      this._stopped = true;
    });
  }

  expected(): Map<string, number> {
    return new Map(this.ids.map((id) => [id, this.perFile]));
  }

  get totalBytes(): number {
    return this.total * LINE_BYTES;
  }

  /** Resolves once at least `fraction` of all lines are written (or the writer ended). */
  async reach(fraction: number): Promise<void> {
    const target = Math.floor(this.total * fraction);
    while (this.written < target && !this._stopped && this.written < this.total) await sleep(10);
  }

  async stop(): Promise<void> {
    this._stopped = true;
    await this.done;
  }

  /** Waits until every line is written; throws if the writer failed or was stopped first. */
  async finished(): Promise<void> {
    await this.done;
    if (this.error !== null) throw this.error;
    if (this.written < this.total) throw new Error(`writer stopped after ${this.written} of ${this.total} lines`);
  }

  private async _run(): Promise<void> {
    const n = this.ids.length;
    const t0 = Date.now();
    const next = new Array<number>(n).fill(0);
    while (!this._stopped && this.written < this.total) {
      const target = Math.min(this.total, Math.floor(((Date.now() - t0) * this._rate) / 1000));
      if (target > this.written) {
        const chunks = new Array<string>(n).fill('');
        const pad = noise((target - this.written) * LINE_BYTES);
        // Line g goes to file g % n as its (g / n)-th line: every file advances together.
        for (let g = this.written, at = 0; g < target; g++, at += LINE_BYTES) {
          const f = g % n;
          chunks[f] += seqLine(this.ids[f]!, next[f]!++, pad, at);
        }
        await Promise.all(chunks.map((c, f) => (c === '' ? Promise.resolve() : appendFile(join(this._dir, `${this.ids[f]}.log`), c))));
        this.written = target;
      }
      await sleep(SeqWriter.TICK_MS);
    }
  }
}
