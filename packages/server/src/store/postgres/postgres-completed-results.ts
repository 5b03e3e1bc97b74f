import type pg from 'pg';
import type { CompletedPage } from '../completed-results.js';
import { resultLine } from '../result-line.js';
import { inIndexOrder } from './transaction.js';

/** The orders a batch's result lines are read in, each with its prepared query. */
const ORDERS = {
  key: {
    name: 'batchd-results-page',
    text: `SELECT key AS position, custom_id, result_type, result FROM batchd.requests
      WHERE batch_seq = $1 AND key > $2 ORDER BY key LIMIT $3`,
  },
  completion: {
    name: 'batchd-completed-page',
    text: `SELECT completion_seq AS position, custom_id, result_type, result FROM batchd.requests
      WHERE batch_seq = $1 AND completion_seq > $2 ORDER BY completion_seq LIMIT $3`,
  },
} as const;

/** Keyset pages of a batch's result lines in `order`, after position `after`: one bounded query per page. */
async function* resultPages(pool: pg.Pool, batchId: string, order: keyof typeof ORDERS, after: number, pageSize: number): AsyncGenerator<CompletedPage> {
  const found = await pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
  const seq = found.rows[0]?.seq;
  if (seq === undefined) return;
  for (;;) {
    const rows = await inIndexOrder(pool, (client) =>
      client.query<{ position: number; custom_id: string; result_type: string | null; result: string | null }>({ ...ORDERS[order], values: [seq, after, pageSize] }),
    );
    if (rows.length === 0) return;
    let text = '';
    for (const row of rows) text += resultLine(row.custom_id, row.result_type, row.result);
    after = rows[rows.length - 1]!.position;
    yield { lines: Buffer.from(text), lastSeq: after };
    if (rows.length < pageSize) return;
  }
}

/**
 * Keyset pages over a batch's requests in completion order. Every write that numbers requests
 * takes the number while holding the lock on their batch row, so within a batch the numbers
 * commit in order: a page never skips a number that commits later.
 */
export function readCompletedResults(pool: pg.Pool, batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage> {
  return resultPages(pool, batchId, 'completion', afterSeq, pageSize);
}

/** Keyset pages over the batch's requests in key order. */
export async function* readResults(pool: pg.Pool, batchId: string, pageSize: number): AsyncGenerator<Buffer> {
  for await (const page of resultPages(pool, batchId, 'key', 0, pageSize)) yield page.lines;
}
