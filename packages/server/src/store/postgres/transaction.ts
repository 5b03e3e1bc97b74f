import type pg from 'pg';

/**
 * Runs `work` in a transaction on one connection of `pool`: committed if it returns, rolled back
 * if it throws (the error is rethrown). A connection that cannot roll back is discarded. `begin`
 * starts the transaction, with any settings of its own in the same round trip.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
    client.release(!rolledBack);
    throw error;
  }
}

/** Begins a transaction where the planner may not use a bitmap or a sequential scan (see {@link inIndexOrder}). */
export const BEGIN_IN_INDEX_ORDER = 'BEGIN; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off';

/**
 * Runs `query` in a transaction where the planner may not use a bitmap or a sequential scan, for
 * keyset pages. Just after many rows are written, the table's statistics still count a few of
 * them, and the plan they pick (a bitmap scan of every row that matches, then a sort) reads the
 * whole rest of the set for each page: reading a large batch's results took time quadratic in its
 * size, and a list page read every stored batch. Walking the index in order stops at the page's
 * end whatever the statistics say.
 */
export async function inIndexOrder<R extends pg.QueryResultRow>(pool: pg.Pool, query: (client: pg.PoolClient) => Promise<pg.QueryResult<R>>): Promise<R[]> {
  return inTransaction(pool, async (client) => (await query(client)).rows, BEGIN_IN_INDEX_ORDER);
}
