// The pipe source: reads newline-separated messages from a named pipe (FIFO), created if missing,
// across any number of writers that open, write and close it (fifo.ts explains how EOF is
// avoided). Lines go into one LocalFlow (one batch stream per run); a line written in several
// parts is joined, a long one split (counted), a last line without newline sent after
// partial_flush_ms. Backpressure: the read side pauses while the flow is over its bound, so the
// FIFO fills and writers block. A pipe cannot be re-read: batches are pushed without waiting for
// their settlement (the disk spool of a later issue will cover that).

import type { Socket } from 'node:net';
import { basename, extname, resolve } from 'node:path';
import { FRAME_FLAG, NewlineDeframer } from '../../codec/framing/newline.js';
import type { BatchMeta } from '../../core/batch.js';
import type { Source, SourceContext } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { facilityCode, severityCode } from '../../util/syslog-codes.js';
import { LOCAL_BATCH_BYTES, LOCAL_BATCH_DELAY_MS, LocalFlow } from '../unix-dgram/flow.js';
import { applyPermissions, identify, releasePath, removeIfOurs, type KeyRef, type PathIdentity } from '../unix-dgram/local-path.js';
import { checkFifo, makeFifo, openFifo } from './fifo.js';
import type { PipeSourceOptions } from './options.js';

/** How long stop() waits for the router to take the last batch. */
export const STOP_BOUND_MS = 5_000;
/** Delay before reopening the FIFO after a read error. */
const REOPEN_DELAY_MS = 1_000;

type State = 'new' | 'running' | 'stopped';

function defaultProgram(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  return ext === '' ? base : base.slice(0, -ext.length);
}

export class PipeSource implements Source {
  private readonly _opts: PipeSourceOptions;
  private _state: State;
  private _ctx: SourceContext | undefined;
  private _path: string;
  private _ref: KeyRef;
  /** Set when we created the FIFO: only then is it removed on stop. */
  private _created: PathIdentity | undefined;
  private _flow: LocalFlow | undefined;
  private readonly _deframer: NewlineDeframer;
  private _socket: Socket | undefined;
  private _partialTimer: NodeJS.Timeout | undefined;
  private _reopenTimer: NodeJS.Timeout | undefined;
  private _waitingRoom: boolean;
  private _splits: number;

  constructor(opts: PipeSourceOptions) {
    this._opts = opts;
    this._state = 'new';
    this._ctx = undefined;
    this._path = '';
    this._ref = { who: 'pipe source', key: 'path' };
    this._created = undefined;
    this._flow = undefined;
    this._deframer = new NewlineDeframer({ maxMessageBytes: opts.max_line_bytes, oversize: 'split' });
    this._socket = undefined;
    this._partialTimer = undefined;
    this._reopenTimer = undefined;
    this._waitingRoom = false;
    this._splits = 0;
  }

  /** The FIFO's absolute path (after start). */
  get path(): string {
    return this._path;
  }

  /** Whether this run created the FIFO (and so removes it on stop). */
  get createdFifo(): boolean {
    return this._created !== undefined;
  }

  get stream(): string | undefined {
    return this._flow?.stream;
  }

  stats(): { split: number; paused: boolean } {
    return { split: this._splits, paused: this._waitingRoom };
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this._state !== 'new') throw new LogshipError('LS_INTERNAL', 'pipe source started twice');
    const o = this._opts;
    this._ctx = ctx;
    this._path = resolve(o.path);
    this._ref = { who: `pipe source "${ctx.id}"`, key: 'path' };
    if ((await checkFifo(this._path, this._ref)) === 'missing') {
      await makeFifo(this._path, o.mode, this._ref);
      this._created = await identify(this._path);
      try {
        // mkfifo -m already set the mode; this also applies owner and group.
        await applyPermissions(this._path, o, this._ref);
      } catch (err) {
        await removeIfOurs(this._path, this._created);
        throw err;
      }
    }
    const meta: Omit<BatchMeta, 'timeMs'> = {
      host: ctx.node.name,
      program: o.program ?? defaultProgram(this._path),
      facility: facilityCode(o.facility) ?? 1,
      severity: severityCode(o.severity) ?? 5,
      ...(o.format === 'syslog' ? { format: 'syslog' as const } : {}),
    };
    this._flow = new LocalFlow(ctx, { meta, maxBatchBytes: LOCAL_BATCH_BYTES, maxDelayMs: LOCAL_BATCH_DELAY_MS });
    try {
      this._attach(await openFifo(this._path));
    } catch (err) {
      if (this._created !== undefined) await removeIfOurs(this._path, this._created);
      throw new LogshipError('LS_STARTUP', `${this._ref.who}: cannot open the named pipe ${this._path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
        cause: err,
      });
    }
    this._state = 'running';
    ctx.telemetry.emit('local_listening', { path: this._path, mode: o.mode, created: this._created !== undefined });
  }

  async stop(): Promise<void> {
    const was = this._state;
    this._state = 'stopped';
    if (was !== 'running') return;
    clearTimeout(this._reopenTimer);
    this._reopenTimer = undefined;
    this._detach();
    // What was read of an unterminated last line cannot be read again: send it.
    this._flushPartial();
    if (this._created !== undefined) await releasePath(this._path, this._created, this._ctx!.telemetry);
    await this._flow!.close(STOP_BOUND_MS);
  }

  private _attach(socket: Socket): void {
    this._socket = socket;
    socket.on('data', (chunk: Buffer) => this._onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this._lost(err.code ?? String(err)));
    // With our own write end open this does not happen; if it does, reopen rather than spin.
    socket.on('end', () => this._lost('EOF'));
    if (this._waitingRoom) socket.pause();
  }

  private _detach(): void {
    const s = this._socket;
    this._socket = undefined;
    if (s === undefined) return;
    s.removeAllListeners('data');
    s.removeAllListeners('end');
    s.on('error', () => undefined);
    s.destroy();
  }

  private _lost(reason: string): void {
    if (this._state !== 'running' || this._socket === undefined) return;
    this._ctx!.telemetry.emit('pipe_read_error', { path: this._path, reason });
    this._detach();
    this._scheduleReopen();
  }

  private _scheduleReopen(): void {
    if (this._state !== 'running' || this._reopenTimer !== undefined) return;
    this._reopenTimer = setTimeout(() => {
      this._reopenTimer = undefined;
      if (this._state !== 'running') return;
      openFifo(this._path).then(
        (s) => {
          if (this._state === 'running' && this._socket === undefined) this._attach(s);
          else s.destroy();
        },
        (err: NodeJS.ErrnoException) => {
          this._ctx!.telemetry.emit('pipe_read_error', { path: this._path, reason: err.code ?? String(err) });
          this._scheduleReopen();
        },
      );
    }, REOPEN_DELAY_MS);
  }

  private _onData(chunk: Buffer): void {
    if (this._state !== 'running') return;
    const d = this._deframer;
    const flow = this._flow!;
    d.push(chunk);
    while (d.next()) {
      if ((d.flags & FRAME_FLAG.OVERSIZE) !== 0) {
        this._splits++;
        this._ctx!.telemetry.emit('pipe_line_split', { path: this._path, max_line_bytes: this._opts.max_line_bytes });
      }
      flow.add(d.buf, d.start, d.end);
    }
    this._armPartial();
    if (flow.full && !this._waitingRoom) {
      this._waitingRoom = true;
      this._socket?.pause();
      void flow.whenRoom().then(() => {
        this._waitingRoom = false;
        if (this._state === 'running') this._socket?.resume();
      });
    }
  }

  /** (Re)starts the wait of a held partial line: flushed after partial_flush_ms without new data. */
  private _armPartial(): void {
    clearTimeout(this._partialTimer);
    this._partialTimer = undefined;
    const ms = this._opts.partial_flush_ms;
    if (ms === 0 || this._deframer.bufferedBytes === 0) return;
    this._partialTimer = setTimeout(() => {
      this._partialTimer = undefined;
      if (this._state !== 'running') return;
      if (this._flushPartial()) this._ctx!.telemetry.emit('pipe_partial_flushed', { path: this._path });
    }, ms);
  }

  private _flushPartial(): boolean {
    clearTimeout(this._partialTimer);
    this._partialTimer = undefined;
    const d = this._deframer;
    if (!d.finish()) return false;
    this._flow!.add(d.buf, d.start, d.end);
    return true;
  }
}
