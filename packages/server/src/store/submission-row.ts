import type { SubmissionRecord, SubmissionState } from './provider-batch-store.js';

/** The columns of a provider submission row as both stores select them. */
export const SUBMISSION_COLUMNS = `id, backend, tag, request_count, created_at, provider_batch_id, state,
  processing, succeeded, errored, canceled, expired, polled_at, failure`;

export interface SubmissionRow {
  id: number;
  backend: string;
  tag: string;
  request_count: number;
  created_at: number;
  provider_batch_id: string | null;
  state: SubmissionState;
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
  polled_at: number | null;
  failure: string | null;
}

export function toSubmissionRecord(row: SubmissionRow): SubmissionRecord {
  return {
    id: Number(row.id),
    backend: row.backend,
    tag: row.tag,
    requestCount: row.request_count,
    createdAt: Number(row.created_at),
    providerBatchId: row.provider_batch_id,
    state: row.state,
    counts: { processing: row.processing, succeeded: row.succeeded, errored: row.errored, canceled: row.canceled, expired: row.expired },
    polledAt: row.polled_at === null ? null : Number(row.polled_at),
    failure: row.failure,
  };
}

/** Most provider batches listed for one batch (the oldest): a batch split very finely is not listed whole. */
export const MAX_LISTED = 1000;

/** batchd's name for a submission at the provider: unique per store and per intent. */
export function submissionTag(id: number, createdAt: number): string {
  return `batchd-${id}-${createdAt.toString(36)}`;
}

/** Room left for what a line adds around its params (`custom_id`, the provider's envelope). */
export const LINE_OVERHEAD_BYTES = 256;

/** The leading rows whose params, with the line around each, stay within `maxBytes`: at least one. */
export function withinBytes<T extends { bytes: number }>(rows: T[], maxBytes: number): T[] {
  let total = 0;
  let count = 0;
  for (const row of rows) {
    total += row.bytes + LINE_OVERHEAD_BYTES;
    if (total > maxBytes && count > 0) break;
    count++;
  }
  return rows.slice(0, count);
}
