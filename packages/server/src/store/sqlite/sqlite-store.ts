import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type * as store from '../store.js';
import type { CreateOptions } from '../batch-creates.js';
import { StoreWithUpkeep } from '../store-with-upkeep.js';
import { systemClock, type Clock } from '../../clock.js';
import { SqliteBatchCreates } from './sqlite-batch-creates.js';
import { CompletionSignal, type CompletedPage } from '../completed-results.js';
import { SqliteCompletions } from './sqlite-completions.js';
import { BatchDeltas } from './batch-deltas.js';
import { SqliteLeases } from './sqlite-leases.js';
import { SqliteParams } from './sqlite-params.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { asCanceling, toBatchRecord, type BatchRow } from '../batch-row.js';
import { SqliteWebhookStore } from './sqlite-webhooks.js';
import { SqliteFiles } from './sqlite-files.js';
import { SqliteResultsFiles } from './sqlite-results-files.js';
import { SqliteApiKeys } from './sqlite-api-keys.js';
import { SqliteUpkeep } from './sqlite-upkeep.js';
import { SqliteProviderBatches } from './sqlite-provider-batches.js';
import { createBatch, discardBatch } from './sqlite-create-batch.js';

/**
 * The store on one SQLite file, used by one process: on open, leases left by a previous process
 * are released and creates it did not finish are discarded.
 */
export class SqliteStore extends StoreWithUpkeep implements store.BatchStore {
  readonly files: SqliteFiles;
  readonly apiKeys: SqliteApiKeys;
  private readonly db: SqliteDatabase;
  private readonly path: string;
  private readonly checkpointer: SqliteCheckpointer | null;
  private readonly sql: Statements;
  private readonly creates: SqliteBatchCreates;
  private readonly completions: SqliteCompletions;
  private readonly leases: SqliteLeases;
  private readonly params: SqliteParams;
  private readonly completionSignal = new CompletionSignal();
  private readonly resultsFiles: SqliteResultsFiles | null;
  protected readonly upkeep: SqliteUpkeep;
  readonly webhooks: SqliteWebhookStore;
  readonly providerBatches: SqliteProviderBatches;

  /**
   * Opens the store. `takeOver` (the default) releases the leases and discards the unfinished
   * creates a stopped process left; tools that only read or manage keys beside a running
   * server pass false. With `resultsFileMinRequests`, ended batches of at least that many
   * requests get a results file in the directory `<path>.results`, unless writing it would leave
   * less than `minFreeDiskBytes` of the disk free. `clock` (the system's by
   * default) dates the batches that taking over ends. A store that takes the file over also
   * checkpoints its log on a thread of its own; a tool beside it leaves that to the server.
   */
  constructor(path: string, options: { takeOver?: boolean; resultsFileMinRequests?: number; minFreeDiskBytes?: number; clock?: Clock } = {}) {
    super();
    this.path = path;
    this.db = openSqliteDatabase(path);
    this.checkpointer = path === ':memory:' || options.takeOver === false ? null : new SqliteCheckpointer(this.db, path);
    this.webhooks = new SqliteWebhookStore(this.db);
    this.files = new SqliteFiles(this.db);
    this.apiKeys = new SqliteApiKeys(this.db);
    this.sql = prepareStatements(this.db);
    const minRequests = options.resultsFileMinRequests;
    const keepFree = options.minFreeDiskBytes ? { bytes: options.minFreeDiskBytes, diskFree: () => this.diskFree() } : undefined;
    this.resultsFiles =
      minRequests === undefined || path === ':memory:'
        ? null
        : new SqliteResultsFiles(this.db, { dir: `${path}.results`, minRequests, keepFree }, (seq, pageSize) => this.resultPages(seq, pageSize));
    this.creates = new SqliteBatchCreates(this.db);
    this.completions = new SqliteCompletions(this.db);
    this.params = new SqliteParams(this.db);
    this.leases = new SqliteLeases(this.db, this.completions, this.params);
    this.upkeep = new SqliteUpkeep({ db: this.db, sql: this.sql, completions: this.completions, leases: this.leases, creates: this.creates, resultsFiles: this.resultsFiles, completionSignal: this.completionSignal });
    this.providerBatches = new SqliteProviderBatches(this.db, { sql: this.sql, completions: this.completions, upkeep: this.upkeep, completionSignal: this.completionSignal });
    if (options.takeOver !== false) this.recover((options.clock ?? systemClock).now());
  }

  /** Every lease left by the process before lapsed when it stopped. */
  private recover(now: number): void {
    this.db.transaction(() => {
      this.upkeep.settleAll(this.leases.release(Number.MAX_SAFE_INTEGER), now);
      const unfinished = this.db.prepare(`SELECT seq FROM batches WHERE status = 'creating'`).pluck().all() as number[];
      for (const seq of unfinished) discardBatch(this.sql, seq);
      this.providerBatches.releaseAll();
    })();
    this.files.discardUnfinished();
    this.resultsFiles?.discardLeftovers();
  }

  /** Free space on the database's filesystem, plus the pages the database holds free for reuse (deletes free pages, not disk). */
  async freeBytes(): Promise<number | null> {
    if (this.path === ':memory:') return null;
    const freePages = this.db.pragma('freelist_count', { simple: true }) as number;
    return (await this.diskFree()) + freePages * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Free space on the database's filesystem. */
  private async diskFree(): Promise<number> {
    const { bavail, bsize } = await statfs(dirname(resolve(this.path)));
    return bavail * bsize;
  }

  async createBatch(batch: store.NewBatch, requests: AsyncIterable<store.NewRequest[]>, options?: CreateOptions): Promise<store.BatchRecord> {
    return createBatch({ db: this.db, sql: this.sql, params: this.params, creates: this.creates }, batch, requests, options);
  }

  private batchBySeq(seq: number): store.BatchRecord {
    return toBatchRecord(this.sql.getBatchBySeq.get(seq) as BatchRow);
  }

  private findRow(workspaceId: string, id: string): BatchRow | undefined {
    return this.sql.getBatch.get(workspaceId, id) as BatchRow | undefined;
  }

  async getBatch(workspaceId: string, id: string): Promise<store.BatchRecord | null> {
    const row = this.findRow(workspaceId, id);
    return row ? toBatchRecord(row) : null;
  }

  async listBatches(workspaceId: string, page: store.ListQuery): Promise<store.ListPage> {
    const newer = page.beforeId !== undefined;
    const dialect = page.dialect ?? 'messages';
    const rows = (
      newer
        ? this.sql.listNewer.all(workspaceId, dialect, page.beforeId, page.limit + 1)
        : this.sql.listOlder.all(workspaceId, dialect, page.afterId ?? '\u{10FFFF}', page.limit + 1)
    ) as BatchRow[];
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    if (newer) kept.reverse();
    return { batches: kept.map(toBatchRecord), hasMore };
  }

  async cancelBatch(workspaceId: string, id: string, now: number): Promise<store.CancelOutcome> {
    const outcome = this.db.transaction((): store.CancelOutcome => {
      const row = this.findRow(workspaceId, id);
      if (!row) return { kind: 'not_found' };
      if (row.status === 'ended') return { kind: 'ended', batch: toBatchRecord(row) };
      this.sql.markCanceling.run(now, row.seq);
      this.upkeep.settle(row.seq, now);
      return { kind: 'ok', batch: asCanceling(this.batchBySeq(row.seq)) };
    })();
    if (outcome.kind === 'ok') this.completionSignal.notify();
    return outcome;
  }

  async cancelingBatchIds(): Promise<string[]> {
    return this.sql.cancelingIds.pluck().all() as string[];
  }

  async deleteBatch(workspaceId: string, id: string): Promise<store.DeleteOutcome> {
    const row = this.findRow(workspaceId, id);
    if (!row) return 'not_found';
    if (row.status !== 'ended') return 'not_ended';
    this.sql.markDeleted.run(row.seq);
    return 'deleted';
  }

  async *readResults(batchId: string, pageSize: number): AsyncIterable<Buffer> {
    const row = this.db.prepare('SELECT seq, results_filed AS filed FROM batches WHERE id = ?').get(batchId) as { seq: number; filed: number } | undefined;
    if (row === undefined) return;
    const { seq, filed } = row;
    const file = filed === 1 ? await this.resultsFiles?.chunks(batchId) : null;
    if (file) yield* file;
    else yield* this.resultPages(seq, pageSize);
  }

  async openResultsFile(batchId: string): Promise<store.ResultsFile | null> {
    const filed = this.db.prepare('SELECT results_filed FROM batches WHERE id = ?').pluck().get(batchId) as number | undefined;
    return filed === 1 ? ((await this.resultsFiles?.open(batchId)) ?? null) : null;
  }

  private *resultPages(seq: number, pageSize: number): Generator<Buffer> {
    let after = 0;
    for (;;) {
      const rows = this.sql.resultsPage.raw().all(seq, after, pageSize) as Array<[number, Buffer]>;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]![0];
      yield Buffer.concat(rows.map((row) => row[1]));
      if (rows.length < pageSize) return;
    }
  }

  readCompletedResults(batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage> {
    return this.completions.read(batchId, afterSeq, pageSize);
  }

  subscribeCompletions(listener: () => void): () => void {
    return this.completionSignal.subscribe(listener);
  }

  async claimRequests(owner: string, limit: number, leaseUntil: number, now: number, clusterLimit?: number, paramsBytes?: number, suspects?: number): Promise<store.ClaimedRequest[]> {
    const { claimed, pieced } = this.db.transaction(() => this.leases.claim(owner, limit, leaseUntil, now, clusterLimit, paramsBytes, suspects))();
    const gone = await this.params.readRests(pieced);
    return gone.size === 0 ? claimed : claimed.filter((request) => !gone.has(request));
  }

  async renewLeases(owner: string, keys: number[], leaseUntil: number): Promise<void> {
    this.db.transaction(() => this.leases.renew(owner, keys, leaseUntil))();
  }

  async completeRequests(owner: string, completions: store.Completion[], now: number): Promise<void> {
    this.db.transaction(() => {
      const deltas = new BatchDeltas();
      let completionSeq = this.completions.reserve(completions.length);
      const leasedBatch = this.sql.leasedBatch.pluck();
      for (const completion of completions) {
        const batchSeq = leasedBatch.get(completion.key, owner) as number | undefined;
        if (batchSeq === undefined) continue;
        this.sql.complete.run(completion.type, completion.result, ++completionSeq, completion.key);
        deltas.add(batchSeq, completion);
      }
      for (const [seq, delta] of deltas.entries()) {
        this.sql.applyDelta.run(...delta, seq);
        this.sql.endIfDone.run(now, seq);
      }
    })();
    this.completionSignal.notify();
  }

  async retryRequests(owner: string, retries: store.Retry[], now: number): Promise<void> {
    this.db.transaction(() => {
      const touched = new Set<number>();
      const leasedBatch = this.sql.leasedBatch.pluck();
      for (const retry of retries) {
        const batchSeq = leasedBatch.get(retry.key, owner) as number | undefined;
        if (batchSeq === undefined) continue;
        this.sql.retry.run(retry.runAt, retry.key);
        touched.add(batchSeq);
      }
      for (const seq of touched) this.upkeep.settle(seq, now);
    })();
    this.completionSignal.notify();
  }

  fileResults(limit: number, onFailure: (batchId: string, error: unknown) => void): Promise<number> {
    return this.upkeep.fileResults(limit, onFailure);
  }

  async queuedRequests(workspaceId: string): Promise<number> {
    return this.db
      .prepare(`SELECT COALESCE(SUM(processing), 0) FROM batches INDEXED BY batches_active WHERE workspace_id = ? AND status IN ('in_progress', 'canceling')`)
      .pluck()
      .get(workspaceId) as number;
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    this.db.close();
  }
}
