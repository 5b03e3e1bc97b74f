import type pg from 'pg';
import type { CompletedPage } from '../completed-results.js';

/**
 * One page of a batch's result lines after position `$2`, at most `$3` of them, in the order of
 * `column`. PostgreSQL frames the lines (`{"custom_id":…,"result":…}` and a newline; with no
 * stored result, `{"type":…}` in its place) and joins them into one text value, so a page crosses
 * the wire and the pg driver as one value rather than as a row object per line.
 */
function pageQuery(name: string, column: 'key' | 'completion_seq'): pg.QueryConfig {
  return {
    name,
    text: `SELECT max(position) AS position, count(*)::int AS count,
        string_agg('{"custom_id":"' || custom_id || '","result":' || COALESCE(result, '{"type":"' || COALESCE(result_type, 'null') || '"}') || E'}\\n', '' ORDER BY position) AS lines
      FROM (SELECT ${column} AS position, custom_id, result_type, result FROM batchd.requests
        WHERE batch_seq = $1 AND ${column} > $2 ORDER BY ${column} LIMIT $3) page`,
  };
}

/** The orders a batch's result lines are read in, each with its prepared query. */
const ORDERS = {
  key: pageQuery('batchd-results-page', 'key'),
  completion: pageQuery('batchd-completed-page', 'completion_seq'),
} as const;

/** Keyset pages of a batch's result lines in `order`, after position `after`: one bounded query per page. */
async function* resultPages(pool: Pick<pg.Pool, 'query'>, batchId: string, order: keyof typeof ORDERS, after: number, pageSize: number): AsyncGenerator<CompletedPage> {
  const found = await pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
  const seq = found.rows[0]?.seq;
  if (seq === undefined) return;
  for (;;) {
    const { rows } = await pool.query<{ position: number | null; count: number; lines: string | null }>({ ...ORDERS[order], values: [seq, after, pageSize] });
    const page = rows[0]!;
    if (page.position === null || page.lines === null) return;
    after = page.position;
    yield { lines: Buffer.from(page.lines), lastSeq: after };
    if (page.count < pageSize) return;
  }
}

/**
 * Keyset pages over a batch's requests in completion order. Every write that numbers requests
 * takes the number while holding the lock on their batch row, so within a batch the numbers
 * commit in order: a page never skips a number that commits later.
 */
export function readCompletedResults(pool: Pick<pg.Pool, 'query'>, batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage> {
  return resultPages(pool, batchId, 'completion', afterSeq, pageSize);
}

/** Keyset pages over the batch's requests in key order. */
export async function* readResults(pool: Pick<pg.Pool, 'query'>, batchId: string, pageSize: number): AsyncGenerator<Buffer> {
  for await (const page of resultPages(pool, batchId, 'key', 0, pageSize)) yield page.lines;
}
