// The commander tree. Each command module is imported lazily, runs, and never exits the process.
import { Command } from '@commander-js/extra-typings';
import { VERSION } from '../version.js';

export function buildCli(): Command {
  const program = new Command()
    .name('logship')
    .description('Centralized log shipping relay: one binary, client, relay or server by its configuration.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('Run logship with a configuration file (the role follows from the file).')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action(async (opts) => {
      const { runRun } = await import('./run.js');
      await runRun(opts);
    });

  program
    .command('check-config')
    .description('Validate a configuration file: exit 0 when valid, 78 with every problem listed.')
    .argument('<file>', 'configuration file (YAML)')
    .option('-q, --quiet', 'print nothing when valid')
    .action(async (file, opts) => {
      const { runCheckConfig } = await import('./check-config.js');
      await runCheckConfig(file, opts);
    });

  return program;
}
