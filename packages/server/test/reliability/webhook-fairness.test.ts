import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../test-support/postgres/test-database.js';
import type { Api } from '../../test-support/api/api.js';
import { createBatch, expectApiError, pollUntil, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { createKey, withKey } from '../../test-support/api/keys.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { WebhookReceiver, type Answer } from '../../test-support/fakes/webhook-receiver.js';

/**
 * Webhooks stay fair and safe against receivers that misbehave, on both stores: a workspace whose
 * 20 endpoints never answer cannot delay another workspace's event, an endpoint that keeps failing
 * is paused, and one whose receiver answers `410 Gone` is disabled.
 */

const unavailable = postgresUnavailable();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const FLAGS = { auth: 'keys', 'maintenance-interval': '100ms', 'log-level': 'error' };

/** A running server on `store` (`sqlite`, or a fresh PostgreSQL database) and the `--db` its keys are made with. */
async function serverOn(store: string, flags: Record<string, string>): Promise<{ server: ServerHandle; db: string }> {
  let database: TestDatabase | undefined;
  if (store === 'postgres') {
    database = await createTestDatabase();
    cleanups.push(() => database!.drop());
  }
  const server = await startServer({ flags: { ...FLAGS, ...flags, ...(database ? { db: database.url } : {}) } });
  cleanups.push(() => server.stop());
  return { server, db: database?.url ?? server.dbPath };
}

async function receiver(answer: Answer): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(() => answer);
  cleanups.push(() => started.close());
  return started;
}

async function register(client: Api, url: string): Promise<WebhookEndpoint> {
  const created = await client.post('/v1/batchd/webhooks', { url });
  expect(created.status, created.text).toBe(200);
  return created.body as WebhookEndpoint;
}

const deliveriesOf = async (client: Api, endpoint: WebhookEndpoint): Promise<WebhookDelivery[]> =>
  (await client.get(`/v1/batchd/webhooks/${endpoint.id}/deliveries?limit=100`)).body.data as WebhookDelivery[];

const endpointOf = async (client: Api, endpoint: WebhookEndpoint): Promise<WebhookEndpoint> =>
  (await client.get(`/v1/batchd/webhooks/${endpoint.id}`)).body as WebhookEndpoint;

async function endedBatch(client: Api, prefix: string): Promise<string> {
  const batch = await createBatch(client, userRequests(1, prefix));
  await waitUntilEnded(client, batch.id, 1);
  return batch.id;
}

describe.each(['sqlite', 'postgres'])('webhook fairness on %s', (store) => {
  it.skipIf(store === 'postgres' && unavailable !== null)('delivers a workspace’s event while another’s 20 endpoints hold every attempt unanswered', async () => {
    const { server, db } = await serverOn(store, { 'webhook-timeout': '60s' });
    const a = withKey(server.url, createKey(db, 'team-a').key);
    const b = withKey(server.url, createKey(db, 'team-b').key);
    const silent = await receiver('hold');
    const prompt = await receiver(200);
    const dead: WebhookEndpoint[] = [];
    for (let i = 0; i < 20; i++) dead.push(await register(a, `${silent.url}/${i}`));
    const live = await register(b, prompt.url);

    await endedBatch(a, 'a');
    // Workspace a's share of attempts is in flight, each held for up to a minute.
    await silent.waitForRequests(4, "workspace a's first attempts");
    const bBatch = await endedBatch(b, 'b');
    const [delivered] = await pollUntil(
      () => deliveriesOf(b, live),
      (list) => list[0]?.status === 'delivered',
      { what: "workspace b's event delivered", timeoutMs: 30_000 },
    );
    expect(delivered!.batch_id).toBe(bBatch);
    expect(prompt.received).toHaveLength(1);
    // a's 20 events: 4 attempts held open, 16 not yet tried; none was let past its share.
    expect(silent.received).toHaveLength(4);
    expect(silent.open).toBe(4);
    const attempts = (await Promise.all(dead.map((endpoint) => deliveriesOf(a, endpoint)))).map((list) => list.map((d) => d.attempts));
    expect(attempts.flat().sort()).toEqual([...new Array(16).fill(0), 1, 1, 1, 1]);
  });

  it.skipIf(store === 'postgres' && unavailable !== null)('pauses an endpoint that keeps failing and disables one whose receiver is gone', async () => {
    // Retries slowed down: in this test no delivery is retried, and a pause lasts ten minutes.
    const { server, db } = await serverOn(store, { 'webhook-timeout': '10s', 'webhook-retry-base': '50s' });
    const client = withKey(server.url, createKey(db, 'team').key);
    const [failing, gone, healthy] = [await receiver(500), await receiver(410), await receiver(204)];
    const flaky = await register(client, failing.url);
    const goneEndpoint = await register(client, gone.url);
    const good = await register(client, healthy.url);

    const first = await endedBatch(client, 'first');
    const disabled = await pollUntil(() => endpointOf(client, goneEndpoint), (e) => e.disabled_at !== null, { what: 'the endpoint disabled' });
    expect(gone.received).toHaveLength(1);
    const [goneDelivery] = await deliveriesOf(client, goneEndpoint);
    expect(goneDelivery).toMatchObject({ batch_id: first, status: 'failed', last_status_code: 410 });
    expect(expectApiError(await client.post(`/v1/batchd/webhooks/${goneEndpoint.id}/deliveries/${goneDelivery!.id}/retry`), 400, 'invalid_request_error').message).toMatch(
      /disabled/,
    );
    expect((await client.get('/v1/batchd/webhooks')).body.data).toContainEqual(disabled);

    for (let i = 2; i <= 5; i++) await endedBatch(client, `batch${i}`);
    const paused = await pollUntil(() => endpointOf(client, flaky), (e) => e.consecutive_failures === 5, { what: 'five failures in a row' });
    expect(paused.paused_until).not.toBeNull();
    expect(failing.received).toHaveLength(5);

    // The sixth event: the healthy endpoint's delivery and the paused one's were due in the same
    // claim, so once the first is delivered the second would have been attempted too, were it not paused.
    const sixth = await endedBatch(client, 'sixth');
    await pollUntil(() => deliveriesOf(client, good), (list) => list[0]?.batch_id === sixth && list[0].status === 'delivered', { what: 'the sixth event delivered' });
    const [waiting] = await deliveriesOf(client, flaky);
    expect(waiting).toMatchObject({ batch_id: sixth, status: 'pending', attempts: 0 });
    expect(failing.received).toHaveLength(5);
    expect(await deliveriesOf(client, goneEndpoint)).toHaveLength(1);
    expect(gone.received).toHaveLength(1);
    expect(healthy.received).toHaveLength(6);
  });
});
