import type pg from 'pg';
import { IDEMPOTENCY_KEY_TTL_MS, IdempotencyKeyReused, purgeBefore, RETRY_WINDOW_MS, type CreateOptions, type EarlierCreate } from '../batch-creates.js';
import { BATCH_COLUMNS, type BatchRow } from '../batch-row.js';
import type { NewBatch } from '../store.js';

const VISIBLE_BATCH = `EXISTS (SELECT 1 FROM batchd.batches b WHERE b.id = c.batch_id AND b.status IN ('in_progress', 'canceling', 'ended'))`;
/** Rounds of the key check, for when racing creates change the key's record between two of its statements. */
const KEY_ROUNDS = 3;

async function visibleBatch(client: pg.ClientBase, id: string): Promise<BatchRow | null> {
  const { rows } = await client.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE id = $1 AND status IN ('in_progress', 'canceling', 'ended')`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * Takes the key for `batch`, or finds the earlier create holding it. The unique index on
 * (workspace, key) is the guard: a create holding the key in an uncommitted transaction makes
 * this one wait until it commits or rolls back. A record too old to match, or whose batch was
 * deleted, is taken over. Each statement reads what was committed when it began, so what a
 * racing create committed is read by the statement after the one that waited for it.
 */
async function settleKey(client: pg.ClientBase, batch: NewBatch, options: CreateOptions, key: string, digest: string): Promise<BatchRow | null> {
  const record = [batch.id, batch.workspaceId, options.caller, digest, key, batch.createdAt];
  for (let round = 0; round < KEY_ROUNDS; round++) {
    const inserted = await client.query(
      `INSERT INTO batchd.batch_creates (batch_id, workspace_id, caller, body_digest, idempotency_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
      record,
    );
    if (inserted.rowCount) return null;
    const { rows } = await client.query<EarlierCreate & { createdAt: number }>(
      `SELECT batch_id AS "batchId", body_digest AS "bodyDigest", created_at AS "createdAt" FROM batchd.batch_creates
       WHERE workspace_id = $1 AND idempotency_key = $2`,
      [batch.workspaceId, key],
    );
    const earlier = rows[0];
    if (!earlier) continue;
    const earlierBatch = earlier.createdAt > batch.createdAt - IDEMPOTENCY_KEY_TTL_MS ? await visibleBatch(client, earlier.batchId) : null;
    if (earlierBatch) {
      if (earlier.bodyDigest !== digest) throw new IdempotencyKeyReused(key, earlier.batchId);
      return earlierBatch;
    }
    const takenOver = await client.query(
      `UPDATE batchd.batch_creates SET batch_id = $1, caller = $3, body_digest = $4, created_at = $6
       WHERE workspace_id = $2 AND idempotency_key = $5 AND batch_id = $7`,
      [...record, earlier.batchId],
    );
    if (takenOver.rowCount) return null;
  }
  throw new Error(`Idempotency-Key ${JSON.stringify(key)} kept changing hands; try the create again.`);
}

/**
 * Decides, inside the create's transaction, what the create of `batch` answers: the earlier
 * batch it repeats, or null after recording it as a new batch. Throws when its key was used
 * with another body, or when `refuseNew` refuses the new batch.
 */
export async function settleCreate(client: pg.ClientBase, batch: NewBatch, options: CreateOptions): Promise<BatchRow | null> {
  const digest = options.bodyDigest();
  const key = options.idempotencyKey;
  if (key !== undefined) {
    const earlier = await settleKey(client, batch, options, key, digest);
    if (earlier) return earlier;
  } else {
    if (options.retried) {
      const { rows } = await client.query<{ batch_id: string }>(
        `SELECT batch_id FROM batchd.batch_creates c
         WHERE workspace_id = $1 AND caller = $2 AND body_digest = $3 AND created_at BETWEEN $4 AND $5 AND ${VISIBLE_BATCH}
         ORDER BY created_at DESC LIMIT 1`,
        [batch.workspaceId, options.caller, digest, batch.createdAt - RETRY_WINDOW_MS, batch.createdAt],
      );
      const earlier = rows[0] && (await visibleBatch(client, rows[0].batch_id));
      if (earlier) return earlier;
    }
    await client.query(
      `INSERT INTO batchd.batch_creates (batch_id, workspace_id, caller, body_digest, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [batch.id, batch.workspaceId, options.caller, digest, batch.createdAt],
    );
  }
  const refusal = options.refuseNew?.();
  if (refusal) throw refusal;
  return null;
}

/** Deletes up to `limit` records too old to match any create at `now`. */
export async function purgeCreateRecords(pool: pg.Pool, now: number, limit: number): Promise<number> {
  const before = purgeBefore(now);
  const { rowCount } = await pool.query(
    `DELETE FROM batchd.batch_creates WHERE batch_id IN (SELECT batch_id FROM batchd.batch_creates
       WHERE created_at < $1 OR (idempotency_key IS NULL AND created_at < $2) LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [before.keyed, before.unkeyed, limit],
  );
  return rowCount ?? 0;
}
