import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../../test-support/postgres/test-database.js';
import { streamedCopyPages } from './streamed-copy.js';

/**
 * Pages streamed by one COPY, on a pool of one connection: every line once and in order, and a
 * reader that stops, for a while or for good, gives the connection back.
 */

const unavailable = postgresUnavailable();
const ROWS = 2_000;
/** About 20 MB in all: far more than the socket buffers hold, so the COPY is still sending when a reader stops. */
const LINE_BYTES = 10_000;

/** Waits that never close a COPY within a test. */
const LONG = { checkMs: 60_000, holdMs: 60_000 };

const line = (n: number) => `${n}:${'x'.repeat(LINE_BYTES)}\n`;
const query = (failAt?: number) => (after: number) =>
  `COPY (SELECT g::bigint, ${failAt === undefined ? '' : `CASE WHEN g = ${failAt} THEN (1 / (g - ${failAt}))::text ELSE '' END || `}g || ':' || repeat('x', ${LINE_BYTES}) || E'\\n'
    FROM generate_series(${after + 1}, ${ROWS}) AS g ORDER BY g) TO STDOUT (FORMAT binary)`;

/** Backends of the test's database other than the one asking. */
async function otherBackends(asker: pg.Pool | pg.Client): Promise<number> {
  const { rows } = await asker.query<{ count: string }>(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return Number(rows[0]!.count);
}

/** Waits until the pool's only connection is the one asking: a closed COPY's backend has ended. */
async function untilAlone(pool: pg.Pool): Promise<void> {
  while ((await otherBackends(pool)) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.skipIf(unavailable !== null)('pages streamed by one COPY', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('are every line once, in order, in pages of the given size', async () => {
    const counts: number[] = [];
    let text = '';
    for await (const page of streamedCopyPages(pool, query(), 300, LONG)) {
      counts.push(page.count);
      text += page.lines.toString();
    }
    expect(counts).toEqual([300, 300, 300, 300, 300, 300, 200]);
    expect(text).toBe(Array.from({ length: ROWS }, (_, i) => line(i + 1)).join(''));
    expect(pool.idleCount).toBe(1);
  });

  it('give the connection back while the reader stops and another query waits, and go on after its last page when it reads again', async () => {
    const pages = streamedCopyPages(pool, query(), 100, { checkMs: 20, holdMs: 60_000 });
    let text = '';
    let taken = 0;
    for (let result = await pages.next(); !result.done; result = await pages.next()) {
      text += result.value.lines.toString();
      taken += 1;
      // With one pooled connection this waits until the stalled COPY's connection is closed.
      if (taken === 3) {
        const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
        expect(rows[0]!.one).toBe(1);
        await untilAlone(pool);
      }
    }
    expect(text).toBe(Array.from({ length: ROWS }, (_, i) => line(i + 1)).join(''));
  });

  it('keep the COPY of a reader that stops while nothing waits, until it has held it for long', async () => {
    const pages = streamedCopyPages(pool, query(), 100, { checkMs: 20, holdMs: 300 });
    let text = '';
    for (let result = await pages.next(), taken = 1; !result.done; result = await pages.next(), taken += 1) {
      text += result.value.lines.toString();
      if (taken === 3) {
        // Nothing asks the pool for a connection: the COPY's backend ends only once held too long.
        const watcher = new pg.Client({ connectionString: database.url });
        await watcher.connect();
        try {
          while ((await otherBackends(watcher)) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
        } finally {
          await watcher.end();
        }
      }
    }
    expect(text).toBe(Array.from({ length: ROWS }, (_, i) => line(i + 1)).join(''));
  });

  it('close the COPY of a reader that stops for good', async () => {
    const pages = streamedCopyPages(pool, query(), 100, LONG);
    expect((await pages.next()).value?.count).toBe(100);
    await pages.return(undefined);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    await untilAlone(pool);
  });

  it('fail with the error of a COPY that fails half way, and give its connection back', async () => {
    const read = async () => {
      for await (const page of streamedCopyPages(pool, query(1_500), 100, LONG)) expect(page.count).toBe(100);
    };
    await expect(read()).rejects.toThrow(/division by zero/);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });
});
