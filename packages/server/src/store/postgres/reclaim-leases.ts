import type pg from 'pg';
import { MAX_LEASE_LOSSES, QUARANTINED_RESULT } from '../quarantine.js';

/** Locks the requests whose lease lapsed before `$1`, passing by those another transaction holds. */
const LAPSED_SQL = `SELECT key, batch_seq, lease_losses FROM batchd.requests
  WHERE state = 'running' AND lease_until < $1 FOR UPDATE SKIP LOCKED`;

const REQUEUE_SQL = `UPDATE batchd.requests SET state = 'queued', lease_owner = NULL, lease_until = NULL, lease_losses = lease_losses + 1
  WHERE key = ANY($1::bigint[])`;

/** Locks the batches of the requests about to be ended in `seq` order, as completions do. */
const LOCK_BATCHES_SQL = `SELECT seq FROM batchd.batches WHERE seq = ANY($1::bigint[]) ORDER BY seq FOR UPDATE`;

/** Ends the requests `$1` errored, numbered while their batches are locked, and counts them. */
const QUARANTINE_SQL = `
WITH ended AS (
  UPDATE batchd.requests r SET state = 'done', result_type = 'errored', result = CASE WHEN b.dialect = 'messages' THEN $2 END,
    completion_seq = nextval('batchd.completion_seqs'), lease_owner = NULL, lease_until = NULL, lease_losses = r.lease_losses + 1
  FROM batchd.batches b
  WHERE r.key = ANY($1::bigint[]) AND b.seq = r.batch_seq
  RETURNING r.batch_seq
)
UPDATE batchd.batches b SET processing = b.processing - t.n, errored = b.errored + t.n
FROM (SELECT batch_seq, count(*)::int AS n FROM ended GROUP BY batch_seq) t
WHERE b.seq = t.batch_seq`;

/**
 * Inside the transaction of `client`: puts each request whose lease lapsed before `now` back in
 * the queue, or quarantines it on its last allowed loss (see `quarantine.ts`). Returns the batch
 * of each request released; the caller settles them.
 */
export async function reclaimLeases(client: pg.ClientBase, now: number): Promise<number[]> {
  const { rows } = await client.query<{ key: number; batch_seq: number; lease_losses: number }>(LAPSED_SQL, [now]);
  const requeued = rows.filter((row) => row.lease_losses + 1 < MAX_LEASE_LOSSES);
  const quarantined = rows.filter((row) => row.lease_losses + 1 >= MAX_LEASE_LOSSES);
  if (requeued.length > 0) await client.query(REQUEUE_SQL, [requeued.map((row) => row.key)]);
  if (quarantined.length > 0) {
    await client.query(LOCK_BATCHES_SQL, [[...new Set(quarantined.map((row) => row.batch_seq))]]);
    await client.query(QUARANTINE_SQL, [quarantined.map((row) => row.key), QUARANTINED_RESULT]);
  }
  return rows.map((row) => row.batch_seq);
}
