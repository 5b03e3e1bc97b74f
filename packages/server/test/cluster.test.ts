import type { MessageBatch } from '@batchd/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { api } from '../test-support/api/api.js';
import { createBatch, fetchResults, followResults, pollUntil, resultsById, retrieveBatch, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { startServer } from '../test-support/process/server-process.js';
import { killWorkers, startWorker } from '../test-support/process/worker-process.js';

/**
 * Several batchd processes on one PostgreSQL database: an API-only node and worker nodes that
 * share the work, survive one of them being killed, and keep a cluster-wide in-flight limit, while
 * the API node follows a batch's results as they land.
 */

const UPSTREAM_KEY = 'sk-cluster-upstream';
const WORKER_ENV = { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY };
const unavailable = postgresUnavailable();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  killWorkers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(unavailable !== null)(`a cluster on PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('shares 20,000 requests among 3 workers, survives kill -9 of one, and keeps the cluster-wide limit', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const fake = await FakeProvider.start({ shape: 'anthropic', latencyMs: 10, apiKey: UPSTREAM_KEY, record: false });
    cleanups.push(() => fake.close());
    const backend = ['--backend', 'anthropic', '--backend-url', fake.url];
    const shared = ['--db', database.url, ...backend, '--concurrency', '16', '--cluster-concurrency', '24', '--lease', '3s', '--maintenance-interval', '300ms'];

    const apiNode = await startServer({ flags: { db: database.url, 'no-engine': true, backend: 'anthropic', 'backend-url': fake.url }, env: { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY } });
    cleanups.push(async () => void (await apiNode.stop()));
    const client = api(apiNode.url);
    const nodes = await Promise.all([1, 2, 3].map(() => startWorker(shared, WORKER_ENV)));

    const sizes = [8000, 6000, 4000, 2000];
    const batches: MessageBatch[] = [];
    for (const [index, size] of sizes.entries()) batches.push(await createBatch(client, userRequests(size, `b${index}`)));
    // The API node runs no engine: its follow stream finds the workers' results by polling.
    const followed = followResults(apiNode.url, batches[1]!.id);
    await pollUntil(() => retrieveBatch(client, batches[0]!.id), (b) => b.request_counts.succeeded > 1000, { timeoutMs: 120_000 });
    nodes[0]!.kill('SIGKILL');

    for (const [index, batch] of batches.entries()) {
      const ended = await waitUntilEnded(client, batch.id, sizes[index]!, { timeoutMs: 240_000 });
      expect(ended.request_counts.succeeded).toBe(sizes[index]);
      const results = await fetchResults(client, ended);
      expect(results).toHaveLength(sizes[index]!);
      resultsById(results, userRequests(sizes[index]!, `b${index}`).map((r) => r.custom_id));
    }
    resultsById(await followed, userRequests(sizes[1]!, 'b1').map((r) => r.custom_id));
    expect(fake.maxInFlight).toBeLessThanOrEqual(24);
    expect(fake.maxInFlight).toBeGreaterThan(16);
  }, 300_000);
});
