import type pg from 'pg';
import type { UpkeepStore } from '../store.js';
import type { CompletionSignal } from '../completed-results.js';
import { purgeCreateRecords } from './postgres-batch-creates.js';
import { reclaimLeases } from './reclaim-leases.js';
import { settleBatches } from './settle-batches.js';
import { inTransaction } from './transaction.js';
import { WORK_CHANNEL } from './work-listener.js';

/** Batches the purge step works through per call. */
const PURGE_FAN_OUT = 16;

/** After requests of the batches `seqs` went back to the queue: settle those batches, and notify if any stayed queued. */
export async function settleRequeued(client: pg.ClientBase, seqs: number[], now: number): Promise<void> {
  if (seqs.length === 0) return;
  await settleBatches(client, [...new Set(seqs)].sort((a, b) => a - b), now);
  await client.query("SELECT pg_notify($1, '')", [WORK_CHANNEL]);
}

/**
 * The maintenance sweeps of the PostgreSQL store. Each locks what it changes, passing by rows
 * another node holds, so every node may run them at once.
 */
export class PostgresUpkeep implements UpkeepStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly completionSignal: CompletionSignal,
  ) {}

  async reclaimExpiredLeases(now: number): Promise<number> {
    const reclaimed = await inTransaction(this.pool, async (client) => {
      const seqs = await reclaimLeases(client, now);
      await settleRequeued(client, seqs, now);
      return seqs.length;
    });
    if (reclaimed > 0) this.completionSignal.notify();
    return reclaimed;
  }

  async expireBatches(now: number): Promise<number> {
    const expired = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ seq: number }>(
        `SELECT seq FROM batchd.batches WHERE status IN ('in_progress', 'canceling') AND expires_at <= $1
         ORDER BY seq FOR UPDATE SKIP LOCKED`,
        [now],
      );
      await settleBatches(client, rows.map((row) => row.seq), now, true);
      return rows.length;
    });
    if (expired > 0) this.completionSignal.notify();
    return expired;
  }

  async archiveBatches(now: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE batchd.batches SET archived_at = $1 WHERE seq IN (
         SELECT seq FROM batchd.batches WHERE status = 'ended' AND archived_at IS NULL AND archive_at <= $1 FOR UPDATE SKIP LOCKED)`,
      [now],
    );
    return rowCount ?? 0;
  }

  /** Deletes up to `limit` request rows of deleted or archived batches, then the deleted batches' rows. */
  async purge(limit: number): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ seq: number; status: string }>(
        `SELECT seq, status FROM batchd.batches WHERE NOT purged AND (status = 'deleted' OR archived_at IS NOT NULL)
         ORDER BY seq LIMIT ${PURGE_FAN_OUT} FOR UPDATE SKIP LOCKED`,
      );
      let removed = 0;
      for (const batch of rows) {
        const wanted = limit - removed;
        if (wanted <= 0) break;
        const { rowCount } = await client.query(
          `DELETE FROM batchd.requests WHERE key IN (SELECT key FROM batchd.requests WHERE batch_seq = $1 LIMIT $2)`,
          [batch.seq, wanted],
        );
        const changes = rowCount ?? 0;
        removed += changes;
        if (changes < wanted) {
          if (batch.status === 'deleted') await client.query('DELETE FROM batchd.batches WHERE seq = $1', [batch.seq]);
          else await client.query('UPDATE batchd.batches SET purged = true WHERE seq = $1', [batch.seq]);
        }
      }
      return removed;
    });
  }

  async purgeCreateRecords(now: number, limit: number): Promise<number> {
    return purgeCreateRecords(this.pool, now, limit);
  }
}
