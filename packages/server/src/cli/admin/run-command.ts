import { Option, type Command } from 'commander';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pino from 'pino';
import { CliError } from '../cli-error.js';
import { runJob } from '../client/run-job.js';
import { EXIT_CODES } from '../exit-codes.js';
import { interruptible } from '../interruptible.js';
import { addServeOptions, resolveServeConfig } from './serve-command.js';

/** When interrupted, calls still in flight get this long before they are aborted; they run again when the batches resume. */
const SHUTDOWN_GRACE_MS = 2_000;

type RunFlags = Record<string, string | undefined> & { output: string; json?: boolean };

/**
 * `batchd run FILE -o results.jsonl`: starts an embedded server (the `serve` options apply; it
 * listens on a free loopback port unless `--port` says otherwise), submits FILE in as many
 * batches as it needs, shows progress, writes every result to the output file, prints a summary
 * and stops the server. Exits 3 when some requests did not succeed.
 */
export function registerRunCommand(program: Command): void {
  const run = addServeOptions(
    program
      .command('run')
      .description('one-shot job: run a file of requests on an embedded server and write the results')
      .argument('<file>', 'JSONL of {custom_id, params} lines, or a JSON {"requests": [...]} document; - reads stdin')
      .requiredOption('-o, --output <file>', 'where to write the results (JSONL)')
      .addOption(new Option('--json', 'print the summary as one JSON document')),
  );
  run.action(async (file: string, flags: RunFlags) => {
    const { output, json, ...serveFlags } = flags;
    const config = resolveServeConfig(run, { ...serveFlags, port: serveFlags.port ?? '0', logLevel: serveFlags.logLevel ?? 'warn' });
    await access(dirname(resolve(output)), constants.W_OK).catch((error: Error) => {
      throw new CliError(`cannot write ${output}: ${error.message}`, EXIT_CODES.usage);
    });
    const logger = pino({ level: config.logLevel }, pino.destination(2));
    const server = await (await import('../../server.js')).startServer(config, { logger });
    try {
      const job = { url: server.url, db: config.db, file, output, json: json === true };
      await interruptible((signal) => runJob(job, signal));
    } finally {
      await server.close(SHUTDOWN_GRACE_MS);
    }
  });
}
