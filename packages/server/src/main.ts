#!/usr/bin/env node
import { Command, Option } from 'commander';
import pino from 'pino';
import { loadConfig, SERVE_OPTIONS, type ResolvedConfig } from './config.js';
import { startServer } from './server.js';

const program = new Command('batchd').description('A self-hosted Message Batches service');

const serve = program.command('serve').description('run the HTTP API and the engine');
for (const spec of SERVE_OPTIONS) {
  serve.addOption(new Option(`--${spec.flag} <value>`, `${spec.description} (env ${spec.env})`));
}
serve.addOption(new Option('--config <file>', 'JSON file of options keyed by flag name (env BATCHD_CONFIG)'));
serve.action(async (flags: Record<string, string | undefined>) => {
  const config = resolveConfig(flags);
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

function resolveConfig(flags: Record<string, string | undefined>): ResolvedConfig {
  try {
    return loadConfig(process.env, flags, flags.config ?? process.env.BATCHD_CONFIG);
  } catch (error) {
    return program.error(`batchd: ${(error as Error).message}`);
  }
}

await program.parseAsync(process.argv);
