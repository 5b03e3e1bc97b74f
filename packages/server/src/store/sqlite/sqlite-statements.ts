import type { Statement } from 'better-sqlite3';
import { BATCH_COLUMNS } from '../batch-row.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** Batches any API call may see: not being created, not deleted. */
const VISIBLE = `status IN ('in_progress', 'canceling', 'ended')`;

/** The SQL of `SqliteStore`'s statements, by name. */
const STATEMENTS = {
  insertBatch: `INSERT INTO batches (id, workspace_id, status, created_at, expires_at, archive_at, dialect, attributes, endpoint)
    VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?)`,
  insertRequest: `INSERT INTO requests (batch_seq, custom_id, prefix_key, state) VALUES (?, ?, ?, 'queued')`,
  // A request handed to a provider-batch backend at create: running unleased, as routing a queued one leaves it.
  insertRoutedRequest: `INSERT INTO requests (batch_seq, custom_id, prefix_key, state, attempts) VALUES (?, ?, ?, 'running', 1)`,
  routeCreated: `INSERT INTO provider_requests (key, backend, submission_id) SELECT key, ?, NULL FROM requests WHERE batch_seq = ?`,
  openBatch: `UPDATE batches SET status = 'in_progress', processing = ? WHERE seq = ?`,
  endEmptyBatch: `UPDATE batches SET status = 'ended', ended_at = created_at WHERE seq = ?`,
  discardRequests: `DELETE FROM requests WHERE batch_seq = ?`,
  discardBatch: `DELETE FROM batches WHERE seq = ?`,
  getBatch: `SELECT ${BATCH_COLUMNS} FROM batches WHERE workspace_id = ? AND id = ? AND ${VISIBLE}`,
  getBatchBySeq: `SELECT ${BATCH_COLUMNS} FROM batches WHERE seq = ?`,
  listOlder: `SELECT ${BATCH_COLUMNS} FROM batches WHERE workspace_id = ? AND ${VISIBLE} AND dialect = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  listNewer: `SELECT ${BATCH_COLUMNS} FROM batches WHERE workspace_id = ? AND ${VISIBLE} AND dialect = ? AND id > ? ORDER BY id ASC LIMIT ?`,
  cancelingIds: `SELECT id FROM batches INDEXED BY batches_active WHERE status IN ('in_progress', 'canceling') AND status = 'canceling'`,
  markCanceling: `UPDATE batches SET status = 'canceling', cancel_initiated_at = ? WHERE seq = ? AND status = 'in_progress'`,
  markDeleted: `UPDATE batches SET status = 'deleted' WHERE seq = ?`,
  // Each line is framed in SQL and read as bytes: stored results never become JavaScript strings.
  resultsPage: `SELECT key, CAST('{"custom_id":"' || custom_id || '","result":'
      || COALESCE(result, '{"type":"' || result_type || '"}') || '}' || char(10) AS BLOB)
    FROM requests WHERE batch_seq = ? AND key > ? ORDER BY key LIMIT ?`,
  // A request still leased by its owner, and its batch, read before the update by key rather than
  // with RETURNING: RETURNING builds a temporary table on every run (see `lease` in sqlite-leases.ts).
  leasedBatch: `SELECT batch_seq FROM requests WHERE key = ? AND state = 'running' AND lease_owner = ?`,
  complete: `UPDATE requests SET state = 'done', result_type = ?, result = ?, completion_seq = ?, lease_owner = NULL, lease_until = NULL
    WHERE key = ?`,
  retry: `UPDATE requests SET state = 'queued', run_at = ?, lease_owner = NULL, lease_until = NULL WHERE key = ?`,
  applyDelta: `UPDATE batches SET processing = processing - ?, succeeded = succeeded + ?, errored = errored + ?,
    input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
    cache_creation_input_tokens = cache_creation_input_tokens + ?, cache_read_input_tokens = cache_read_input_tokens + ?,
    reasoning_tokens = reasoning_tokens + ?,
    cost_nano_usd = cost_nano_usd + ?, direct_cost_nano_usd = direct_cost_nano_usd + ?,
    priced_requests = priced_requests + ?, unpriced_requests = unpriced_requests + ?
    WHERE seq = ?`,
  endIfDone: `UPDATE batches SET status = 'ended', ended_at = ?
    WHERE seq = ? AND processing = 0 AND status IN ('in_progress', 'canceling')`,
  countSettled: `UPDATE batches SET processing = processing - ?, canceled = canceled + ?, expired = expired + ? WHERE seq = ?`,
  overdue: `SELECT seq FROM batches WHERE status IN ('in_progress', 'canceling') AND expires_at <= ?`,
  archive: `UPDATE batches SET archived_at = ? WHERE status = 'ended' AND archived_at IS NULL AND archive_at <= ?`,
  toPurge: `SELECT seq, id, status FROM batches WHERE purged = 0 AND (status = 'deleted' OR archived_at IS NOT NULL) LIMIT 16`,
  purgeRequests: `DELETE FROM requests WHERE key IN (SELECT key FROM requests WHERE batch_seq = ? LIMIT ?)`,
  markPurged: `UPDATE batches SET purged = 1 WHERE seq = ?`,
};

export type Statements = Record<keyof typeof STATEMENTS, Statement>;

/** The statements of `SqliteStore`, prepared once per database connection. */
export function prepareStatements(db: SqliteDatabase): Statements {
  return Object.fromEntries(Object.entries(STATEMENTS).map(([name, sql]) => [name, db.prepare(sql)])) as Statements;
}
