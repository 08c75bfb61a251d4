// Self-logging: pino, JSON on stderr (for journald), pretty on a TTY. Synchronous destination
// so nothing buffered is lost on SIGTERM or exit.

import { pino } from 'pino';
import type { Logger } from '../core/component.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export async function createRootLogger(level: LogLevel, pretty: boolean = process.stderr.isTTY): Promise<pino.Logger> {
  if (pretty) {
    try {
      const { default: pinoPretty } = await import('pino-pretty');
      return pino({ level, base: undefined }, pinoPretty({ destination: 2, sync: true, colorize: true }));
    } catch {
      // pino-pretty is optional (a dev dependency): fall back to JSON.
    }
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export function asLogger(p: pino.Logger): Logger {
  return p as unknown as Logger;
}
