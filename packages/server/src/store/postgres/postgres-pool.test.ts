import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../../test-support/postgres/test-database.js';
import { toApiError } from '../../http/api-error.js';
import { isStoreBusy, type NewRequest } from '../store.js';
import { PostgresStore } from './postgres-store.js';

/** The PostgreSQL store's pool: uploads never hold a connection while they arrive, and waits for one are bounded. */

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Connections of the store's pools inside a transaction (or waiting in one) right now. */
function inTransaction(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'batchd' AND xact_start IS NOT NULL`,
    );
    return Number(rows[0]!.count);
  });
}

describe.skipIf(unavailable !== null)('the PostgreSQL store\'s pool', () => {
  it('holds no connection in a transaction while a create\'s requests or a file\'s bytes are still arriving', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const store = await PostgresStore.open(database.url, { poolSize: 2 });
    try {
      const seen: number[] = [];
      const batch = await store.createBatch(
        { id: 'msgbatch_01POOLSPOOL', workspaceId: 'w', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + 2 * HOUR },
        (async function* (): AsyncGenerator<NewRequest[]> {
          for (let chunk = 0; chunk < 3; chunk++) {
            yield [{ customId: `r${chunk}`, params: '{"text":"tab\\t and newline\\n"}' }, { customId: `s${chunk}`, params: '{}' }];
            seen.push(await inTransaction(database.url));
          }
        })(),
      );
      expect(batch.counts.processing).toBe(6);
      const claimed = await store.claimRequests('owner', 10, T0 + HOUR, T0);
      expect(claimed.map((request) => request.params)).toContain('{"text":"tab\\t and newline\\n"}');

      const file = await store.files.createFile(
        { id: 'file-01POOLSPOOL', workspaceId: 'w', purpose: 'batch', filename: 'in.jsonl', createdAt: T0 },
        (async function* () {
          for (let chunk = 0; chunk < 3; chunk++) {
            yield Buffer.from(`line ${chunk}\n`);
            seen.push(await inTransaction(database.url));
          }
        })(),
      );
      expect(file.bytes).toBe(21);
      expect(seen).toEqual([0, 0, 0, 0, 0, 0]);
    } finally {
      await store.close();
    }
  });

  it('fails a query with a busy error, answered 503, once no connection frees up within the wait bound', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const store = await PostgresStore.open(database.url, { poolSize: 1, poolWaitMs: 300 });
    try {
      await withClient(database.url, async (locker) => {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE batchd.batches IN ACCESS EXCLUSIVE MODE');
        // The pool's only connection waits on the lock; the next query waits for the connection.
        const holding = store.getBatch('w', 'msgbatch_01HELD');
        const failure = await store.listBatches('w', { limit: 1 }).then(() => null, (error: unknown) => error);
        await locker.query('ROLLBACK');
        expect(await holding).toBeNull();
        expect(isStoreBusy(failure)).toBe(true);
        expect(toApiError(failure as Error)).toMatchObject({ status: 503, type: 'overloaded_error' });
      });
      expect((await store.listBatches('w', { limit: 1 })).batches).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
