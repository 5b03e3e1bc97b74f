import type pg from 'pg';
import { SUSPECT_LEASE_LOSSES } from '../quarantine.js';
import { CLAIM_PARAMS_BYTES, type ClaimedRequest, type Dialect } from '../store.js';

/** How many active batches one claim looks at, taking the longest-unserved first. */
const CLAIM_FAN_OUT = 64;
/** Claim passes per call: later passes hand the share of batches that ran dry to the others. */
const MAX_PASSES = 4;

/** Leases the rows of CTE `from` (as `alias`, with their batch's fields and params' size) to `$1` until `$2`, returning them as claimed. */
const leaseFrom = (from: string, alias: string) => `UPDATE batchd.requests r
  SET state = 'running', lease_owner = $1, lease_until = $2, attempts = r.attempts + 1
  FROM ${from} ${alias}
  WHERE r.key = ${alias}.key
  RETURNING r.key, r.custom_id, r.params, r.attempts, r.prefix_key, ${alias}.id AS batch_id, ${alias}.expires_at, ${alias}.dialect, ${alias}.endpoint, ${alias}.bytes`;

/**
 * One claim pass, one statement. It takes the active batches with runnable requests in
 * `claim_turn` order (least recently served first), locks up to an equal share of each one's
 * runnable requests (those sharing a prefix key together) with `FOR UPDATE SKIP LOCKED` (so concurrent claimers on other nodes pass
 * each other by), keeps the first `$4` going round-robin across batches while the params before
 * each stay under `$5` bytes (so the first always; `octet_length` reads a TOASTed value's size
 * without the value), leases them to `$1`, and moves the batches served to the back of the turn order. The turn update skips batch rows
 * locked by another transaction rather than wait: a claim never blocks. First, and apart from those,
 * it leases up to `$6` suspects (quarantine.ts) of active batches, longest waiting first, read
 * through `requests_suspects`.
 */
const CLAIM_SQL = `
WITH suspects AS (
  SELECT r.key, b.id, b.expires_at, b.dialect, b.endpoint, octet_length(r.params) AS bytes
  FROM batchd.requests r JOIN batchd.batches b ON b.seq = r.batch_seq
  WHERE r.state = 'queued' AND r.lease_losses >= ${SUSPECT_LEASE_LOSSES} AND r.run_at <= $3 AND b.status = 'in_progress' AND b.expires_at > $3
  ORDER BY r.run_at, r.key
  LIMIT $6::int
  FOR UPDATE OF r SKIP LOCKED
), suspects_claimed AS (
  ${leaseFrom('suspects', 's')}
), active AS MATERIALIZED (
  SELECT b.seq, b.id, b.expires_at, b.claim_turn, b.dialect, b.endpoint FROM batchd.batches b
  WHERE b.status = 'in_progress' AND b.expires_at > $3
    AND EXISTS (SELECT 1 FROM batchd.requests q WHERE q.batch_seq = b.seq AND q.state = 'queued' AND q.run_at <= $3)
  ORDER BY b.claim_turn, b.seq
  LIMIT LEAST($4::int, ${CLAIM_FAN_OUT})
), share AS (
  SELECT ceil($4::int::numeric / GREATEST(count(*), 1))::int AS size FROM active
), locked AS (
  SELECT a.seq, a.id, a.expires_at, a.claim_turn, a.dialect, a.endpoint, q.key, q.run_at, q.prefix_key, q.bytes
  FROM active a CROSS JOIN LATERAL (
    SELECT r.key, r.run_at, r.prefix_key, octet_length(r.params) AS bytes FROM batchd.requests r
    WHERE r.batch_seq = a.seq AND r.state = 'queued' AND r.run_at <= $3 AND r.lease_losses < ${SUSPECT_LEASE_LOSSES}
    ORDER BY r.run_at, r.prefix_key, r.key
    LIMIT (SELECT size FROM share)
    FOR UPDATE SKIP LOCKED
  ) q
), picked AS (
  SELECT taken.seq, taken.id, taken.expires_at, taken.dialect, taken.endpoint, taken.key, taken.bytes FROM (
    SELECT ranked.*, sum(ranked.bytes) OVER (ORDER BY ranked.place, ranked.claim_turn, ranked.seq ROWS UNBOUNDED PRECEDING) AS total
    FROM (
      SELECT l.*, row_number() OVER (PARTITION BY l.seq ORDER BY l.run_at, l.prefix_key, l.key) AS place FROM locked l
    ) ranked
    ORDER BY ranked.place, ranked.claim_turn, ranked.seq
    LIMIT ($4::int - (SELECT count(*)::int FROM suspects))
  ) taken
  WHERE taken.total - taken.bytes < $5::bigint
), claimed AS (
  ${leaseFrom('picked', 'p')}
), turned AS (
  UPDATE batchd.batches b SET claim_turn = nextval('batchd.claim_turns')
  WHERE b.seq IN (
    SELECT t.seq FROM batchd.batches t WHERE t.seq IN (SELECT seq FROM picked) ORDER BY t.seq FOR UPDATE SKIP LOCKED
  )
)
SELECT key, custom_id, params, attempts, prefix_key, batch_id, expires_at, dialect, endpoint, bytes::int, true AS suspect FROM suspects_claimed
UNION ALL
SELECT key, custom_id, params, attempts, prefix_key, batch_id, expires_at, dialect, endpoint, bytes::int, false AS suspect FROM claimed ORDER BY key`;

interface ClaimRow {
  key: number;
  custom_id: string;
  params: string;
  attempts: number;
  prefix_key: string | null;
  batch_id: string;
  expires_at: number;
  dialect: Dialect;
  endpoint: string | null;
  bytes: number;
  suspect: boolean;
}

function claimedRequest(row: ClaimRow): ClaimedRequest {
  return {
    key: row.key,
    batchId: row.batch_id,
    customId: row.custom_id,
    params: row.params,
    dialect: row.dialect,
    endpoint: row.endpoint,
    attempt: row.attempts,
    expiresAt: row.expires_at,
    prefixKey: row.prefix_key ?? undefined,
    ...(row.suspect ? { suspect: true as const } : {}),
  };
}

/**
 * Leases up to `suspects` suspects (quarantine.ts), and up to `limit` runnable requests in all
 * to `owner`, spread round-robin across active batches, until their params pass `paramsBytes`.
 * Each pass commits on its own. When a pass claims something but less than asked (some batch
 * had fewer runnable requests than its share), another pass offers the rest to the others.
 */
export async function claimRequests(
  db: Pick<pg.Pool, 'query'>,
  owner: string,
  limit: number,
  leaseUntil: number,
  now: number,
  paramsBytes = CLAIM_PARAMS_BYTES,
  suspects = 1,
): Promise<ClaimedRequest[]> {
  const claimed: ClaimedRequest[] = [];
  let bytesLeft = paramsBytes;
  for (let pass = 0; pass < MAX_PASSES && claimed.length < limit && bytesLeft > 0; pass++) {
    const { rows } = await db.query<ClaimRow>({
      name: 'batchd-claim',
      text: CLAIM_SQL,
      // Suspects in the first pass only.
      values: [owner, leaseUntil, now, limit - claimed.length, bytesLeft, pass === 0 ? Math.min(suspects, limit) : 0],
    });
    for (const row of rows) {
      bytesLeft -= row.bytes;
      claimed.push(claimedRequest(row));
    }
    if (rows.length === 0) break;
  }
  return claimed;
}
