import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { CompletedPage } from '../completed-results.js';
import { linesOfCopy } from './copy-binary-lines.js';
import { streamedCopyPages } from './streamed-copy.js';
import { BEGIN_IN_INDEX_ORDER, inTransaction } from './transaction.js';

/** The column that orders each kind of read. */
const ORDERS = { key: 'key', completion: 'completion_seq' } as const;

/**
 * A page of result lines as COPY's binary format: a `bigint` position then the framed line
 * (`text`, sent as its UTF-8 bytes, unescaped) for each row. Numbers are written into the text:
 * COPY takes no parameters.
 */
function pageQuery(order: keyof typeof ORDERS, seq: number, after: number, pageSize?: number): string {
  const column = ORDERS[order];
  return `COPY (SELECT ${column}::bigint, '{"custom_id":"' || custom_id || '","result":'
      || COALESCE(result, '{"type":"' || result_type || '"}') || E'}\\n'
    FROM batchd.requests WHERE batch_seq = ${seq} AND ${column} > ${after} ORDER BY ${column}${pageSize === undefined ? '' : ` LIMIT ${pageSize}`}) TO STDOUT (FORMAT binary)`;
}

/** One page, read whole into memory and the connection returned before it is handed on: a slow reader holds no connection. */
async function readPage(pool: pg.Pool, query: string): Promise<Buffer[]> {
  // Walks the index in order whatever the statistics say (see `inIndexOrder`).
  return inTransaction(
    pool,
    async (client) => {
      const chunks: Buffer[] = [];
      for await (const chunk of client.query(copyTo(query)) as AsyncIterable<Buffer>) chunks.push(chunk);
      return chunks;
    },
    BEGIN_IN_INDEX_ORDER,
  );
}

async function batchSeq(pool: pg.Pool, batchId: string): Promise<number | undefined> {
  const found = await pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
  return found.rows[0]?.seq;
}

/**
 * Keyset pages of a batch's result lines in `order`, after position `after`: one bounded COPY
 * per page, whose rows arrive as the bytes of their lines rather than as strings.
 */
async function* resultPages(pool: pg.Pool, batchId: string, order: keyof typeof ORDERS, after: number, pageSize: number): AsyncGenerator<CompletedPage> {
  const seq = await batchSeq(pool, batchId);
  if (seq === undefined) return;
  for (;;) {
    const page = linesOfCopy(await readPage(pool, pageQuery(order, seq, after, pageSize)));
    if (page.count === 0) return;
    after = page.lastPosition;
    yield { lines: page.lines, lastSeq: after };
    if (page.count < pageSize) return;
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

/**
 * How long a page of an ended batch's results may wait for its reader before the COPY sending
 * them is closed: when another query waits for a connection, the time a reader keeping up takes
 * to write one page, many times over; else long enough for a slow reader to keep its COPY.
 */
const STALL = { checkMs: 500, holdMs: 30_000 };

/** An ended batch's results in key order, in pages of `pageSize` lines, streamed by one COPY while the reader keeps up. */
export async function* readResults(pool: pg.Pool, batchId: string, pageSize: number): AsyncGenerator<Buffer> {
  const seq = await batchSeq(pool, batchId);
  if (seq === undefined) return;
  for await (const page of streamedCopyPages(pool, (after) => pageQuery('key', seq, after), pageSize, STALL)) yield page.lines;
}
