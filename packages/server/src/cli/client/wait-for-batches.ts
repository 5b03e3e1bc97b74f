import type { Batches, MessageBatch, MessageBatchRequestCounts } from '@batchd/sdk';
import { sumCounts } from './request-counts.js';

export interface WaitForBatchesOptions {
  /** Called after every poll with the counts of all the batches added up. */
  onProgress?: (counts: MessageBatchRequestCounts) => void;
  signal?: AbortSignal;
}

/** Polls the batches side by side until every one has ended; resolves with them as they ended. */
export async function waitForBatches(resource: Batches, batches: MessageBatch[], options: WaitForBatchesOptions = {}): Promise<MessageBatch[]> {
  const latest = new Map(batches.map((batch) => [batch.id, batch.request_counts]));
  const report = () => options.onProgress?.(sumCounts(latest.values()));
  report();
  return Promise.all(
    batches.map((batch) =>
      resource.wait(batch.id, {
        pollInterval: 500,
        maxPollInterval: 1000,
        signal: options.signal,
        onProgress: (polled) => {
          latest.set(polled.id, polled.request_counts);
          report();
        },
      }),
    ),
  );
}
