import { BatchdClient, SubmitError, type MessageBatch } from '@batchd/sdk';
import { CliError } from '../cli-error.js';
import { EXIT_CODES } from '../exit-codes.js';
import { CommandOutput } from './command-output.js';
import { formatCounts } from './format-batch.js';
import { ProgressDisplay } from './progress-display.js';
import { readRequests } from './read-requests.js';
import { failureSummary, totalRequests } from './request-counts.js';
import { waitForBatches } from './wait-for-batches.js';
import { writeResults } from './write-results.js';

/** A `batchd run` job: the file to submit to the embedded server, and where its results go. */
export interface Job {
  /** The embedded server. */
  url: string;
  db: string;
  file: string;
  output: string;
  json: boolean;
}

/**
 * The client side of `batchd run`: submits the file to the embedded server in as many batches
 * as it needs, shows progress, writes every result to the output file and prints a summary.
 */
export async function runJob({ url, db, file, output, json }: Job, signal: AbortSignal): Promise<void> {
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
