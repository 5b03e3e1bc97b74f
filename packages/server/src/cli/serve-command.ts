import { Option, type Command } from 'commander';
import pino from 'pino';
import { loadConfig, SERVE_OPTIONS, type ResolvedConfig } from '../config.js';
import { startServer } from '../server.js';

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

/** `batchd serve`: the HTTP API and the engine, until SIGTERM or SIGINT. */
export function registerServeCommand(program: Command): void {
  const serve = addServeOptions(program.command('serve').description('run the HTTP API and the engine'));
  serve.action(async (flags: Record<string, string | undefined>) => {
    const config = resolveServeConfig(serve, flags);
    const logger = pino({ level: config.logLevel }, pino.destination(2));
    const server = await startServer(config, { logger });
    process.stdout.write(`batchd listening on ${server.url}\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
