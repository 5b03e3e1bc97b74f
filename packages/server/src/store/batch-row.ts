import type { BatchRecord, Dialect } from './store.js';

/** The `batches` columns the store selects, in the shape {@link toBatchRecord} reads. */
export const BATCH_COLUMNS = `seq, id, workspace_id, status, processing, succeeded, errored, canceled, expired,
  input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, reasoning_tokens,
  cost_nano_usd, direct_cost_nano_usd, priced_requests, unpriced_requests,
  created_at, expires_at, archive_at, ended_at, cancel_initiated_at, archived_at, dialect, attributes`;

/** A `batches` row as both stores select it (PostgreSQL's `bigint` columns already read as numbers). */
export interface BatchRow {
  seq: number;
  id: string;
  workspace_id: string;
  /** `creating` exists only in SQLite, for a create still streaming in; it is never selected as visible. */
  status: 'creating' | 'in_progress' | 'canceling' | 'ended' | 'deleted';
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  reasoning_tokens: number;
  cost_nano_usd: number;
  direct_cost_nano_usd: number;
  priced_requests: number;
  unpriced_requests: number;
  created_at: number;
  expires_at: number;
  archive_at: number;
  ended_at: number | null;
  cancel_initiated_at: number | null;
  archived_at: number | null;
  dialect: Dialect;
  attributes: string | null;
}

/**
 * The contract's view of a row. Deleted and creating batches are never selected as visible;
 * they map to the nearest visible status.
 */
export function toBatchRecord(row: BatchRow): BatchRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    status: row.status === 'deleted' ? 'ended' : row.status === 'creating' ? 'in_progress' : row.status,
    counts: {
      processing: row.processing,
      succeeded: row.succeeded,
      errored: row.errored,
      canceled: row.canceled,
      expired: row.expired,
    },
    usage: {
      input_tokens: row.input_tokens,
      output_tokens: row.output_tokens,
      cache_creation_input_tokens: row.cache_creation_input_tokens,
      cache_read_input_tokens: row.cache_read_input_tokens,
    },
    reasoningTokens: row.reasoning_tokens,
    cost: {
      nanoUsd: row.cost_nano_usd,
      directNanoUsd: row.direct_cost_nano_usd,
      pricedRequests: row.priced_requests,
      unpricedRequests: row.unpriced_requests,
    },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    archiveAt: row.archive_at,
    endedAt: row.ended_at,
    cancelInitiatedAt: row.cancel_initiated_at,
    archivedAt: row.archived_at,
    dialect: row.dialect,
    attributes: row.attributes,
  };
}

/**
 * A batch as a cancel answers it: `canceling`, as the API always answers a cancel it accepts,
 * even when no request was in flight and the batch ended with the cancel (the counts already
 * show its requests canceled; the next read shows it ended, with its `ended_at`).
 */
export function asCanceling(batch: BatchRecord): BatchRecord {
  return batch.status === 'ended' ? { ...batch, status: 'canceling', endedAt: null } : batch;
}
