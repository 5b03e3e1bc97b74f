import type { MessageBatch } from '@batchd/sdk';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { addClientFlags, clientContext, integerFrom, type ClientContext } from './client-flags.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatBatch, formatBatchTable, formatCounts } from './format-batch.js';
import { interruptible } from '../interruptible.js';
import { ProgressDisplay } from './progress-display.js';
import { readRequests } from './read-requests.js';
import { failureSummary, totalRequests } from './request-counts.js';
import { waitForBatches } from './wait-for-batches.js';
import { writeResults } from './write-results.js';

/** Shows progress until the batch has ended, prints it, and fails with exit code 3 when some requests did not succeed. */
async function follow({ client, out }: ClientContext, batch: MessageBatch): Promise<void> {
  const display = new ProgressDisplay();
  const [ended = batch] = await interruptible((signal) =>
    waitForBatches(client.messages.batches, [batch], { signal, onProgress: (counts) => display.update(counts) }),
  ).finally(() => display.stop());
  out.print(ended, (colors) => formatBatch(ended, colors));
  const failure = failureSummary(ended.request_counts);
  if (failure) throw new CliError(failure, EXIT_CODES.requestsFailed);
}

/** `batchd batches …`: the client commands, each a call of the SDK against a batchd server. */
export function registerBatchesCommand(program: Command): void {
  const batches = addClientFlags(
    program
      .command('batches')
      .description('create, follow and manage message batches on a batchd server')
      .configureHelp({ showGlobalOptions: true }),
  );

  batches
    .command('create')
    .description('create a batch from a file of requests')
    .argument('<file>', 'JSONL of {custom_id, params} lines, or a JSON {"requests": [...]} document; - reads stdin')
    .option('--wait', 'show progress until the batch has ended, then print it')
    .action(async (file: string, flags: { wait?: boolean }, command: Command) => {
      const ctx = clientContext(command);
      const requests = [];
      for await (const request of readRequests(file)) requests.push(request);
      const batch = await ctx.client.messages.batches.create({ requests });
      if (flags.wait) {
        process.stderr.write(`created ${batch.id} with ${requests.length} requests\n`);
        return follow(ctx, batch);
      }
      ctx.out.print(batch, (colors) => `created ${colors.bold(batch.id)} with ${requests.length} requests\n${formatBatch(batch, colors)}`);
    });

  batches
    .command('list')
    .description('list batches, newest first')
    .option('--limit <n>', 'batches per page, 1 to 1000 (server default 20)', integerFrom(1, 1000))
    .option('--after-id <id>', 'the page of batches older than this one')
    .option('--before-id <id>', 'the page of batches newer than this one')
    .action(async (flags: { limit?: number; afterId?: string; beforeId?: string }, command: Command) => {
      const { client, out } = clientContext(command);
      const page = await client.messages.batches.list({ limit: flags.limit, after_id: flags.afterId, before_id: flags.beforeId });
      const { data, has_more, first_id, last_id } = page;
      out.print({ data, has_more, first_id, last_id }, (colors) => {
        if (data.length === 0) return 'no batches\n';
        const cursor = flags.beforeId ? `--before-id ${first_id}` : `--after-id ${last_id}`;
        return formatBatchTable(data, colors) + (has_more ? colors.dim(`more: batchd batches list ${cursor}\n`) : '');
      });
    });

  batches
    .command('get')
    .description('show a batch, its token usage, cache hit rate and estimated cost')
    .argument('<id>', 'batch id')
    .action(async (id: string, _flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const [batch, report] = await Promise.all([client.messages.batches.retrieve(id), client.messages.batches.usage(id)]);
      const { usage, cache_hit_rate, cost } = report;
      out.print({ ...batch, usage, cache_hit_rate, cost }, (colors) => formatBatch(batch, colors, report));
    });

  batches
    .command('cancel')
    .description('cancel a batch: requests not yet sent end canceled')
    .argument('<id>', 'batch id')
    .action(async (id: string, _flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const batch = await client.messages.batches.cancel(id);
      out.print(batch, (colors) => `canceling ${colors.bold(batch.id)}\n${formatBatch(batch, colors)}`);
    });

  batches
    .command('delete')
    .description('delete an ended batch and its results')
    .argument('<id>', 'batch id')
    .action(async (id: string, _flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const deleted = await client.messages.batches.delete(id);
      out.print(deleted, (colors) => `deleted ${colors.bold(deleted.id)}\n`);
    });

  batches
    .command('results')
    .description('stream the results of an ended batch as JSONL, or of a running one with --partial or --follow')
    .argument('<id>', 'batch id')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--partial', 'the results finished so far, also while the batch runs, in the order they finished')
    .option('--follow', 'like --partial, then each result as it finishes, until the batch has ended')
    .action(async (id: string, flags: { output?: string; partial?: boolean; follow?: boolean }, command: Command) => {
      const { client, out } = clientContext(command);
      const partial = flags.partial === true || flags.follow === true;
      const counts = await interruptible(async (signal) =>
        writeResults(await client.messages.batches.results(id, { partial, follow: flags.follow === true }, { signal }), flags.output, { live: partial }),
      );
      if (flags.output === undefined) return;
      const written = { batch_id: id, output: flags.output, results: totalRequests(counts), result_counts: counts };
      out.print(written, (colors) => `wrote ${written.results} results to ${flags.output}: ${formatCounts(counts, colors)}\n`);
    });

  batches
    .command('watch')
    .description('show live progress until the batch has ended')
    .argument('<id>', 'batch id')
    .action(async (id: string, _flags: object, command: Command) => {
      const ctx = clientContext(command);
      await follow(ctx, await ctx.client.messages.batches.retrieve(id));
    });
}
