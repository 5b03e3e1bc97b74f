import type pg from 'pg';

/** Locks the given unfinished batches in `seq` order, waiting for other holders. */
const LOCK_SQL = `SELECT seq FROM batchd.batches
  WHERE seq = ANY($1::bigint[]) AND status IN ('in_progress', 'canceling') ORDER BY seq FOR UPDATE`;

/**
 * Ends the queued requests of batches that may no longer send them (canceled when canceling,
 * expired when past `expires_at`), numbering them under the batch locks taken before, moves
 * them out of `processing` in the counts, and ends each batch left with nothing in flight.
 */
const SETTLE_SQL = `
WITH target AS (
  SELECT seq, CASE WHEN status = 'canceling' THEN 'canceled' ELSE 'expired' END AS kind
  FROM batchd.batches
  WHERE seq = ANY($1::bigint[]) AND (status = 'canceling' OR (status = 'in_progress' AND expires_at <= $2))
), settled AS (
  UPDATE batchd.requests r SET state = 'done', result_type = t.kind, completion_seq = nextval('batchd.completion_seqs')
  FROM target t
  WHERE r.batch_seq = t.seq AND r.state = 'queued'
  RETURNING r.batch_seq, t.kind
), tally AS (
  SELECT batch_seq,
    (count(*) FILTER (WHERE kind = 'canceled'))::int AS canceled,
    (count(*) FILTER (WHERE kind = 'expired'))::int AS expired
  FROM settled GROUP BY batch_seq
)
UPDATE batchd.batches b SET
  processing = b.processing - COALESCE(t.canceled + t.expired, 0),
  canceled = b.canceled + COALESCE(t.canceled, 0),
  expired = b.expired + COALESCE(t.expired, 0),
  status = CASE WHEN b.processing = COALESCE(t.canceled + t.expired, 0) THEN 'ended' ELSE b.status END,
  ended_at = CASE WHEN b.processing = COALESCE(t.canceled + t.expired, 0) THEN $2 ELSE b.ended_at END
FROM unnest($1::bigint[]) AS s(seq) LEFT JOIN tally t ON t.batch_seq = s.seq
WHERE b.seq = s.seq AND b.status IN ('in_progress', 'canceling') AND (t.batch_seq IS NOT NULL OR b.processing = 0)`;

/**
 * Settles the batches `seqs` inside the transaction of `client`. The batch rows are locked
 * first, unless `locked` says the caller already holds them; the settle statement then runs with
 * a snapshot taken after the locks, so it sees every request another transaction requeued
 * under the same lock before it.
 */
export async function settleBatches(client: pg.ClientBase, seqs: number[], now: number, locked = false): Promise<void> {
  if (seqs.length === 0) return;
  if (!locked) await client.query({ name: 'batchd-lock-batches', text: LOCK_SQL, values: [seqs] });
  await client.query({ name: 'batchd-settle', text: SETTLE_SQL, values: [seqs, now] });
}
