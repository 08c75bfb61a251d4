// Every error logship throws is a LogshipError with a stable code (docs/errors.md lists them).
// Messages say what, where and how to fix; `cause` carries the underlying error.

export const ERROR_CODES = {
  LS_CONFIG_INVALID: 'the configuration has problems (each is listed with its key path)',
  LS_CONFIG_READ: 'the configuration file cannot be read',
  LS_STARTUP: 'a component could not start (bind, open, state directory)',
  LS_STATE_CORRUPT: 'a state file (checkpoint, journal) cannot be parsed',
  LS_FRAME_OVERSIZE: 'a peer sent a frame larger than the allowed maximum',
  LS_FRAME_INVALID: 'a peer sent a frame that cannot be decoded',
  LS_SHIP_PROTOCOL: 'a peer broke the ship protocol (wrong frame for the state of the connection)',
  LS_SHIP_REFUSED: 'the upstream refused this node',
  LS_SHIP_DISCONNECTED: 'the connection to the upstream was lost',
  LS_SHIP_RESOLVE: 'the name of an upstream did not resolve to any address',
  LS_FILE_WRITE: 'a file destination could not write or sync',
  LS_SPOOL_WRITE: 'a spool could not write or sync a segment (disk full, permissions)',
  LS_SYSLOG_SEND: 'a syslog destination could not connect to its receiver, lost the connection, or could not send',
  LS_SHUTDOWN: 'the component is shutting down',
  LS_INTERNAL: 'a bug: an internal invariant did not hold',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LogshipError extends Error {
  readonly code: ErrorCode;
  /** For peer-input errors: false when the stream position is lost and the connection must close. */
  readonly canContinue: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; canContinue?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogshipError';
    this.code = code;
    this.canContinue = options?.canContinue ?? false;
  }
}

/** Thrown by CLI commands to ask main.ts for a specific exit code. */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = '') {
    super(message);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, CONFIG: 78 } as const;
