import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../test-support/api/api.js';
import { createBatch, expectApiError, pollUntil, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';
import { isPublicAddress } from '../src/webhooks/public-address.js';
import { WebhookReceiver } from '../test-support/fakes/webhook-receiver.js';

/**
 * `--webhook-targets public`, through the process: endpoints on this host, a private network or any
 * special-purpose range are refused when registered, and ones registered before the policy was
 * tightened are never called, their logs not showing the address a name resolved to.
 */

const servers: ServerHandle[] = [];
let receiver: WebhookReceiver | undefined;
afterAll(async () => {
  for (const server of servers) await server.stop();
  await receiver?.close();
});

const FLAGS = { 'maintenance-interval': '100ms', 'webhook-timeout': '2s', 'log-level': 'error', 'webhook-retry-base': '1ms' };

/** Hosts that reach this machine or a private network: plain ones, and the disguises of the report. */
const REFUSED_HOSTS = [
  '127.0.0.1:9', '[::1]', '169.254.169.254', '10.0.0.7', 'localhost:8080', 'localhost.',
  '[2002:7f00:1::]', '[::ffff:0:7f00:1]', '[64:ff9b:1::a00:1]', '[::7f00:1]', '[fec0::1]', '[100::1]',
  '[64:ff9b::7f00:1]', '[2002:a9fe:a9fe::]', '[::ffff:127.0.0.1]', '[fd00::1]', '192.0.2.1', '0x7f.1',
];

async function deliveryOf(client: Api, endpointId: string): Promise<WebhookDelivery> {
  const [delivery] = await pollUntil(
    async () => (await client.get(`/v1/batchd/webhooks/${endpointId}/deliveries`)).body.data as WebhookDelivery[],
    (list) => list.length === 1 && list[0]!.attempts >= 1,
    { what: 'an attempted delivery' },
  );
  return delivery!;
}

describe('webhook targets', () => {
  it('sends webhooks to public addresses only when told to', async () => {
    receiver = await WebhookReceiver.start();
    const open = await startServer({ flags: { ...FLAGS, 'webhook-targets': 'any' } });
    servers.push(open);
    const registered = await api(open.url).post('/v1/batchd/webhooks', { url: receiver.url });
    expect(registered.status, registered.text).toBe(200);
    const endpoint = registered.body as WebhookEndpoint;
    // This machine's own name resolves to one of its addresses: a private one, which logs must not show.
    const name = hostname();
    const { address: resolved } = await lookup(name);
    expect(isPublicAddress(resolved)).toBe(false);
    const byName = await api(open.url).post('/v1/batchd/webhooks', { url: `http://${name}:${new URL(receiver.url).port}/hooks` });
    expect(byName.status, byName.text).toBe(200);
    await open.stop();

    const strict = await startServer({ flags: { ...FLAGS, 'webhook-targets': 'public' }, dbDir: open.dbDir });
    servers.push(strict);
    const client = api(strict.url);
    for (const host of REFUSED_HOSTS) {
      const refused = await client.post('/v1/batchd/webhooks', { url: `http://${host}/hook` });
      expect(expectApiError(refused, 400, 'invalid_request_error').message, host).toMatch(/is not a public address/);
    }
    expect((await client.get('/v1/batchd/webhooks')).body.data).toHaveLength(2);

    const batch = await createBatch(client, userRequests(1, 'strict'));
    await waitUntilEnded(client, batch.id, 1);
    const literal = await deliveryOf(client, endpoint.id);
    expect(literal.status).not.toBe('delivered');
    expect(literal.last_error).toMatch(/127\.0\.0\.1 is not a public address/);
    const named = await deliveryOf(client, (byName.body as WebhookEndpoint).id);
    expect(named.status).not.toBe('delivered');
    expect(named.last_error).toMatch(new RegExp(`host ${name} resolves to an address that is not public`));
    expect(JSON.stringify(named)).not.toContain(resolved);
    expect(receiver.received).toHaveLength(0);
  });
});
