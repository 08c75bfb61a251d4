#!/usr/bin/env node
// Entry point: builds the CLI and maps errors to exit codes. The ONLY place that exits.
// 0 ok · 1 failure · 2 usage · 78 configuration (sysexits EX_CONFIG).
import './boot.js'; // first: V8 flags (see boot.ts)
import { CommanderError } from '@commander-js/extra-typings';
import { buildCli } from './cli/index.js';
import { EXIT, ExitError, LogshipError } from './core/errors.js';

async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof ExitError) {
      if (err.message !== '') process.stderr.write(`logship: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof LogshipError) {
      process.stderr.write(`logship: ${err.message} [${err.code}]\n`);
      return err.code === 'LS_CONFIG_INVALID' || err.code === 'LS_CONFIG_READ' ? EXIT.CONFIG : EXIT.FAILURE;
    }
    process.stderr.write(`logship: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILURE;
  }
}

process.exitCode = await main(process.argv);
// Let pending handles close on their own; force the exit only if something keeps the loop alive.
setTimeout(() => process.exit(), 2_000).unref();
