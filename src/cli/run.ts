// `logship run --config FILE`: load, start the pipeline, run until SIGTERM/SIGINT (graceful stop
// within a bound), reload on SIGHUP (a bad new config is refused and the old one keeps running).
import { youngGeneration } from '../boot.js';
import { loadConfig, type Config } from '../config/index.js';
import { EXIT, ExitError, LogshipError } from '../core/errors.js';
import { asLogger, createRootLogger } from '../observe/log.js';
import { Counters } from '../observe/metrics.js';
import { Pipeline } from '../pipeline/build.js';
import { VERSION } from '../version.js';
import { formatIssue } from './issues.js';

const STOP_TIMEOUT_MS = 10_000;

export async function runRun(opts: { config: string }): Promise<void> {
  const first = await loadConfig(opts.config);
  for (const w of first.warnings) process.stderr.write(`${formatIssue(opts.config, w, 'warning')}\n`);
  if (!first.ok) {
    for (const i of first.issues) process.stderr.write(`${formatIssue(opts.config, i, 'error')}\n`);
    throw new ExitError(EXIT.CONFIG, `${opts.config}: invalid configuration (run: logship check-config ${opts.config})`);
  }
  youngGeneration(first.config.node.receives);
  const root = await createRootLogger(first.config.log.level);
  const log = asLogger(root);
  const counters = new Counters();
  let config: Config = first.config;
  let pipeline: Pipeline;
  try {
    pipeline = await Pipeline.start(config, log, counters);
  } catch (err) {
    if (err instanceof LogshipError) log.error({ err, code: err.code }, 'Startup failed.');
    throw new ExitError(EXIT.FAILURE, err instanceof Error ? err.message : String(err));
  }
  log.info({ version: VERSION, node: config.node.name, role: config.node.role, config: config.file }, 'logship started.');

  await new Promise<void>((resolve) => {
    let busy: Promise<void> = Promise.resolve();
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'Stopping.');
      busy = busy.then(async () => {
        await pipeline.stop(STOP_TIMEOUT_MS);
        log.info({}, 'Stopped.');
      });
      void busy.then(resolve, resolve);
    };
    const reload = (): void => {
      busy = busy.then(async () => {
        if (stopping) return;
        const next = await loadConfig(opts.config).catch((err: unknown) => ({ ok: false as const, issues: [{ path: '', message: String(err) }], warnings: [] }));
        if (!next.ok) {
          log.error({ issues: next.issues.map((i) => formatIssue(opts.config, i, 'error')) }, 'New configuration refused; the old one keeps running.');
          return;
        }
        await pipeline.stop(STOP_TIMEOUT_MS);
        youngGeneration(next.config.node.receives);
        try {
          pipeline = await Pipeline.start(next.config, log, counters);
          config = next.config;
          log.info({ config: config.file }, 'Configuration reloaded.');
        } catch (err) {
          log.error({ err }, 'New configuration failed to start; restarting the old one.');
          youngGeneration(config.node.receives);
          pipeline = await Pipeline.start(config, log, counters);
        }
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', reload);
  });
}
