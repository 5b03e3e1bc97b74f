import type pg from 'pg';
import type { Completion } from '../store.js';

/**
 * One statement: locks the batches of the requests `$1` holds (`held`, a condition on request `r`
 * such as `r.lease_owner = $1`) in `seq` order (so concurrent completions never deadlock), writes
 * their results, each numbered while its batch is locked (so a batch's completion numbers commit
 * in order), tallies them per batch, adds the tallies to the counts, usage and cost, and ends each
 * batch whose last request this was. `also` narrows which requests a result may end. `$2`..`$13`
 * are {@link completionValues}, `$14` the time.
 */
export function completionSql(held: string, also = ''): string {
  return `
WITH input AS (
  SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
      $10::bigint[], $11::bigint[], $12::int[], $13::int[])
    AS i(key, kind, result, input_tokens, output_tokens, cache_creation, cache_read, reasoning, cost, direct_cost, priced, unpriced)
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
  RETURNING r.batch_seq, i.kind, i.input_tokens, i.output_tokens, i.cache_creation, i.cache_read, i.reasoning, i.cost, i.direct_cost, i.priced, i.unpriced
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
    sum(cache_read)::bigint AS cache_read,
    sum(reasoning)::bigint AS reasoning,
    sum(cost)::bigint AS cost,
    sum(direct_cost)::bigint AS direct_cost,
    sum(priced)::int AS priced,
    sum(unpriced)::int AS unpriced
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
  reasoning_tokens = b.reasoning_tokens + t.reasoning,
  cost_nano_usd = b.cost_nano_usd + t.cost,
  direct_cost_nano_usd = b.direct_cost_nano_usd + t.direct_cost,
  priced_requests = b.priced_requests + t.priced,
  unpriced_requests = b.unpriced_requests + t.unpriced,
  status = CASE WHEN b.processing = t.finished AND b.status <> 'ended' THEN 'ended' ELSE b.status END,
  ended_at = CASE WHEN b.processing = t.finished AND b.status <> 'ended' THEN $14 ELSE b.ended_at END
FROM tally t
WHERE b.seq = t.batch_seq`;
}

const COMPLETE_SQL = completionSql('r.lease_owner = $1');

type Written = Pick<Completion, 'key' | 'usage' | 'reasoningTokens' | 'cost'> & { type: string; result: string | null };

/** The values `$2`..`$13` of {@link completionSql} for these completions. */
export function completionValues(completions: Written[]): unknown[] {
  const each = (pick: (c: Written) => unknown) => completions.map(pick);
  const priced = (c: Written) => (typeof c.cost === 'object' ? c.cost : undefined);
  return [
    each((c) => c.key),
    each((c) => c.type),
    each((c) => c.result),
    each((c) => c.usage?.input_tokens ?? 0),
    each((c) => c.usage?.output_tokens ?? 0),
    each((c) => c.usage?.cache_creation_input_tokens ?? 0),
    each((c) => c.usage?.cache_read_input_tokens ?? 0),
    each((c) => c.reasoningTokens ?? 0),
    each((c) => priced(c)?.nanoUsd ?? 0),
    each((c) => priced(c)?.directNanoUsd ?? 0),
    each((c) => (priced(c) ? 1 : 0)),
    each((c) => (c.cost === 'unpriced' ? 1 : 0)),
  ];
}

/**
 * Writes results for the requests still leased by `owner`, in one round trip whatever the group
 * size; results of leases lost in the meantime change nothing.
 */
export async function completeRequests(db: Pick<pg.Pool, 'query'>, owner: string, completions: Completion[], now: number): Promise<void> {
  await db.query({ name: 'batchd-complete', text: COMPLETE_SQL, values: [owner, ...completionValues(completions), now] });
}
