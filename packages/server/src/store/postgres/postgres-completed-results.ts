import type pg from 'pg';
import type { CompletedPage } from '../completed-results.js';
import { resultLine } from '../result-line.js';

/**
 * Keyset pages over a batch's requests in completion order. Every write that numbers requests
 * takes the number while holding the lock on their batch row, so within a batch the numbers
 * commit in order: a page never skips a number that commits later.
 */
export async function* readCompletedResults(
  pool: Pick<pg.Pool, 'query'>,
  batchId: string,
  afterSeq: number,
  pageSize: number,
): AsyncIterable<CompletedPage> {
  const found = await pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
  const seq = found.rows[0]?.seq;
  if (seq === undefined) return;
  let after = afterSeq;
  for (;;) {
    const { rows } = await pool.query<{ completion_seq: number; custom_id: string; result_type: string | null; result: string | null }>({
      name: 'batchd-completed-page',
      text: `SELECT completion_seq, custom_id, result_type, result FROM batchd.requests
        WHERE batch_seq = $1 AND completion_seq > $2 ORDER BY completion_seq LIMIT $3`,
      values: [seq, after, pageSize],
    });
    if (rows.length === 0) return;
    let text = '';
    for (const row of rows) text += resultLine(row.custom_id, row.result_type, row.result);
    after = rows[rows.length - 1]!.completion_seq;
    yield { lines: Buffer.from(text), lastSeq: after };
    if (rows.length < pageSize) return;
  }
}

/** Keyset pages over the batch's requests in key order: one bounded query per page. */
export async function* readResults(pool: Pick<pg.Pool, 'query'>, batchId: string, pageSize: number): AsyncGenerator<Buffer> {
  const found = await pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
  const seq = found.rows[0]?.seq;
  if (seq === undefined) return;
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<{ key: number; custom_id: string; result_type: string | null; result: string | null }>({
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
