import { afterEach, describe, expect, it } from 'vitest';
import { BatchdClient } from '../client.js';
import { NotFoundError } from '../core/error.js';
import { sendError, sendJSON, startFakeAPI, type FakeAPI, type Handler, type RecordedRequest } from '../test-support/fake-api.js';
import type { WebhookDelivery, WebhookEndpoint } from '../webhook-types.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(handler: Handler): Promise<{ client: BatchdClient; requests: RecordedRequest[] }> {
  api = await startFakeAPI(handler);
  return { client: new BatchdClient({ apiKey: 'test-key', baseURL: api.baseURL, sleep: async () => undefined }), requests: api.requests };
}

const endpoint: WebhookEndpoint = {
  id: 'whep_1',
  type: 'webhook_endpoint',
  url: 'https://example.com/hook',
  description: null,
  secret: 'whsec_c2VjcmV0',
  created_at: '2027-01-15T08:00:00.000000Z',
  consecutive_failures: 0,
  paused_until: null,
  disabled_at: null,
};

const delivery = (id: string): WebhookDelivery => ({
  id,
  type: 'webhook_delivery',
  endpoint_id: 'whep_1',
  event_type: 'batch.ended',
  batch_id: 'msgbatch_1',
  status: 'delivered',
  attempts: 1,
  next_attempt_at: null,
  last_status_code: 200,
  last_error: null,
  created_at: '2027-01-15T08:00:00.000000Z',
  delivered_at: '2027-01-15T08:00:01.000000Z',
  attempt_log: [{ attempt: 1, attempted_at: '2027-01-15T08:00:01.000000Z', status_code: 200, error: null }],
});

describe('client.webhooks', () => {
  it('creates, lists, retrieves and deletes endpoints at /v1/batchd/webhooks', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.method === 'POST') return sendJSON(res, 200, endpoint);
      if (req.method === 'DELETE') return sendJSON(res, 200, { id: 'whep_1', type: 'webhook_endpoint_deleted' });
      if (req.path === '/v1/batchd/webhooks') return sendJSON(res, 200, { data: [endpoint] });
      return sendError(res, 404, 'not_found_error', 'No webhook endpoint with id "whep/2".');
    });
    expect(await client.webhooks.create({ url: endpoint.url, description: 'mine' })).toEqual(endpoint);
    expect(await client.webhooks.list()).toEqual([endpoint]);
    await expect(client.webhooks.retrieve('whep/2')).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.webhooks.delete('whep_1')).toEqual({ id: 'whep_1', type: 'webhook_endpoint_deleted' });
    expect(requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'POST /v1/batchd/webhooks {"url":"https://example.com/hook","description":"mine"}',
      'GET /v1/batchd/webhooks ',
      'GET /v1/batchd/webhooks/whep%2F2 ',
      'DELETE /v1/batchd/webhooks/whep_1 ',
    ]);
    expect(requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('pages an endpoint\'s deliveries with after_id and asks for a retry', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.method === 'POST') return sendJSON(res, 200, { ...delivery('evt_2'), status: 'pending' });
      const older = req.query.get('after_id') === 'evt_2';
      const data = older ? [delivery('evt_1')] : [delivery('evt_3'), delivery('evt_2')];
      sendJSON(res, 200, { data, has_more: !older, first_id: data[0]!.id, last_id: data.at(-1)!.id });
    });
    const ids: string[] = [];
    for await (const item of client.webhooks.deliveries('whep_1', { limit: 2 })) ids.push(item.id);
    expect(ids).toEqual(['evt_3', 'evt_2', 'evt_1']);
    expect((await client.webhooks.retryDelivery('whep_1', 'evt_2')).status).toBe('pending');
    expect(requests.map((r) => `${r.method} ${r.path} ${r.query}`)).toEqual([
      'GET /v1/batchd/webhooks/whep_1/deliveries limit=2',
      'GET /v1/batchd/webhooks/whep_1/deliveries limit=2&after_id=evt_2',
      'POST /v1/batchd/webhooks/whep_1/deliveries/evt_2/retry ',
    ]);
  });
});
