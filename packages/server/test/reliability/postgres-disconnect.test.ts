import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { api } from '../../test-support/api/api.js';
import { createBatch, pollUntil, retrieveBatch, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { createTestDatabase, postgresUnavailable } from '../../test-support/postgres/test-database.js';
import { startServer } from '../../test-support/process/server-process.js';

/**
 * PostgreSQL drops every connection of batchd's (a restart, a failover, an operator's
 * `pg_terminate_backend`) while one is checked out of the pool: a create's transaction, caught
 * in its `COPY`. batchd stays up: that create fails, the pool opens new connections, the running
 * batch ends with every result, and the next create is stored.
 */

const unavailable = postgresUnavailable();

describe('PostgreSQL connections dropped under batchd', () => {
  it.skipIf(unavailable !== null)('leave the process running, the batch ending with every result', async () => {
    const database = await createTestDatabase();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const server = await startServer({ flags: { db: database.url, 'log-level': 'fatal' } });
      const client = api(server.url);
      const running = await createBatch(client, userRequests(300, 'running').map((request) => ({ ...request, params: { ...request.params, metadata: { user_id: 'emulator:latency=100' } } })));
      await pollUntil(() => retrieveBatch(client, running.id), (batch) => batch.request_counts.succeeded > 0, { what: 'the batch to be running' });

      const large = client.post('/v1/messages/batches', { requests: userRequests(100_000, 'large') });
      const copying = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query ILIKE 'COPY%FROM STDIN%'`;
      await pollUntil(async () => (await admin.query(copying)).rowCount ?? 0, (copies) => copies > 0, { timeoutMs: 60_000, intervalMs: 5, what: 'the large create to be in its COPY' });
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);

      expect((await large).status, 'the create caught in its COPY failed').toBeGreaterThanOrEqual(500);
      const exited = await Promise.race([server.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1_000))]);
      expect(exited, `batchd exited: ${server.output().stderr.slice(-2_000)}`).toBeNull();
      const ended = await waitUntilEnded(client, running.id, 300, { timeoutMs: 60_000 });
      expect(ended.request_counts).toMatchObject({ succeeded: 300, errored: 0 });
      await createBatch(client, userRequests(10, 'after'));
      await server.stop();
    } finally {
      await admin.end();
      await database.drop();
    }
  }, 180_000);
});
