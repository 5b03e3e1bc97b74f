import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../../test-support/postgres/test-database.js';
import type { CompletedPage } from '../completed-results.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresStore } from './postgres-store.js';

/** Completion numbers on PostgreSQL: taken under the batch lock, and given to requests done before they existed. */

const unavailable = postgresUnavailable();
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const databases: TestDatabase[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.end();
});
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function connect(options?: { migrated?: boolean }): Promise<{ url: string; client: pg.Client }> {
  const database = await createTestDatabase(options);
  databases.push(database);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  clients.push(client);
  return { url: database.url, client };
}

async function customIds(pages: AsyncIterable<CompletedPage | Buffer>): Promise<string[]> {
  let text = '';
  for await (const page of pages) text += Buffer.isBuffer(page) ? page : page.lines;
  return text.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
}

describe.skipIf(unavailable !== null)('postgres completion numbers', () => {
  it('numbers a result only once its batch is locked, so numbers commit in order within a batch', async () => {
    const { url, client: holder } = await connect();
    const store = await PostgresStore.open(url);
    try {
      const batch = await store.createBatch(
        { id: 'msgbatch_01ORDER', workspaceId: 'w', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + 2 * HOUR },
        (async function* () {
          yield [{ customId: 'a', params: '{}' }];
        })(),
      );
      const [request] = await store.claimRequests('owner', 1, T0 + HOUR, T0);
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM batchd.batches WHERE id = $1 FOR UPDATE', [batch.id]);
      const completing = store.completeRequests('owner', [{ key: request!.key, type: 'succeeded', result: '{"type":"succeeded"}' }], T0 + 1);
      for (;;) {
        const waiting = await holder.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        if (waiting.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // A number taken while the completion waits for the batch: the completion's must come after it.
      const taken = await holder.query<{ value: string }>(`SELECT nextval('batchd.completion_seqs') AS value`);
      await holder.query('COMMIT');
      await completing;
      const written = await holder.query<{ value: string }>('SELECT completion_seq AS value FROM batchd.requests WHERE key = $1', [request!.key]);
      expect(Number(written.rows[0]!.value)).toBeGreaterThan(Number(taken.rows[0]!.value));
    } finally {
      await store.close();
    }
  });

  it('numbers, when migrating, the requests already done in unfinished batches', async () => {
    const { url, client } = await connect({ migrated: false });
    await client.query('CREATE SCHEMA batchd');
    await client.query(`CREATE TABLE batchd.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.version < 4)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO batchd.migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    const batches = await client.query<{ seq: string }>(
      `INSERT INTO batchd.batches (id, workspace_id, status, processing, succeeded, created_at, expires_at, archive_at)
       VALUES ('msgbatch_01RUNNING', 'w', 'in_progress', 1, 2, $1, $2, $3), ('msgbatch_01ENDED', 'w', 'ended', 0, 1, $1, $2, $3) RETURNING seq`,
      [T0, T0 + HOUR, T0 + 2 * HOUR],
    );
    const [running, ended] = batches.rows.map((row) => row.seq);
    await client.query(
      `INSERT INTO batchd.requests (batch_seq, custom_id, params, state, result_type, result) VALUES
       ($1, 'old-b', '{}', 'done', 'succeeded', '{"type":"succeeded"}'), ($1, 'old-a', '{}', 'done', 'errored', '{"type":"errored"}'),
       ($1, 'new', '{}', 'queued', NULL, NULL), ($2, 'before', '{}', 'done', 'succeeded', '{"type":"succeeded"}')`,
      [running, ended],
    );
    const store = await PostgresStore.open(url);
    try {
      expect(await customIds(store.readCompletedResults('msgbatch_01RUNNING', 0, 10))).toEqual(['old-b', 'old-a']);
      const [request] = await store.claimRequests('owner', 1, T0 + HOUR, T0);
      await store.completeRequests('owner', [{ key: request!.key, type: 'succeeded', result: '{"type":"succeeded"}' }], T0 + 1);
      expect(await customIds(store.readCompletedResults('msgbatch_01RUNNING', 0, 10))).toEqual(['old-b', 'old-a', 'new']);
      // An ended batch has no numbers; its results are read in request order.
      expect(await customIds(store.readCompletedResults('msgbatch_01ENDED', 0, 10))).toEqual([]);
      expect(await customIds(store.readResults('msgbatch_01ENDED', 10))).toEqual(['before']);
    } finally {
      await store.close();
    }
  });
});
