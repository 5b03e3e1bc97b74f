import { Option, type Command } from 'commander';
import pino from 'pino';
import type { Logger } from 'pino';
import { loadConfig, SERVE_OPTIONS, type ResolvedConfig } from '../../config.js';
import { isPostgresUrl, migrateStore } from '../../store/open-store.js';

/** Adds every `serve` option (flag, description, environment variable) to a command. */
export function addServeOptions(command: Command): Command {
  for (const spec of SERVE_OPTIONS) {
    command.addOption(new Option(`--${spec.flag} <value>`, `${spec.description} (env ${spec.env})`));
  }
  return command.addOption(new Option('--config <file>', 'JSON file of options keyed by flag name (env BATCHD_CONFIG)'));
}

/** Resolves a command's serve options, exiting with a one-line message when one is wrong. */
export function resolveServeConfig(command: Command, flags: Record<string, string | undefined>): ResolvedConfig {
  try {
    return loadConfig(process.env, flags, flags.config ?? process.env.BATCHD_CONFIG);
  } catch (error) {
    return command.error(`batchd: ${(error as Error).message}`);
  }
}

/** Keeps a node running until SIGTERM or SIGINT, then closes it and exits. */
function closeOnSignal(close: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * `batchd serve` (the HTTP API and the engine; `--no-engine` for an API-only node), `batchd worker`
 * (the engine only) and `batchd migrate` (apply the database's migrations and exit).
 */
export function registerServeCommand(program: Command): void {
  const serve = addServeOptions(program.command('serve').description('run the HTTP API and the engine'));
  serve.option('--no-engine', 'serve the API only; batchd worker nodes on the same database run the batches');
  serve.action(async (flags: Record<string, string | undefined> & { engine?: boolean }) => {
    const config = resolveServeConfig(serve, flags);
    const logger = pino({ level: config.logLevel }, pino.destination(2));
    // The server's modules load only for the commands that run one, so client commands start fast.
    const { startServer } = await import('../../server.js');
    const server = await startServer(config, { logger, runEngine: flags.engine !== false });
    if (server.metricsUrl) process.stdout.write(`batchd metrics on ${server.metricsUrl}/metrics\n`);
    process.stdout.write(`batchd listening on ${server.url}\n`);
    closeOnSignal(() => server.close(), logger);
  });

  const worker = addServeOptions(program.command('worker').description('run the engine only, on a database shared with serve nodes'));
  worker.action(async (flags: Record<string, string | undefined>) => {
    const config = resolveServeConfig(worker, flags);
    const logger = pino({ level: config.logLevel }, pino.destination(2));
    const { startWorker } = await import('../../server.js');
    const running = await startWorker(config, { logger });
    if (running.metricsUrl) process.stdout.write(`batchd metrics on ${running.metricsUrl}/metrics\n`);
    process.stdout.write(`batchd worker running on ${isPostgresUrl(config.db) ? 'postgres' : config.db}\n`);
    closeOnSignal(() => running.close(), logger);
  });

  const migrate = program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('--db <value>', 'SQLite database file or postgres:// URL (env BATCHD_DB)');
  migrate.action(async (flags: { db?: string }) => {
    const db = flags.db ?? process.env.BATCHD_DB ?? './data/batchd.sqlite';
    const applied = await migrateStore(db);
    process.stdout.write(applied.length > 0 ? `applied migrations ${applied.join(', ')}\n` : 'database is up to date\n');
  });
}
