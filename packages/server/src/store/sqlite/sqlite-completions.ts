import type { Statement } from 'better-sqlite3';
import type { CompletedPage } from '../completed-results.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * Completion numbers on SQLite: a one-row counter advanced inside the write transactions that
 * end requests. One process writes the file, so numbers commit in the order they are given.
 */
export class SqliteCompletions {
  private readonly reserveSeqs: Statement;
  private readonly lastSeq: Statement;
  private readonly setLastSeq: Statement;
  private readonly settle: Statement;
  private readonly batchSeq: Statement;
  private readonly page: Statement;

  constructor(db: SqliteDatabase) {
    this.reserveSeqs = db.prepare(`UPDATE completion_counter SET last_seq = last_seq + ?`);
    this.lastSeq = db.prepare(`SELECT last_seq FROM completion_counter`).pluck();
    this.setLastSeq = db.prepare(`UPDATE completion_counter SET last_seq = ?`);
    this.settle = db.prepare(`UPDATE requests SET state = 'done', result_type = ?, completion_seq = ? + q.n
      FROM (SELECT key, row_number() OVER (ORDER BY key) AS n FROM requests WHERE batch_seq = ? AND state = 'queued') AS q
      WHERE requests.key = q.key`);
    this.batchSeq = db.prepare('SELECT seq FROM batches WHERE id = ?').pluck();
    // Framed in SQL and read as bytes, like the pages of `readResults`.
    this.page = db
      .prepare(`SELECT completion_seq, CAST('{"custom_id":"' || custom_id || '","result":'
          || COALESCE(result, '{"type":"' || result_type || '"}') || '}' || char(10) AS BLOB)
        FROM requests WHERE batch_seq = ? AND completion_seq > ? ORDER BY completion_seq LIMIT ?`)
      .raw();
  }

  /** Takes `count` numbers for requests about to end (call inside the write transaction); returns the one before the first. */
  reserve(count: number): number {
    // Read, then advanced (no RETURNING: see `leasedBatch` in sqlite-statements.ts).
    const before = this.lastSeq.get() as number;
    this.reserveSeqs.run(count);
    return before;
  }

  /** Ends every queued request of the batch as `type`, numbering them in key order; returns how many ended. */
  settleQueued(type: 'canceled' | 'expired', batchSeq: number): number {
    const base = this.lastSeq.get() as number;
    const { changes } = this.settle.run(type, base, batchSeq);
    if (changes > 0) this.setLastSeq.run(base + changes);
    return changes;
  }

  async *read(batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage> {
    const seq = this.batchSeq.get(batchId) as number | undefined;
    if (seq === undefined) return;
    let after = afterSeq;
    for (;;) {
      const rows = this.page.all(seq, after, pageSize) as Array<[number, Buffer]>;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]![0];
      yield { lines: Buffer.concat(rows.map((row) => row[1])), lastSeq: after };
      if (rows.length < pageSize) return;
    }
  }
}
