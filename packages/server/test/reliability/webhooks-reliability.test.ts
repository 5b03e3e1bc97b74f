import Database from 'better-sqlite3';
import { verifyWebhook, type WebhookDelivery, type WebhookEndpoint } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../../test-support/api/api.js';
import { createBatch, pollUntil, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { restartServer, startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { WebhookReceiver } from '../../test-support/fakes/webhook-receiver.js';

/** Webhooks never hold up the engine, and an event survives a crash of the process sending it. */

const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function setUp(server: ServerHandle, first: 'hold' | 200): Promise<{ client: Api; hooks: WebhookReceiver; endpoint: WebhookEndpoint }> {
  const hooks = await WebhookReceiver.start((index) => (index === 0 ? first : 200));
  receivers.push(hooks);
  const client = api(server.url);
  const created = await client.post('/v1/batchd/webhooks', { url: hooks.url });
  expect(created.status, created.text).toBe(200);
  return { client, hooks, endpoint: created.body as WebhookEndpoint };
}

/** Ids of the ended batches a stopped server's database has not announced yet. */
function unannounced(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT id FROM batches WHERE status = 'ended' AND announced = 0`).pluck().all() as string[];
  } finally {
    db.close();
  }
}

async function delivered(client: Api, endpointId: string, count: number): Promise<WebhookDelivery[]> {
  return pollUntil(
    async () => (await client.get(`/v1/batchd/webhooks/${endpointId}/deliveries`)).body.data as WebhookDelivery[],
    (list) => list.length === count && list.every((d) => d.status === 'delivered'),
    { what: `${count} delivered webhooks`, timeoutMs: 30_000 },
  );
}

describe('webhooks and the engine', () => {
  it('ends the next batch while a receiver holds the first event unanswered', async () => {
    const server = await startServer({ flags: { 'webhook-timeout': '60s', 'maintenance-interval': '100ms', 'log-level': 'error' } });
    const { client, hooks, endpoint } = await setUp(server, 'hold');
    const first = await createBatch(client, userRequests(2, 'first'));
    await waitUntilEnded(client, first.id, 2);
    await hooks.waitForRequests(1, 'the first event to reach the receiver');
    expect(hooks.open).toBe(1);

    const second = await createBatch(client, userRequests(2, 'second'));
    await waitUntilEnded(client, second.id, 2);
    // The first event is still waiting for its answer (the attempt timeout is a minute away).
    expect(hooks.open).toBeGreaterThanOrEqual(1);
    hooks.release();
    const log = await delivered(client, endpoint.id, 2);
    expect(log.map((d) => d.batch_id).sort()).toEqual([first.id, second.id].sort());
    await server.stop();
  });

  it('announces a batch that ended just before a kill -9, and resends an attempt a kill cut short', async () => {
    // A scan interval of an hour: after the scan at start, none runs before the kill.
    const flags = { 'webhook-timeout': '1s', 'maintenance-interval': '1h', 'log-level': 'error', 'webhook-retry-base': '5ms' };
    let server = await startServer({ flags });
    const { client, hooks, endpoint } = await setUp(server, 'hold');
    const batch = await createBatch(client, userRequests(1, 'crash'));
    await waitUntilEnded(client, batch.id, 1);
    expect((await server.kill()).signal).toBe('SIGKILL');
    expect(unannounced(server.dbPath)).toEqual([batch.id]);
    expect(hooks.received).toEqual([]);

    server = await restartServer(server, { flags: { 'maintenance-interval': '100ms' } });
    await hooks.waitForRequests(1, 'the event to reach the receiver');
    expect((await server.kill()).signal).toBe('SIGKILL');

    server = await restartServer(server);
    const [delivery] = await delivered(api(server.url), endpoint.id, 1);
    expect(delivery!.batch_id).toBe(batch.id);
    // The attempt cut short left no record; its lease lapsed and the restarted process sent it again.
    expect(delivery!.attempt_log[0]!.attempt).toBe(2);
    expect(delivery!.attempt_log.at(-1)!.status_code).toBe(200);
    const [cut, sent] = hooks.received;
    expect(sent!.headers['webhook-id']).toBe(cut!.headers['webhook-id']);
    expect((await verifyWebhook(sent!.body, sent!.headers, endpoint.secret)).data.id).toBe(batch.id);
    console.log(`[reliability] webhooks: 2 kill -9 survived (before the announce, during an attempt); ${hooks.received.length} requests, 1 event delivered, 0 lost`);
    await server.stop();
  });
});
