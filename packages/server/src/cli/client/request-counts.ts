import type { MessageBatchRequestCounts, MessageBatchResult } from '@batchd/sdk';

/** Request counts with every state at zero. */
export function emptyCounts(): MessageBatchRequestCounts {
  return { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
}

/** The counts of several batches added up. */
export function sumCounts(list: Iterable<MessageBatchRequestCounts>): MessageBatchRequestCounts {
  const sum = emptyCounts();
  for (const counts of list) {
    sum.processing += counts.processing;
    sum.succeeded += counts.succeeded;
    sum.errored += counts.errored;
    sum.canceled += counts.canceled;
    sum.expired += counts.expired;
  }
  return sum;
}

/** Adds one result to `counts`. */
export function countResult(counts: MessageBatchRequestCounts, result: MessageBatchResult): void {
  counts[result.type] += 1;
}

/** The number of requests the counts describe. */
export function totalRequests(counts: MessageBatchRequestCounts): number {
  return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired;
}

/**
 * Why ended batches did not fully succeed, e.g. `2 of 10 requests did not succeed: 1 errored, 1 expired`,
 * or null when every request succeeded.
 */
export function failureSummary(counts: MessageBatchRequestCounts): string | null {
  const failed = counts.errored + counts.canceled + counts.expired;
  if (failed === 0) return null;
  const parts = (['errored', 'canceled', 'expired'] as const).filter((state) => counts[state] > 0).map((state) => `${counts[state]} ${state}`);
  return `${failed} of ${totalRequests(counts)} requests did not succeed: ${parts.join(', ')}`;
}
