import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from './support/api.js';
import { createBatch, expectApiError, pollUntil, userRequests, waitUntilEnded } from './support/batches.js';
import { startServer, type ServerHandle } from './support/server-process.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * `--webhook-targets public`, through the process: endpoints on this host or a private network are
 * refused when registered, and one registered before the policy was tightened is never called.
 */

const servers: ServerHandle[] = [];
let receiver: WebhookReceiver | undefined;
afterAll(async () => {
  for (const server of servers) await server.stop();
  await receiver?.close();
});

const FLAGS = { 'maintenance-interval': '100ms', 'webhook-timeout': '2s', 'log-level': 'error' };
const ENV = { BATCHD_WEBHOOK_RETRY_SCALE: '0.0002' };

describe('webhook targets', () => {
  it('sends webhooks to public addresses only when told to', async () => {
    receiver = await WebhookReceiver.start();
    const open = await startServer({ flags: { ...FLAGS, 'webhook-targets': 'any' }, env: ENV });
    servers.push(open);
    const registered = await api(open.url).post('/v1/batchd/webhooks', { url: receiver.url });
    expect(registered.status, registered.text).toBe(200);
    const endpoint = registered.body as WebhookEndpoint;
    await open.stop();

    const strict = await startServer({ flags: { ...FLAGS, 'webhook-targets': 'public' }, env: ENV, dbDir: open.dbDir });
    servers.push(strict);
    const client = api(strict.url);
    for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.7/hook', 'http://localhost:8080/hook']) {
      const refused = await client.post('/v1/batchd/webhooks', { url });
      expect(expectApiError(refused, 400, 'invalid_request_error').message).toMatch(/is not a public address/);
    }

    const batch = await createBatch(client, userRequests(1, 'strict'));
    await waitUntilEnded(client, batch.id, 1);
    const [delivery] = await pollUntil(
      async () => (await client.get(`/v1/batchd/webhooks/${endpoint.id}/deliveries`)).body.data as WebhookDelivery[],
      (list) => list.length === 1 && list[0]!.attempts >= 1,
      { what: 'an attempted delivery' },
    );
    expect(delivery!.status).not.toBe('delivered');
    expect(delivery!.last_error).toMatch(/127\.0\.0\.1 is not a public address/);
    expect(receiver.received).toHaveLength(0);
  });
});
