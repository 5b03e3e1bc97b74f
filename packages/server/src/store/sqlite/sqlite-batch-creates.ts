import type { Statement } from 'better-sqlite3';
import { IDEMPOTENCY_KEY_TTL_MS, IdempotencyKeyReused, purgeBefore, RETRY_WINDOW_MS, type CreateOptions, type EarlierCreate } from '../batch-creates.js';
import type { NewBatch } from '../store.js';
import type { SqliteDatabase } from './sqlite-database.js';

const VISIBLE_BATCH = `EXISTS (SELECT 1 FROM batches b WHERE b.id = c.batch_id AND b.status IN ('in_progress', 'canceling', 'ended'))`;

/** The `batch_creates` records of the SQLite store: what lets a repeated create return the first batch. */
export class SqliteBatchCreates {
  private readonly sql: Record<'byKey' | 'dropKey' | 'byDigest' | 'insert' | 'purge', Statement>;

  constructor(db: SqliteDatabase) {
    this.sql = {
      byKey: db.prepare(`SELECT batch_id AS batchId, body_digest AS bodyDigest FROM batch_creates c
        WHERE workspace_id = ? AND idempotency_key = ? AND created_at > ? AND ${VISIBLE_BATCH}`),
      dropKey: db.prepare(`DELETE FROM batch_creates WHERE workspace_id = ? AND idempotency_key = ?`),
      byDigest: db.prepare(`SELECT batch_id AS batchId, body_digest AS bodyDigest FROM batch_creates c
        WHERE workspace_id = ? AND caller = ? AND body_digest = ? AND created_at BETWEEN ? AND ? AND ${VISIBLE_BATCH}
        ORDER BY created_at DESC LIMIT 1`),
      insert: db.prepare(`INSERT INTO batch_creates (batch_id, workspace_id, caller, body_digest, idempotency_key, created_at)
        VALUES (?, ?, ?, ?, ?, ?)`),
      purge: db.prepare(`DELETE FROM batch_creates WHERE batch_id IN (SELECT batch_id FROM batch_creates
        WHERE created_at < ? OR (idempotency_key IS NULL AND created_at < ?) LIMIT ?)`),
    };
  }

  /**
   * Decides, inside the create's transaction, what the create of `batch` answers: the id of the
   * earlier batch it repeats, or null after recording it as a new batch. Throws when its key was
   * used with another body, or when `refuseNew` refuses the new batch.
   */
  settle(batch: NewBatch, options: CreateOptions): string | null {
    const digest = options.bodyDigest();
    const key = options.idempotencyKey ?? null;
    if (key !== null) {
      const earlier = this.sql.byKey.get(batch.workspaceId, key, batch.createdAt - IDEMPOTENCY_KEY_TTL_MS) as EarlierCreate | undefined;
      if (earlier) {
        if (earlier.bodyDigest !== digest) throw new IdempotencyKeyReused(key, earlier.batchId);
        return earlier.batchId;
      }
      // A record that no longer matches (too old, or its batch deleted) gives up its key.
      this.sql.dropKey.run(batch.workspaceId, key);
    } else if (options.retried) {
      const earlier = this.sql.byDigest.get(
        batch.workspaceId,
        options.caller,
        digest,
        batch.createdAt - RETRY_WINDOW_MS,
        batch.createdAt,
      ) as EarlierCreate | undefined;
      if (earlier) return earlier.batchId;
    }
    const refusal = options.refuseNew?.();
    if (refusal) throw refusal;
    this.sql.insert.run(batch.id, batch.workspaceId, options.caller, digest, key, batch.createdAt);
    return null;
  }

  /** Deletes up to `limit` records too old to match any create at `now`. */
  purge(now: number, limit: number): number {
    const before = purgeBefore(now);
    return this.sql.purge.run(before.keyed, before.unkeyed, limit).changes;
  }
}
