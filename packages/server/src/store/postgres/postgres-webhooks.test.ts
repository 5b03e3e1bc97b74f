import { afterAll, describe, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../../test-support/postgres/test-database.js';
import { runWebhookStoreContract } from '../../../test-support/contracts/webhook-store-contract.js';
import { PostgresStore } from './postgres-store.js';

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

if (unavailable) {
  describe('postgres webhook store', () => {
    it.skip(`runs only with PostgreSQL (${unavailable.replace(/\s+/g, ' ')})`, () => undefined);
  });
} else {
  runWebhookStoreContract('postgres', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    return PostgresStore.open(database.url);
  });
}
