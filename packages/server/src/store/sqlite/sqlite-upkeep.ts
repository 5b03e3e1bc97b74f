import type { UpkeepStore } from '../store.js';
import type { CompletionSignal } from '../completed-results.js';
import type { BatchRow } from '../batch-row.js';
import type { SqliteBatchCreates } from './sqlite-batch-creates.js';
import type { SqliteCompletions } from './sqlite-completions.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { SqliteLeases } from './sqlite-leases.js';
import type { SqliteResultsFiles } from './sqlite-results-files.js';
import type { Statements } from './sqlite-statements.js';

/** The parts of a SQLite store its sweeps work on. */
export interface SqliteUpkeepParts {
  db: SqliteDatabase;
  sql: Statements;
  completions: SqliteCompletions;
  leases: SqliteLeases;
  creates: SqliteBatchCreates;
  resultsFiles: SqliteResultsFiles | null;
  completionSignal: CompletionSignal;
}

/** The maintenance sweeps of a SQLite store, and the settling of batches they share with cancels and retries. */
export class SqliteUpkeep implements UpkeepStore {
  constructor(private readonly parts: SqliteUpkeepParts) {}

  /**
   * Ends the queued requests of a batch that may no longer send them: canceled when the batch is
   * canceling, expired when it is past `expires_at`. Then ends the batch if nothing is left.
   */
  settle(seq: number, now: number): void {
    const row = this.parts.sql.getBatchBySeq.get(seq) as BatchRow | undefined;
    if (!row || (row.status !== 'in_progress' && row.status !== 'canceling')) return;
    const type = row.status === 'canceling' ? 'canceled' : row.expires_at <= now ? 'expired' : null;
    if (type) {
      const changes = this.parts.completions.settleQueued(type, seq);
      if (changes > 0) this.parts.sql.countSettled.run(changes, type === 'canceled' ? changes : 0, type === 'expired' ? changes : 0, seq);
    }
    this.parts.sql.endIfDone.run(now, seq);
  }

  async reclaimExpiredLeases(now: number): Promise<number> {
    const reclaimed = this.parts.db.transaction(() => {
      const seqs = this.parts.leases.release(now);
      this.settleAll(seqs, now);
      return seqs.length;
    })();
    if (reclaimed > 0) this.parts.completionSignal.notify();
    return reclaimed;
  }

  settleAll(seqs: number[], now: number): void {
    for (const seq of new Set(seqs)) this.settle(seq, now);
  }

  async expireBatches(now: number): Promise<number> {
    const expired = this.parts.db.transaction(() => {
      const seqs = this.parts.sql.overdue.pluck().all(now) as number[];
      for (const seq of seqs) this.settle(seq, now);
      return seqs.length;
    })();
    if (expired > 0) this.parts.completionSignal.notify();
    return expired;
  }

  async archiveBatches(now: number): Promise<number> {
    return this.parts.sql.archive.run(now, now).changes;
  }

  async purge(limit: number): Promise<number> {
    let removed = 0;
    const batches = this.parts.sql.toPurge.all() as Array<{ seq: number; id: string; status: string }>;
    const purged: string[] = [];
    for (const batch of batches) {
      const wanted = limit - removed;
      if (wanted <= 0) break;
      const { changes } = this.parts.sql.purgeRequests.run(batch.seq, wanted);
      removed += changes;
      if (changes < wanted) {
        if (batch.status === 'deleted') this.parts.sql.discardBatch.run(batch.seq);
        else this.parts.sql.markPurged.run(batch.seq);
        purged.push(batch.id);
      }
    }
    // A batch's file goes once its last rows have; until then it is never served (deleted or archived).
    await this.parts.resultsFiles?.remove(purged);
    return removed;
  }

  async purgeCreateRecords(now: number, limit: number): Promise<number> {
    return this.parts.creates.purge(now, limit);
  }

  async fileResults(limit: number, onFailure: (batchId: string, error: unknown) => void): Promise<number> {
    return this.parts.resultsFiles?.fileEnded(limit, onFailure) ?? 0;
  }
}
