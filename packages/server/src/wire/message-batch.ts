import type { MessageBatch } from '@batchd/sdk';
import { formatTimestamp } from '../clock.js';
import type { BatchRecord } from '../store/store.js';

const iso = (ms: number | null) => (ms === null ? null : formatTimestamp(ms));

/** The path that serves a batch's results; `results_url` is this path on the public URL. */
export const resultsPath = (id: string) => `/v1/messages/batches/${id}/results`;

/** A stored batch as the API shows it, every key present. */
export function toMessageBatch(batch: BatchRecord, publicUrl: string): MessageBatch {
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: batch.status,
    request_counts: batch.counts,
    ended_at: iso(batch.endedAt),
    created_at: formatTimestamp(batch.createdAt),
    expires_at: formatTimestamp(batch.expiresAt),
    archived_at: iso(batch.archivedAt),
    cancel_initiated_at: iso(batch.cancelInitiatedAt),
    results_url: batch.status === 'ended' ? `${publicUrl}${resultsPath(batch.id)}` : null,
  };
}
