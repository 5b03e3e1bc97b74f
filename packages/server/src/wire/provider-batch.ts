import type { ProviderBatch } from '@batchd/sdk';
import type { SubmissionRecord } from '../store/provider-batch-store.js';

/** A provider batch as `GET /v1/messages/batches/{id}/provider_batches` answers it. */
export function providerBatchJson(record: SubmissionRecord): ProviderBatch {
  return {
    provider_batch_id: record.providerBatchId,
    backend: record.backend,
    state: record.state,
    request_count: record.requestCount,
    request_counts: record.counts,
    created_at: new Date(record.createdAt).toISOString(),
    polled_at: record.polledAt === null ? null : new Date(record.polledAt).toISOString(),
    failure: record.failure,
  };
}
