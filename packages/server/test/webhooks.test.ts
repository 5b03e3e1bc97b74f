import { verifyWebhook, type WebhookDelivery, type WebhookEndpoint } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../test-support/api/api.js';
import { createBatch, expectApiError, pollUntil, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { createKey, withKey } from '../test-support/api/keys.js';
import { chatLine, openAIClient, uploadLines, waitForBatch } from '../test-support/api/openai.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';
import { WebhookReceiver, type Answer } from '../test-support/fakes/webhook-receiver.js';

/**
 * Webhooks against a real batchd and real receivers on loopback: the API, signed deliveries
 * checked with the SDK's `verifyWebhook`, and retries. The retry schedule is shortened
 * (`--webhook-retry-base 1ms`) so that four attempts take a few seconds, most of it the hung one.
 */

let server: ServerHandle;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  server = await startServer({
    flags: { auth: 'keys', 'webhook-timeout': '2s', 'maintenance-interval': '100ms', 'log-level': 'error', 'webhook-retry-base': '1ms' },
  });
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(script?: (index: number) => Answer): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(script);
  receivers.push(started);
  return started;
}

/** A key of workspace `name`, made by `batchd keys create`. */
function newKey(name: string): string {
  return createKey(server.dbPath, name).key;
}

/** Raw requests in a workspace of its own, with a key made by `batchd keys create`. */
function workspace(name: string, key = newKey(name)): Api {
  return withKey(server.url, key);
}

async function addEndpoint(client: Api, url: string): Promise<WebhookEndpoint> {
  const response = await client.post('/v1/batchd/webhooks', { url, description: 'test receiver' });
  expect(response.status, response.text).toBe(200);
  return response.body as WebhookEndpoint;
}

async function deliveries(client: Api, endpointId: string): Promise<WebhookDelivery[]> {
  const response = await client.get(`/v1/batchd/webhooks/${endpointId}/deliveries`);
  expect(response.status, response.text).toBe(200);
  return response.body.data as WebhookDelivery[];
}

async function waitForDelivered(client: Api, endpointId: string, count: number): Promise<WebhookDelivery[]> {
  return pollUntil(
    () => deliveries(client, endpointId),
    (list) => list.length === count && list.every((d) => d.status === 'delivered'),
    { what: `${count} delivered webhooks`, timeoutMs: 30_000 },
  );
}

describe('webhook endpoints API', () => {
  it('checks what it is given and keeps each workspace to its own endpoints', async () => {
    const alice = workspace('hooks-alice');
    const bob = workspace('hooks-bob');
    const path = '/v1/batchd/webhooks';
    for (const [json, message] of [
      [{}, '"url": required'],
      [{ url: 'ftp://example.com/hook' }, 'must be http or https, got ftp'],
      [{ url: 'not a url' }, 'is not an absolute URL'],
      [{ url: 'https://user:pw@example.com/' }, 'user name or password'],
      [{ url: 'https://example.com/', description: 7 }, '"description": must be a string'],
      [{ url: 'https://example.com/', description: 'a\u0000b' }, 'must not contain NUL'],
      [{ url: 'https://example.com/', description: 'x'.repeat(501) }, 'at most 500 characters'],
      [{ url: 'https://example.com/', events: ['batch.ended'] }, '"events": unexpected field'],
      [['https://example.com/'], 'must be a JSON object'],
    ] as const) {
      expect(expectApiError(await alice.post(path, json), 400, 'invalid_request_error').message).toContain(message);
    }
    expectApiError(await alice.request('POST', path, { body: '{"url":' }), 400, 'invalid_request_error');

    const endpoint = await addEndpoint(alice, 'https://hooks.example.com/batchd');
    expect(endpoint).toMatchObject({ type: 'webhook_endpoint', url: 'https://hooks.example.com/batchd', description: 'test receiver' });
    expect(endpoint.id).toMatch(/^whep_\w{24}$/);
    expect(Buffer.from(endpoint.secret.replace(/^whsec_/, ''), 'base64').length).toBeGreaterThanOrEqual(24);
    expect((await alice.get(path)).body.data).toEqual([endpoint]);
    expect((await alice.get(`${path}/${endpoint.id}`)).body).toEqual(endpoint);

    expect((await bob.get(path)).body.data).toEqual([]);
    for (const response of [
      await bob.get(`${path}/${endpoint.id}`),
      await bob.delete(`${path}/${endpoint.id}`),
      await bob.get(`${path}/${endpoint.id}/deliveries`),
    ]) {
      expectApiError(response, 404, 'not_found_error');
    }
    expectApiError(await alice.get(`${path}/${endpoint.id}/deliveries?limit=0`), 400, 'invalid_request_error');
    expectApiError(await alice.get(`${path}/${endpoint.id}/deliveries?after_id=%00`), 400, 'invalid_request_error');
    expectApiError(await alice.post(`${path}/${endpoint.id}/deliveries/evt_%00/retry`), 400, 'invalid_request_error');
    expectApiError(await alice.get(`${path}/whep_%00`), 400, 'invalid_request_error');
    expect((await alice.delete(`${path}/${endpoint.id}`)).body).toEqual({ id: endpoint.id, type: 'webhook_endpoint_deleted' });
    expectApiError(await alice.get(`${path}/${endpoint.id}`), 404, 'not_found_error');
  });

  it('keeps a workspace to 20 endpoints, however many creates arrive at once', async () => {
    const carol = workspace('hooks-carol');
    const path = '/v1/batchd/webhooks';
    const answers = await Promise.all(Array.from({ length: 26 }, (_, i) => carol.post(path, { url: `https://hooks.example.com/${i}` })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(20);
    for (const refused of answers.filter((answer) => answer.status !== 200)) {
      expect(expectApiError(refused, 400, 'invalid_request_error').message).toContain('already has 20 webhook endpoints');
    }
    expect((await carol.get(path)).body.data).toHaveLength(20);
  });
});

describe('webhook deliveries', () => {
  it('POSTs a signed batch.ended event that verifyWebhook accepts, to the workspace of the batch only', async () => {
    const team = workspace('hooks-signed');
    const other = workspace('hooks-elsewhere');
    const hooks = await receiver();
    const elsewhere = await receiver();
    const endpoint = await addEndpoint(team, hooks.url);
    await addEndpoint(other, elsewhere.url);

    const batch = await createBatch(team, userRequests(2, 'signed'));
    await waitUntilEnded(team, batch.id, 2);
    const [request] = await hooks.waitForRequests(1);
    const event = await verifyWebhook(request!.body, request!.headers, endpoint.secret);
    expect(event.type).toBe('batch.ended');
    expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(event.data).toEqual((await team.get(`/v1/messages/batches/${batch.id}`)).body);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/batchd/);
    await expect(verifyWebhook(request!.body, request!.headers, (await addEndpoint(team, hooks.url)).secret)).rejects.toThrow('No v1 signature');

    const [delivery] = await waitForDelivered(team, endpoint.id, 1);
    expect(delivery).toMatchObject({ id: request!.headers['webhook-id'], event_type: 'batch.ended', batch_id: batch.id, attempts: 1, last_status_code: 200 });
    expect(delivery!.attempt_log).toEqual([{ attempt: 1, attempted_at: expect.any(String), status_code: 200, error: null }]);
    expect(elsewhere.received).toEqual([]);
  });

  it("announces an OpenAI batch's final status with OpenAI's batch object", async () => {
    const key = newKey('hooks-openai');
    const team = workspace('hooks-openai', key);
    const openai = openAIClient(server.url, key);
    const hooks = await receiver();
    const endpoint = await addEndpoint(team, hooks.url);

    const good = await uploadLines(openai, [chatLine('a', 'Hello'), chatLine('b', 'Again')]);
    const completed = await openai.batches.create({ input_file_id: good.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitForBatch(openai, completed.id);
    const bad = await uploadLines(openai, ['not json']);
    const failed = await openai.batches.create({ input_file_id: bad.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(failed.status).toBe('failed');

    const requests = await hooks.waitForRequests(2);
    const events = await Promise.all(requests.map((request) => verifyWebhook(request.body, request.headers, endpoint.secret)));
    const byBatch = new Map(events.map((event) => [(event.data as { id: string }).id, event]));
    expect(byBatch.get(completed.id)).toMatchObject({ type: 'batch.completed', data: { object: 'batch', status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } } });
    expect(byBatch.get(failed.id)).toMatchObject({ type: 'batch.failed', data: { object: 'batch', status: 'failed' } });
    expect(byBatch.get(completed.id)!.data).toEqual(JSON.parse(JSON.stringify(await openai.batches.retrieve(completed.id))));
  });

  it('retries a receiver that answers 500, drops the connection and hangs, and logs every attempt', async () => {
    const team = workspace('hooks-retries');
    const script: Answer[] = [500, 'drop', 'hold'];
    const hooks = await receiver((index) => script[index] ?? 204);
    const endpoint = await addEndpoint(team, hooks.url);

    const batch = await createBatch(team, userRequests(1, 'retried'));
    await waitUntilEnded(team, batch.id, 1);
    const [delivery] = await waitForDelivered(team, endpoint.id, 1);
    expect(delivery!.attempt_log.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, 'the receiver answered HTTP 500'],
      [2, null, expect.stringMatching(/^connection failed: /)],
      [3, null, 'no answer within 2000 ms'],
      [4, 204, null],
    ]);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 204, last_error: null, next_attempt_at: null });
    // Every attempt carries the same webhook-id, signed afresh.
    expect(hooks.received.map((r) => r.headers['webhook-id'])).toEqual(Array(4).fill(delivery!.id));
    for (const request of hooks.received) await verifyWebhook(request.body, request.headers, endpoint.secret);
    hooks.release();

    // A delivered event can be sent again on request.
    const retried = await team.post(`/v1/batchd/webhooks/${endpoint.id}/deliveries/${delivery!.id}/retry`);
    expect(retried.body).toMatchObject({ id: delivery!.id, status: 'pending' });
    await hooks.waitForRequests(5);
    await pollUntil(() => deliveries(team, endpoint.id), ([d]) => d?.status === 'delivered' && d.attempts === 5, { what: 'the retried delivery' });
  });
});
