import { BatchdClient, SubmitError, type MessageBatch } from '@batchd/sdk';
import { Option, type Command } from 'commander';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pino from 'pino';
import { CliError } from './cli-error.js';
import { CommandOutput } from './command-output.js';
import { EXIT_CODES } from './exit-codes.js';
import { formatCounts } from './format-batch.js';
import { interruptible } from './interruptible.js';
import { ProgressDisplay } from './progress-display.js';
import { readRequests } from './read-requests.js';
import { failureSummary, totalRequests } from './request-counts.js';
import { addServeOptions, resolveServeConfig } from './serve-command.js';
import { waitForBatches } from './wait-for-batches.js';
import { writeResults } from './write-results.js';

/** When interrupted, calls still in flight get this long before they are aborted; they run again when the batches resume. */
const SHUTDOWN_GRACE_MS = 2_000;

type RunFlags = Record<string, string | undefined> & { output: string; json?: boolean };

interface Job {
  /** The embedded server. */
  url: string;
  db: string;
  file: string;
  output: string;
  json: boolean;
}

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
    const server = await (await import('../server.js')).startServer(config, { logger });
    try {
      const job = { url: server.url, db: config.db, file, output, json: json === true };
      await interruptible((signal) => runJob(job, signal));
    } finally {
      await server.close(SHUTDOWN_GRACE_MS);
    }
  });
}

async function runJob({ url, db, file, output, json }: Job, signal: AbortSignal): Promise<void> {
  const client = new BatchdClient({ baseURL: url, apiKey: 'batchd-run' });
  let created: MessageBatch[] = [];
  try {
    const submission = await client.messages.batches.submit(readRequests(file), { signal });
    created = submission.batches;
    const requests = created.reduce((sum, batch) => sum + totalRequests(batch.request_counts), 0);
    process.stderr.write(`submitted ${requests} requests in ${created.length} batch(es) on ${url} (${db})\n`);

    const display = new ProgressDisplay();
    await waitForBatches(client.messages.batches, created, { signal, onProgress: (counts) => display.update(counts) }).finally(() =>
      display.stop(),
    );
    const counts = await writeResults(submission.results({ signal }), output);
    const summary = { batches: submission.ids, output, requests: totalRequests(counts), request_counts: counts };
    new CommandOutput(json).print(summary, (colors) => `${summary.requests} requests: ${formatCounts(counts, colors)}\nresults written to ${output}\n`);
    const failure = failureSummary(counts);
    if (failure) throw new CliError(`${failure} (see ${output})`, EXIT_CODES.requestsFailed);
  } catch (error) {
    if (error instanceof SubmitError) created = error.batches;
    if (!signal.aborted) throw error;
    const kept = created.length > 0 ? `; batches ${created.map((batch) => batch.id).join(', ')} resume with \`batchd serve --db ${db}\`` : '';
    throw new CliError(`interrupted${kept}`, EXIT_CODES.interrupted);
  }
}
