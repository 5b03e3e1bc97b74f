import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { api } from '../test-support/api/api.js';
import { createBatch, pollUntil, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { startServer } from '../test-support/process/server-process.js';
import { killWorkers, startWorker } from '../test-support/process/worker-process.js';
import { WebhookReceiver } from '../test-support/fakes/webhook-receiver.js';

/** Webhooks sent by several `batchd worker` processes on one PostgreSQL database: each attempt by exactly one of them. */

const unavailable = postgresUnavailable();
/** Retries in milliseconds, so the failed first attempts are sent again at once. */
const WORKER_ENV = { BATCHD_WEBHOOK_RETRY_BASE: '1ms' };
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  killWorkers();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.skipIf(unavailable !== null)(`webhooks from a cluster on PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('sends each attempt of each event once, whichever of three workers claims it', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    // The first attempt of every event fails, so each is claimed twice, possibly by different workers.
    const firstSeen = new Set<string>();
    const hooks = await WebhookReceiver.start((_index, headers) => {
      const id = headers['webhook-id']!;
      if (firstSeen.has(id)) return 200;
      firstSeen.add(id);
      return 503;
    });
    cleanups.push(() => hooks.close());

    const apiNode = await startServer({ flags: { db: database.url, 'no-engine': true, 'log-level': 'warn' } });
    cleanups.push(async () => void (await apiNode.stop()));
    const client = api(apiNode.url);
    const endpoints: WebhookEndpoint[] = [];
    for (let i = 0; i < 2; i++) endpoints.push((await client.post('/v1/batchd/webhooks', { url: `${hooks.url}/${i}` })).body as WebhookEndpoint);
    const shared = ['--db', database.url, '--maintenance-interval', '50ms', '--log-level', 'warn'];
    await Promise.all([1, 2, 3].map(() => startWorker(shared, WORKER_ENV)));

    const batches = [];
    for (let i = 0; i < 12; i++) batches.push(await createBatch(client, userRequests(2, `cluster-hook-${i}`)));
    for (const batch of batches) await waitUntilEnded(client, batch.id, 2);
    for (const endpoint of endpoints) {
      const log = await pollUntil(
        async () => (await client.get(`/v1/batchd/webhooks/${endpoint.id}/deliveries?limit=100`)).body.data as WebhookDelivery[],
        (list) => list.length === batches.length && list.every((d) => d.status === 'delivered'),
        { what: `every event delivered to ${endpoint.url}`, timeoutMs: 60_000 },
      );
      expect(log.map((d) => d.batch_id).sort()).toEqual(batches.map((b) => b.id).sort());
      for (const delivery of log) expect(delivery.attempt_log.map((a) => [a.attempt, a.status_code])).toEqual([[1, 503], [2, 200]]);
    }
    const perEvent = new Map<string, number>();
    for (const request of hooks.received) perEvent.set(request.headers['webhook-id']!, (perEvent.get(request.headers['webhook-id']!) ?? 0) + 1);
    expect(perEvent.size).toBe(2 * batches.length);
    expect([...perEvent.values()].every((count) => count === 2)).toBe(true);
  }, 120_000);
});
