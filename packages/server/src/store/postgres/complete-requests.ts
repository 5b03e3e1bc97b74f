import type pg from 'pg';
import type { Completion, UsageTotals } from '../store.js';

/**
 * One statement: locks the batches of the requests `$1` holds (`held`, a condition on request `r`
 * such as `r.lease_owner = $1`) in `seq` order (so concurrent completions never deadlock), writes
 * their results, each numbered while its batch is locked (so a batch's completion numbers commit
 * in order), tallies them per batch, adds the tallies to the counts and usage, and ends each
 * batch whose last request this was. `also` narrows which requests a result may end.
 */
export function completionSql(held: string, also = ''): string {
  return `
WITH input AS (
  SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
    AS i(key, kind, result, input_tokens, output_tokens, cache_creation, cache_read)
), locked AS (
  SELECT b.seq FROM batchd.batches b
  WHERE b.seq IN (SELECT r.batch_seq FROM batchd.requests r WHERE r.key = ANY($2::bigint[]) AND r.state = 'running' AND ${held})
  ORDER BY b.seq FOR UPDATE
), done AS (
  UPDATE batchd.requests r
  SET state = 'done', result_type = i.kind, result = i.result, lease_owner = NULL, lease_until = NULL,
    completion_seq = nextval('batchd.completion_seqs')
  FROM input i
  -- The count refers to no request row, so it is checked once, before the scan: every batch is
  -- locked before any number is taken, and the requests are still found by key.
  WHERE r.key = i.key AND r.state = 'running' AND ${held} AND (SELECT count(*) FROM locked) >= 0 ${also}
  RETURNING r.batch_seq, i.kind, i.input_tokens, i.output_tokens, i.cache_creation, i.cache_read
), tally AS (
  SELECT batch_seq,
    count(*)::int AS finished,
    (count(*) FILTER (WHERE kind = 'succeeded'))::int AS succeeded,
    (count(*) FILTER (WHERE kind = 'errored'))::int AS errored,
    (count(*) FILTER (WHERE kind = 'canceled'))::int AS canceled,
    (count(*) FILTER (WHERE kind = 'expired'))::int AS expired,
    sum(input_tokens)::bigint AS input_tokens,
    sum(output_tokens)::bigint AS output_tokens,
    sum(cache_creation)::bigint AS cache_creation,
    sum(cache_read)::bigint AS cache_read
  FROM done GROUP BY batch_seq
)
UPDATE batchd.batches b SET
  processing = b.processing - t.finished,
  succeeded = b.succeeded + t.succeeded,
  errored = b.errored + t.errored,
  canceled = b.canceled + t.canceled,
  expired = b.expired + t.expired,
  input_tokens = b.input_tokens + t.input_tokens,
  output_tokens = b.output_tokens + t.output_tokens,
  cache_creation_input_tokens = b.cache_creation_input_tokens + t.cache_creation,
  cache_read_input_tokens = b.cache_read_input_tokens + t.cache_read,
  status = CASE WHEN b.processing = t.finished AND b.status <> 'ended' THEN 'ended' ELSE b.status END,
  ended_at = CASE WHEN b.processing = t.finished AND b.status <> 'ended' THEN $9 ELSE b.ended_at END
FROM tally t
WHERE b.seq = t.batch_seq`;
}

const COMPLETE_SQL = completionSql('r.lease_owner = $1');

/** The values `$2`..`$8` of {@link completionSql} for these completions. */
export function completionValues(completions: Array<{ key: number; type: string; result: string | null; usage?: UsageTotals }>): unknown[] {
  const usage = (pick: (u: UsageTotals) => number) => completions.map((c) => (c.usage ? pick(c.usage) : 0));
  return [
    completions.map((c) => c.key),
    completions.map((c) => c.type),
    completions.map((c) => c.result),
    usage((u) => u.input_tokens),
    usage((u) => u.output_tokens),
    usage((u) => u.cache_creation_input_tokens),
    usage((u) => u.cache_read_input_tokens),
  ];
}

/**
 * Writes results for the requests still leased by `owner`, in one round trip whatever the group
 * size; results of leases lost in the meantime change nothing.
 */
export async function completeRequests(db: Pick<pg.Pool, 'query'>, owner: string, completions: Completion[], now: number): Promise<void> {
  await db.query({ name: 'batchd-complete', text: COMPLETE_SQL, values: [owner, ...completionValues(completions), now] });
}
