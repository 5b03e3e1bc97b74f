import type pg from 'pg';
import type { CreateOptions } from '../batch-creates.js';
import { BATCH_COLUMNS, toBatchRecord, type BatchRow } from '../batch-row.js';
import type { BatchRecord, NewBatch, NewRequest } from '../store.js';
import { spoolRequests } from './copy-requests.js';
import { settleCreate } from './postgres-batch-creates.js';
import { inTransaction } from './transaction.js';
import { WORK_CHANNEL } from './work-listener.js';

/** Rolls back a create that repeats an earlier one, carrying the earlier batch out of the transaction. */
class Repeated extends Error {
  constructor(readonly batch: BatchRecord) {
    super('the create repeats an earlier one');
  }
}

/**
 * Spools the requests to a temporary file as they arrive, then inserts the batch, COPYs them
 * and commits: one transaction, begun once the upload is whole, rolled back instead when the
 * create repeats an earlier one. A batch with no requests is stored ended. The batch's `seq` is
 * drawn first, so the spooled rows name it. A batch with `providerBackend` has its requests copied
 * already handed to that backend: they become visible to provider batches as the batch does.
 */
export async function createBatch(pool: pg.Pool, batch: NewBatch, requests: AsyncIterable<NewRequest[]>, options?: CreateOptions): Promise<BatchRecord> {
  const drawn = await pool.query<{ seq: number }>(`SELECT nextval(pg_get_serial_sequence('batchd.batches', 'seq')) AS seq`);
  const seq = drawn.rows[0]!.seq;
  try {
    return await spoolRequests(seq, requests, (spooled) =>
      inTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO batchd.batches (seq, id, workspace_id, status, created_at, expires_at, archive_at, dialect, attributes, endpoint)
           OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7, $8, $9)`,
          [seq, batch.id, batch.workspaceId, batch.createdAt, batch.expiresAt, batch.archiveAt, batch.dialect ?? 'messages', batch.attributes ?? null, batch.endpoint ?? null],
        );
        await spooled.copyInto(client);
        const earlier = options ? await settleCreate(client, batch, options) : null;
        if (earlier) throw new Repeated(toBatchRecord(earlier));
        const { rows } = await client.query<BatchRow>(
          `UPDATE batchd.batches SET processing = $2,
             status = CASE WHEN $2 = 0 THEN 'ended' ELSE status END, ended_at = CASE WHEN $2 = 0 THEN created_at END
           WHERE seq = $1 RETURNING ${BATCH_COLUMNS}`,
          [seq, spooled.count],
        );
        await client.query("SELECT pg_notify($1, '')", [WORK_CHANNEL]);
        return toBatchRecord(rows[0]!);
      }),
      batch.providerBackend,
    );
  } catch (error) {
    if (error instanceof Repeated) return error.batch;
    throw error;
  }
}
