import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { CopyLines, type CopyLinesPage } from './copy-binary-lines.js';
import { BEGIN_IN_INDEX_ORDER } from './transaction.js';

/** One `COPY … TO STDOUT` running on a pooled connection in a transaction of its own. */
class RunningCopy {
  private done = false;

  private constructor(
    private readonly client: pg.PoolClient,
    readonly rows: AsyncIterable<Buffer>,
  ) {}

  static async start(pool: pg.Pool, query: string): Promise<RunningCopy> {
    const client = await pool.connect();
    try {
      // Walks the index in order whatever the statistics say (see `inIndexOrder`).
      await client.query(BEGIN_IN_INDEX_ORDER);
    } catch (error) {
      client.release(true);
      throw error;
    }
    const stream = client.query(copyTo(query));
    // Seen by the reader while it reads; one that comes after it has stopped is not an error.
    stream.on('error', () => {});
    return new RunningCopy(client, stream);
  }

  async commit(): Promise<void> {
    this.done = true;
    try {
      await this.client.query('COMMIT');
      this.client.release();
    } catch (error) {
      this.client.release(true);
      throw error;
    }
  }

  /**
   * Closes the connection of a COPY still sending: PostgreSQL ignores a cancel while it waits to
   * write, so the socket is destroyed, which ends the backend, and the pool drops the client.
   */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.client.release(true);
    this.client.connection.stream.destroy();
  }
}

/**
 * Pages of `pageLines` rows of `query(after)`, a `COPY (SELECT <bigint position>, <text line> …
 * WHERE position > after ORDER BY position) TO STDOUT (FORMAT binary)`, read by one COPY while
 * the reader keeps up: PostgreSQL sends the next pages while the reader writes this one, held
 * back by the socket when it is ahead, and the query is planned once. A page left untaken closes
 * the COPY's connection once another query waits for one of the pool's (looked at every
 * `waits.checkMs`) or after `waits.holdMs` in any case, so a reader that stops holds none for
 * long, and a slow one keeps its COPY while nothing else needs the connection; if it takes the
 * page later, a new COPY goes on after that page's last position.
 */
export async function* streamedCopyPages(
  pool: pg.Pool,
  query: (after: number) => string,
  pageLines: number,
  waits: { checkMs: number; holdMs: number },
): AsyncGenerator<CopyLinesPage> {
  let after = 0;
  let pageBytes = 0;
  for (;;) {
    const copy = await RunningCopy.start(pool, query(after));
    const reader = new CopyLines(pageLines, pageBytes);
    let stalled = false;
    try {
      for await (const chunk of copy.rows) {
        reader.push(chunk);
        for (let page = reader.takePage(); page !== undefined && !stalled; page = reader.takePage()) {
          after = page.lastPosition;
          pageBytes = page.lines.length;
          const since = Date.now();
          const check = () => {
            if (pool.waitingCount === 0 && Date.now() - since < waits.holdMs) {
              timer = setTimeout(check, waits.checkMs);
              return;
            }
            stalled = true;
            copy.abandon();
          };
          let timer = setTimeout(check, waits.checkMs);
          try {
            yield page;
          } finally {
            clearTimeout(timer);
          }
        }
        if (stalled) break;
      }
      if (stalled) continue;
      const last = reader.end();
      await copy.commit();
      if (last !== undefined) yield last;
      return;
    } finally {
      // A reader that stopped for good, or a COPY that failed: its connection goes.
      copy.abandon();
    }
  }
}
