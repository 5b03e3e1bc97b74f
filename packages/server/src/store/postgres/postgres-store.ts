import pg from 'pg';
import { resultLine } from '../result-line.js';
import type {
  BatchRecord,
  BatchStore,
  CancelOutcome,
  ClaimedRequest,
  Completion,
  DeleteOutcome,
  ListPage,
  ListQuery,
  NewBatch,
  NewRequest,
  Retry,
} from '../store.js';
import type { CreateOptions } from '../batch-creates.js';
import { purgeCreateRecords } from './postgres-batch-creates.js';
import { CompletionSignal, type CompletedPage } from '../completed-results.js';
import { claimRequests } from './claim-requests.js';
import { completeRequests } from './complete-requests.js';
import { createBatch } from './postgres-create-batch.js';
import { applyMigrations } from './migrations.js';
import { readCompletedResults } from './postgres-completed-results.js';
import { PostgresFiles } from './postgres-files.js';
import { PostgresApiKeys } from './postgres-api-keys.js';
import { BATCH_COLUMNS, toBatchRecord, type BatchRow } from '../batch-row.js';
import { PostgresWebhookStore } from './postgres-webhooks.js';
import { settleBatches } from './settle-batches.js';
import { reclaimLeases } from './reclaim-leases.js';
import { WORK_CHANNEL, WorkListener } from './work-listener.js';
import { inTransaction } from './transaction.js';

export interface PostgresStoreOptions {
  /** Pooled connections for queries and creates (the work listener has its own). Default 10. */
  poolSize?: number;
  /** Longest a query waits for a pooled connection before failing with a {@link isStoreBusy} error. Default 10 s. */
  poolWaitMs?: number;
  /**
   * Errors of idle pooled connections and of the work listener connection; the pool and the
   * listener replace the connection themselves. Ignored by default.
   */
  onError?: (error: Error) => void;
}

const VISIBLE = `status IN ('in_progress', 'canceling', 'ended')`;
const INT8_OID = 20;
/** Connections of the pool file content is read through. */
const FILE_READERS = 4;
/** Longest a query waits for a pooled connection by default; then the caller is told the store is busy. */
const POOL_WAIT_MS = 10_000;
/** Batches the purge step works through per call. */
const PURGE_FAN_OUT = 16;

/** `bigint` columns (keys, times, token totals) read as JS numbers; all stay below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)),
};

/**
 * The store on PostgreSQL, shared by any number of processes on any number of machines:
 * claims lock rows with `FOR UPDATE SKIP LOCKED`, every write by the engine is guarded by the
 * lease owner, and maintenance steps lock what they change, so all nodes may run them at once.
 */
export class PostgresStore implements BatchStore {
  readonly files: PostgresFiles;
  readonly apiKeys: PostgresApiKeys;
  private readonly listener: WorkListener;
  readonly webhooks: PostgresWebhookStore;
  private readonly completionSignal = new CompletionSignal();

  private constructor(
    private readonly pool: pg.Pool,
    config: pg.PoolConfig,
    onError: (error: Error) => void,
  ) {
    this.listener = new WorkListener(config, onError);
    this.webhooks = new PostgresWebhookStore(pool);
    this.apiKeys = new PostgresApiKeys(pool);
    const readers = new pg.Pool({ ...config, max: FILE_READERS });
    readers.on('error', onError);
    this.files = new PostgresFiles(pool, readers, (work) => this.transaction(work));
  }

  /** Connects to `url` and applies pending migrations (under the migration lock) before returning. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const onError = options.onError ?? (() => undefined);
    const config: pg.PoolConfig = { connectionString: url, types: TYPES, application_name: 'batchd', connectionTimeoutMillis: options.poolWaitMs ?? POOL_WAIT_MS };
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    pool.on('error', onError);
    try {
      const client = await pool.connect();
      try {
        await applyMigrations(client);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, config, onError);
  }

  /** Runs `work` in one transaction (see {@link inTransaction}). */
  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /** Stores the batch and its requests (see {@link createBatch}). */
  async createBatch(batch: NewBatch, requests: AsyncIterable<NewRequest[]>, options?: CreateOptions): Promise<BatchRecord> {
    return createBatch(this.pool, batch, requests, options);
  }

  async getBatch(workspaceId: string, id: string): Promise<BatchRecord | null> {
    const { rows } = await this.pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE workspace_id = $1 AND id = $2 AND ${VISIBLE}`,
      [workspaceId, id],
    );
    return rows[0] ? toBatchRecord(rows[0]) : null;
  }

  async listBatches(workspaceId: string, page: ListQuery): Promise<ListPage> {
    const newer = page.beforeId !== undefined;
    const base = `SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE workspace_id = $1 AND dialect = $2 AND ${VISIBLE}`;
    const scope = [workspaceId, page.dialect ?? 'messages'];
    const { rows } = newer
      ? await this.pool.query<BatchRow>(`${base} AND id > $3 ORDER BY id ASC LIMIT $4`, [...scope, page.beforeId, page.limit + 1])
      : page.afterId !== undefined
        ? await this.pool.query<BatchRow>(`${base} AND id < $3 ORDER BY id DESC LIMIT $4`, [...scope, page.afterId, page.limit + 1])
        : await this.pool.query<BatchRow>(`${base} ORDER BY id DESC LIMIT $3`, [...scope, page.limit + 1]);
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    if (newer) kept.reverse();
    return { batches: kept.map(toBatchRecord), hasMore };
  }

  /** Marks the batch canceling and cancels its queued requests, under the batch row's lock. */
  async cancelBatch(workspaceId: string, id: string, now: number): Promise<CancelOutcome> {
    const outcome = await this.transaction(async (client): Promise<CancelOutcome> => {
      const found = await client.query<BatchRow>(
        `SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE workspace_id = $1 AND id = $2 AND ${VISIBLE} FOR UPDATE`,
        [workspaceId, id],
      );
      const row = found.rows[0];
      if (!row) return { kind: 'not_found' };
      if (row.status === 'ended') return { kind: 'ended', batch: toBatchRecord(row) };
      await client.query(
        `UPDATE batchd.batches SET status = 'canceling', cancel_initiated_at = $2 WHERE seq = $1 AND status = 'in_progress'`,
        [row.seq, now],
      );
      await settleBatches(client, [row.seq], now, true);
      const { rows } = await client.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE seq = $1`, [row.seq]);
      return { kind: 'ok', batch: toBatchRecord(rows[0]!) };
    });
    if (outcome.kind === 'ok') this.completionSignal.notify();
    return outcome;
  }

  async deleteBatch(workspaceId: string, id: string): Promise<DeleteOutcome> {
    const deleted = await this.pool.query(
      `UPDATE batchd.batches SET status = 'deleted' WHERE workspace_id = $1 AND id = $2 AND status = 'ended'`,
      [workspaceId, id],
    );
    if (deleted.rowCount) return 'deleted';
    return (await this.getBatch(workspaceId, id)) ? 'not_ended' : 'not_found';
  }

  /** Keyset pages over the batch's requests in key order: one bounded query per page. */
  async *readResults(batchId: string, pageSize: number): AsyncIterable<Buffer> {
    const found = await this.pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
    const seq = found.rows[0]?.seq;
    if (seq === undefined) return;
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ key: number; custom_id: string; result_type: string | null; result: string | null }>({
        name: 'batchd-results-page',
        text: `SELECT key, custom_id, result_type, result FROM batchd.requests
          WHERE batch_seq = $1 AND key > $2 ORDER BY key LIMIT $3`,
        values: [seq, after, pageSize],
      });
      if (rows.length === 0) return;
      let text = '';
      for (const row of rows) text += resultLine(row.custom_id, row.result_type, row.result);
      after = rows[rows.length - 1]!.key;
      yield Buffer.from(text);
      if (rows.length < pageSize) return;
    }
  }

  readCompletedResults(batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage> {
    return readCompletedResults(this.pool, batchId, afterSeq, pageSize);
  }

  subscribeCompletions(listener: () => void): () => void {
    return this.completionSignal.subscribe(listener);
  }

  async claimRequests(owner: string, limit: number, leaseUntil: number, now: number, clusterLimit?: number, paramsBytes?: number): Promise<ClaimedRequest[]> {
    if (clusterLimit === undefined) return claimRequests(this.pool, owner, limit, leaseUntil, now, paramsBytes);
    // Claims that count the cluster's leases take turns, so two nodes never both see room for the same slot.
    return this.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('batchd-cluster-claim'))`);
      const { rows } = await client.query<{ leased: number }>({
        name: 'batchd-count-leased',
        text: `SELECT count(*)::int AS leased FROM batchd.requests WHERE state = 'running' AND lease_until >= $1`,
        values: [now],
      });
      const room = Math.min(limit, clusterLimit - rows[0]!.leased);
      return room > 0 ? claimRequests(client, owner, room, leaseUntil, now, paramsBytes) : [];
    });
  }

  async renewLeases(owner: string, keys: number[], leaseUntil: number): Promise<void> {
    if (keys.length === 0) return;
    await this.pool.query({
      name: 'batchd-renew',
      text: `UPDATE batchd.requests SET lease_until = $3 WHERE key = ANY($2::bigint[]) AND state = 'running' AND lease_owner = $1`,
      values: [owner, keys, leaseUntil],
    });
  }

  async completeRequests(owner: string, completions: Completion[], now: number): Promise<void> {
    if (completions.length === 0) return;
    await completeRequests(this.pool, owner, completions, now);
    this.completionSignal.notify();
  }

  /** Requeues the requests still leased by `owner`, settles their batches and wakes idle workers. */
  async retryRequests(owner: string, retries: Retry[], now: number): Promise<void> {
    if (retries.length === 0) return;
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ batch_seq: number }>({
        name: 'batchd-retry',
        text: `UPDATE batchd.requests r SET state = 'queued', run_at = i.run_at, lease_owner = NULL, lease_until = NULL
          FROM unnest($2::bigint[], $3::bigint[]) AS i(key, run_at)
          WHERE r.key = i.key AND r.state = 'running' AND r.lease_owner = $1
          RETURNING r.batch_seq`,
        values: [owner, retries.map((r) => r.key), retries.map((r) => r.runAt)],
      });
      await this.requeued(client, rows.map((row) => row.batch_seq), now);
    });
    this.completionSignal.notify();
  }

  /** After requests of the batches `seqs` went back to the queue: settle those batches, and notify if any stayed queued. */
  private async requeued(client: pg.PoolClient, seqs: number[], now: number): Promise<void> {
    if (seqs.length === 0) return;
    await settleBatches(client, [...new Set(seqs)].sort((a, b) => a - b), now);
    await client.query("SELECT pg_notify($1, '')", [WORK_CHANNEL]);
  }

  async reclaimExpiredLeases(now: number): Promise<number> {
    const reclaimed = await this.transaction(async (client) => {
      const seqs = await reclaimLeases(client, now);
      await this.requeued(client, seqs, now);
      return seqs.length;
    });
    if (reclaimed > 0) this.completionSignal.notify();
    return reclaimed;
  }

  async expireBatches(now: number): Promise<number> {
    const expired = await this.transaction(async (client) => {
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
    return this.transaction(async (client) => {
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

  async queuedRequests(workspaceId: string): Promise<number> {
    const { rows } = await this.pool.query<{ queued: number }>({
      name: 'batchd-queued-requests',
      text: `SELECT COALESCE(SUM(processing), 0)::int AS queued FROM batchd.batches WHERE workspace_id = $1 AND status IN ('in_progress', 'canceling')`,
      values: [workspaceId],
    });
    return rows[0]!.queued;
  }

  async pauseBackend(backend: string, until: number): Promise<void> {
    await this.pool.query({
      name: 'batchd-pause-backend',
      text: `INSERT INTO batchd.backend_pauses (backend, paused_until) VALUES ($1, $2)
        ON CONFLICT (backend) DO UPDATE SET paused_until = GREATEST(batchd.backend_pauses.paused_until, EXCLUDED.paused_until)`,
      values: [backend, until],
    });
  }

  async backendPauses(now: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ backend: string; paused_until: number }>({
      name: 'batchd-backend-pauses',
      text: `SELECT backend, paused_until FROM batchd.backend_pauses WHERE paused_until > $1`,
      values: [now],
    });
    return new Map(rows.map((row) => [row.backend, row.paused_until]));
  }

  /**
   * Calls `listener` whenever a batch is created or requests are requeued by any process on
   * this database, and once after each (re)connection of the LISTEN connection.
   */
  subscribeWork(listener: () => void): () => void {
    return this.listener.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.files.close();
    await this.pool.end();
  }
}
