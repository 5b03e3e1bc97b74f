import type pg from 'pg';
import type { CompletionSignal } from '../completed-results.js';
import type { ProviderBatchStore, ProviderCompletion, SubmissionLimits, SubmissionRecord, SubmissionRequest } from '../provider-batch-store.js';
import { MAX_LISTED, SUBMISSION_COLUMNS, submissionTag, toSubmissionRecord, withinBytes, type SubmissionRow } from '../submission-row.js';
import type { Dialect } from '../store.js';
import { completionSql, completionValues } from './complete-requests.js';
import { settleBatches } from './settle-batches.js';
import { inTransaction } from './transaction.js';

/** Routed requests waiting for a provider batch, for backend `$1` (the `requests_routed` index's condition). */
const ROUTED = `r.state = 'running' AND r.provider_backend IS NOT NULL AND r.provider_submission IS NULL AND r.provider_backend = $1`;

/** Routed requests of the batches being canceled or past expiry (only an active batch holds running requests): back to the queue. */
const UNWANTED_SQL = `UPDATE batchd.requests r SET state = 'queued' FROM batchd.batches b
  WHERE b.status IN ('in_progress', 'canceling') AND (b.status = 'canceling' OR b.expires_at <= $2) AND r.batch_seq = b.seq AND ${ROUTED}
  RETURNING r.batch_seq`;
// Round-robin across batches: each batch's first request, then each one's second, and so on.
const PICK_SQL = `WITH locked AS MATERIALIZED (
    SELECT r.key, r.batch_seq, octet_length(r.params) AS bytes FROM batchd.requests r WHERE ${ROUTED} FOR UPDATE SKIP LOCKED)
  SELECT key, batch_seq, bytes FROM (SELECT l.*, row_number() OVER (PARTITION BY l.batch_seq ORDER BY l.key) AS place FROM locked l) ranked
  ORDER BY place, batch_seq LIMIT $2`;
/** How many active batches one routing pass looks at, as a claim does. */
const ROUTE_FAN_OUT = 64;
/**
 * Hands up to about `$4` queued requests of active batches of Messages or of endpoint `$2` to
 * backend `$1`, an equal share of each batch's next runnable ones, unleased; `SKIP LOCKED`, as a claim.
 */
const ROUTE_QUEUED_SQL = `
WITH active AS MATERIALIZED (
  SELECT b.seq FROM batchd.batches b WHERE b.status = 'in_progress' AND b.expires_at > $3 AND (b.endpoint IS NULL OR b.endpoint = $2)
    AND EXISTS (SELECT 1 FROM batchd.requests q WHERE q.batch_seq = b.seq AND q.state = 'queued' AND q.run_at <= $3)
  ORDER BY b.claim_turn, b.seq LIMIT ${ROUTE_FAN_OUT}
), share AS (
  SELECT ceil($4::int::numeric / GREATEST(count(*), 1))::int AS size FROM active
), locked AS (
  SELECT q.key FROM active a CROSS JOIN LATERAL (
    SELECT r.key FROM batchd.requests r WHERE r.batch_seq = a.seq AND r.state = 'queued' AND r.run_at <= $3
    ORDER BY r.run_at, r.prefix_key, r.key LIMIT (SELECT size FROM share) FOR UPDATE SKIP LOCKED
  ) q
)
UPDATE batchd.requests r SET state = 'running', provider_backend = $1, lease_owner = NULL, lease_until = NULL, attempts = r.attempts + 1
FROM locked l WHERE r.key = l.key`;
const RECORD_SQL = `UPDATE batchd.provider_submissions SET provider_batch_id = COALESCE($3, provider_batch_id), state = COALESCE($4, state),
  processing = COALESCE($5, processing), succeeded = COALESCE($6, succeeded), errored = COALESCE($7, errored),
  canceled = COALESCE($8, canceled), expired = COALESCE($9, expired), polled_at = COALESCE($10, polled_at), failure = COALESCE($11, failure)
  WHERE id = $1 AND lease_owner = $2`;
/** Writes results of requests still waiting in submission `$1`: a canceled line only for a batch being canceled. */
const COMPLETE_SQL = completionSql(
  'r.provider_submission = $1',
  `AND (i.kind <> 'canceled' OR EXISTS (SELECT 1 FROM batchd.batches cb WHERE cb.seq = r.batch_seq AND cb.status = 'canceling'))`,
);

/** Provider batches on PostgreSQL (see `provider-batch-store.ts`); picks lock with `SKIP LOCKED`, so nodes never share a request. */
export class PostgresProviderBatches implements ProviderBatchStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly completionSignal: CompletionSignal,
  ) {}

  async routeToProvider(owner: string, routes: Array<{ key: number; backend: string }>): Promise<void> {
    await this.pool.query(
      `UPDATE batchd.requests r SET provider_backend = i.backend, lease_owner = NULL, lease_until = NULL
       FROM unnest($2::bigint[], $3::text[]) AS i(key, backend) WHERE r.key = i.key AND r.state = 'running' AND r.lease_owner = $1`,
      [owner, routes.map((route) => route.key), routes.map((route) => route.backend)],
    );
  }

  async routeQueued(backend: string, endpoint: string, limit: number, now: number): Promise<number> {
    const { rowCount } = await this.pool.query(ROUTE_QUEUED_SQL, [backend, endpoint, now, limit]);
    return rowCount ?? 0;
  }

  async routedCount(backend: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM batchd.requests r WHERE ${ROUTED}`, [backend]);
    return rows[0]!.count;
  }

  async openSubmission(backend: string, owner: string, leaseUntil: number, limits: SubmissionLimits, now: number): Promise<SubmissionRecord | null> {
    return inTransaction(this.pool, async (client) => {
      const unwanted = await client.query<{ batch_seq: number }>(UNWANTED_SQL, [backend, now]);
      await settleBatches(client, [...new Set(unwanted.rows.map((row) => row.batch_seq))], now);
      const { rows } = await client.query<{ key: number; batch_seq: number; bytes: number }>(PICK_SQL, [backend, limits.maxRequests]);
      const picked = withinBytes(rows, limits.maxBytes);
      if (picked.length === 0) return null;
      const inserted = await client.query<SubmissionRow>(
        `INSERT INTO batchd.provider_submissions (backend, tag, request_count, created_at, state, processing, lease_owner, lease_until)
         VALUES ($1, '', $2, $3, 'submitting', $2, $4, $5) RETURNING id`,
        [backend, picked.length, now, owner, leaseUntil],
      );
      const id = inserted.rows[0]!.id;
      await client.query(`UPDATE batchd.requests SET provider_submission = $1 WHERE key = ANY($2::bigint[])`, [id, picked.map((row) => row.key)]);
      await client.query(
        `INSERT INTO batchd.provider_submission_batches (submission_id, batch_seq) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
        [id, [...new Set(picked.map((row) => row.batch_seq))]],
      );
      const tagged = await client.query<SubmissionRow>(`UPDATE batchd.provider_submissions SET tag = $2 WHERE id = $1 RETURNING ${SUBMISSION_COLUMNS}`, [id, submissionTag(id, now)]);
      return toSubmissionRecord(tagged.rows[0]!);
    });
  }

  async submissionRequests(id: number, afterKey: number, limit: number, except?: Dialect): Promise<SubmissionRequest[]> {
    const { rows } = await this.pool.query<SubmissionRequest>(
      `SELECT r.key, r.params, b.dialect FROM batchd.requests r JOIN batchd.batches b ON b.seq = r.batch_seq
       WHERE r.provider_submission = $1 AND r.state = 'running' AND r.key > $2 AND b.dialect IS DISTINCT FROM $4 ORDER BY r.key LIMIT $3`,
      [id, afterKey, limit, except ?? null],
    );
    return rows;
  }

  async takeSubmissions(backend: string, owner: string, leaseUntil: number, now: number): Promise<SubmissionRecord[]> {
    const { rows } = await this.pool.query<SubmissionRow>(
      `UPDATE batchd.provider_submissions SET lease_owner = $2, lease_until = $3
       WHERE id IN (SELECT id FROM batchd.provider_submissions WHERE backend = $1 AND state <> 'closed'
         AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $4) FOR UPDATE SKIP LOCKED)
       RETURNING ${SUBMISSION_COLUMNS}`,
      [backend, owner, leaseUntil, now],
    );
    return rows.map(toSubmissionRecord).sort((a, b) => a.id - b.id);
  }

  async recordSubmission(id: number, owner: string, update: Parameters<ProviderBatchStore['recordSubmission']>[2]): Promise<void> {
    const c = update.counts;
    await this.pool.query(RECORD_SQL, [id, owner, update.providerBatchId ?? null, update.state ?? null, c?.processing ?? null, c?.succeeded ?? null,
      c?.errored ?? null, c?.canceled ?? null, c?.expired ?? null, update.polledAt ?? null, update.failure ?? null]);
  }

  async onlyCanceling(id: number): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM batchd.requests r JOIN batchd.batches b ON b.seq = r.batch_seq
       WHERE r.provider_submission = $1 AND r.state = 'running' AND b.status <> 'canceling' LIMIT 1`,
      [id],
    );
    return rows.length === 0;
  }

  async completeSubmitted(id: number, completions: ProviderCompletion[], now: number): Promise<void> {
    if (completions.length === 0) return;
    await this.pool.query({ name: 'batchd-complete-submitted', text: COMPLETE_SQL, values: [id, ...completionValues(completions), now] });
    this.completionSignal.notify();
  }

  async closeSubmission(id: number, owner: string): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const closed = await client.query(
        `UPDATE batchd.provider_submissions SET state = 'closed', lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`,
        [id, owner],
      );
      if (closed.rowCount === 0) return 0;
      const reopened = await client.query(`UPDATE batchd.requests SET provider_submission = NULL WHERE provider_submission = $1 AND state = 'running'`, [id]);
      return reopened.rowCount ?? 0;
    });
  }

  async batchSubmissions(batchId: string): Promise<SubmissionRecord[]> {
    const { rows } = await this.pool.query<SubmissionRow>(
      `SELECT ${SUBMISSION_COLUMNS} FROM batchd.provider_submissions WHERE id IN (SELECT l.submission_id
         FROM batchd.provider_submission_batches l JOIN batchd.batches b ON b.seq = l.batch_seq WHERE b.id = $1) ORDER BY id LIMIT ${MAX_LISTED}`,
      [batchId],
    );
    return rows.map(toSubmissionRecord);
  }
}
