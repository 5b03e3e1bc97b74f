import type { Statement } from 'better-sqlite3';
import { MAX_LEASE_LOSSES, QUARANTINED_RESULT } from '../quarantine.js';
import type { SqliteCompletions } from './sqlite-completions.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * Lapsed leases on SQLite: each request whose lease lapsed goes back in the queue, or is
 * quarantined on its last allowed loss (see `quarantine.ts`).
 */
export class SqliteLeases {
  private readonly lapsed: Statement;
  private readonly requeue: Statement;
  private readonly quarantine: Statement;
  private readonly countQuarantined: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly completions: SqliteCompletions,
  ) {
    this.lapsed = db.prepare(`SELECT r.key, r.batch_seq AS batchSeq, r.lease_losses AS losses, b.dialect
      FROM requests r JOIN batches b ON b.seq = r.batch_seq WHERE r.state = 'running' AND r.lease_until < ?`);
    this.requeue = db.prepare(`UPDATE requests SET state = 'queued', lease_owner = NULL, lease_until = NULL, lease_losses = lease_losses + 1 WHERE key = ?`);
    this.quarantine = db.prepare(`UPDATE requests SET state = 'done', result_type = 'errored', result = ?, completion_seq = ?,
      lease_owner = NULL, lease_until = NULL, lease_losses = lease_losses + 1 WHERE key = ?`);
    this.countQuarantined = db.prepare(`UPDATE batches SET processing = processing - 1, errored = errored + 1 WHERE seq = ?`);
  }

  /**
   * Releases every lease that lapsed before `until` (call inside a write transaction, then settle
   * the batches); returns the batch of each request released.
   */
  release(until: number): number[] {
    const rows = this.lapsed.all(until) as Array<{ key: number; batchSeq: number; losses: number; dialect: string }>;
    for (const row of rows) {
      if (row.losses + 1 < MAX_LEASE_LOSSES) {
        this.requeue.run(row.key);
        continue;
      }
      this.quarantine.run(row.dialect === 'messages' ? QUARANTINED_RESULT : null, this.completions.reserve(1) + 1, row.key);
      this.countQuarantined.run(row.batchSeq);
    }
    return rows.map((row) => row.batchSeq);
  }
}
