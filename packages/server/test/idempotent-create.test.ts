import { spawnSync } from 'node:child_process';
import Anthropic from '@anthropic-ai/sdk';
import type { BatchCreateParams } from '@anthropic-ai/sdk/resources/messages/batches';
import { BatchdClient, type MessageBatch } from '@batchd/sdk';
import AnthropicV0 from 'anthropic-sdk-0';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type ApiResponse } from '../test-support/api/api.js';
import { expectApiError, userRequest, userRequests, type BatchRequest } from '../test-support/api/batches.js';
import { startCreateFaultProxy, type CreateFault, type CreateFaultProxy } from '../test-support/fakes/create-fault-proxy.js';
import { chatLine, uploadLines } from '../test-support/api/openai.js';
import { MAIN_JS, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * A create is made once however often the client sends it: an SDK retry after a lost answer
 * (`x-stainless-retry-count` above 0, same API key, same body) and a repeated `Idempotency-Key`
 * both get the first batch. The official SDKs (and batchd's own) create through a proxy that
 * lets batchd answer, then drops the client's connection or answers 503 instead.
 */

let server: ServerHandle;
let proxy: CreateFaultProxy;
let workspaces = 0;

beforeAll(async () => {
  server = await startServer({ flags: { auth: 'keys' } });
  proxy = await startCreateFaultProxy(server.url);
});

/** A new key, in a fresh workspace unless one is named. */
function newKey(workspace = `team-${workspaces++}`): { key: string; workspace: string } {
  const run = spawnSync(process.execPath, [MAIN_JS, 'keys', 'create', '--workspace', workspace, '--json', '--db', server.dbPath], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return { key: (JSON.parse(run.stdout) as { key: string }).key, workspace };
}

/** A create body as the official SDK's types name it. */
const sdkBody = (requests: BatchRequest[]) => ({ requests }) as unknown as BatchCreateParams;

/** `client.messages.batches` of either SDK line, as far as it is used here. */
interface BatchesCreate {
  create(body: BatchCreateParams): Promise<MessageBatch>;
}

const SDKS = {
  '@anthropic-ai/sdk 1.x': (baseURL: string, apiKey: string) => new Anthropic({ baseURL, apiKey }).messages.batches as unknown as BatchesCreate,
  '@anthropic-ai/sdk 0.x': (baseURL: string, apiKey: string) => new AnthropicV0({ baseURL, apiKey }).messages.batches as unknown as BatchesCreate,
  '@batchd/sdk': (baseURL: string, apiKey: string) => new BatchdClient({ baseURL, apiKey }).messages.batches as unknown as BatchesCreate,
};

/** The ids of the workspace's batches, read from batchd directly. */
async function batchIds(key: string): Promise<string[]> {
  return (await new Anthropic({ baseURL: server.url, apiKey: key }).messages.batches.list({ limit: 100 })).data.map((batch) => batch.id);
}

function postCreate(key: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return api(server.url).post('/v1/messages/batches', body, { headers: { 'x-api-key': key, ...headers } });
}

describe('creates the SDKs retry', () => {
  it.each<[keyof typeof SDKS, CreateFault]>([
    ['@anthropic-ai/sdk 1.x', 'drop'],
    ['@anthropic-ai/sdk 1.x', '503'],
    ['@anthropic-ai/sdk 0.x', 'drop'],
    ['@batchd/sdk', '503'],
  ])('%s whose first create answer is lost (%s) gets the batch batchd made, and only that one', async (sdk, fault) => {
    const { key } = newKey();
    const seenBefore = proxy.creates.length;
    proxy.failNextCreates(fault);
    const batch = await SDKS[sdk](proxy.url, key).create(sdkBody(userRequests(3, 'lost')));
    const seen = proxy.creates.slice(seenBefore);
    expect(seen.map((create) => [create.retryCount, create.status, create.fault])).toEqual([
      ['0', 200, fault],
      ['1', 200, null],
    ]);
    expect(seen[0]!.body.id).toBe(batch.id);
    expect(seen[0]!.headers['idempotent-replayed']).toBeUndefined();
    expect(seen[1]!.headers['idempotent-replayed']).toBe('true');
    expect(batch.request_counts.processing + batch.request_counts.succeeded).toBe(3);
    expect(await batchIds(key)).toEqual([batch.id]);
  });

  it('makes a batch for every create that does not say it is a retry, and matches retries by caller and body', async () => {
    const { key, workspace } = newKey();
    const colleague = newKey(workspace);
    const body = sdkBody([userRequest('twice')]);
    const official = new Anthropic({ baseURL: server.url, apiKey: key }).messages.batches;
    const made = [(await official.create(body)).id, (await official.create(body)).id];
    const plain = await postCreate(key, body);
    expect(plain.status).toBe(200);
    made.push(plain.body.id);
    const retried = await postCreate(key, body, { 'x-stainless-retry-count': '1' });
    expect(retried.body.id).toBe(plain.body.id);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    const otherCaller = await postCreate(colleague.key, body, { 'x-stainless-retry-count': '1' });
    const otherBody = await postCreate(key, { requests: [userRequest('other')] }, { 'x-stainless-retry-count': '2' });
    made.push(otherCaller.body.id, otherBody.body.id);
    expect(new Set(made).size).toBe(5);
    expect((await batchIds(key)).sort()).toEqual(made.sort());
  });
});

describe('Idempotency-Key', () => {
  it('returns the first batch for the same key and body, refuses another body, and is scoped to the workspace', async () => {
    const { key } = newKey();
    const other = newKey();
    const headers = { 'Idempotency-Key': 'order-42' };
    const body = sdkBody(userRequests(2, 'keyed'));
    const client = new Anthropic({ baseURL: proxy.url, apiKey: key }).messages.batches;
    proxy.failNextCreates('drop');
    const first = await client.create(body, { headers });
    const { data: again, response } = await client.create(body, { headers }).withResponse();
    expect(again.id).toBe(first.id);
    expect(response.headers.get('idempotent-replayed')).toBe('true');

    const refused = await client.create(sdkBody(userRequests(3, 'keyed')), { headers }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining(first.id) },
    });

    const elsewhere = await new Anthropic({ baseURL: server.url, apiKey: other.key }).messages.batches.create(body, { headers });
    expect(elsewhere.id).not.toBe(first.id);
    expect(await batchIds(key)).toEqual([first.id]);
    expect(await batchIds(other.key)).toEqual([elsewhere.id]);
  });

  it('must be 1 to 255 printable ASCII characters', async () => {
    const { key } = newKey();
    for (const bad of ['', 'k'.repeat(256), 'tab\there']) {
      const error = expectApiError(await postCreate(key, { requests: userRequests(1, 'bad-key') }, { 'idempotency-key': bad }), 400, 'invalid_request_error');
      expect(error.message).toMatch(/Idempotency-Key/);
    }
    expect((await postCreate(key, { requests: userRequests(1, 'long-key') }, { 'idempotency-key': 'k'.repeat(255) })).status).toBe(200);
    expect(await batchIds(key)).toHaveLength(1);
  });
});

describe('with a queue limit', () => {
  it('answers a retried create with its batch even when a second batch would not fit', async () => {
    // Every call takes a minute, so the first batch's 4 requests stay in the queue of 6.
    const limited = await startServer({ flags: { 'max-queued-requests': 6, 'emulator-latency-ms': 60_000 } });
    const limitedProxy = await startCreateFaultProxy(limited.url);
    const body = sdkBody(userRequests(4, 'limited'));
    limitedProxy.failNextCreates('drop');
    const batch = await new Anthropic({ baseURL: limitedProxy.url, apiKey: 'test-key', maxRetries: 1 }).messages.batches.create(body);
    expect(limitedProxy.creates.map((create) => [create.retryCount, create.status])).toEqual([
      ['0', 200],
      ['1', 200],
    ]);
    expect(limitedProxy.creates[1]!.body.id).toBe(batch.id);
    const another = await api(limited.url).post('/v1/messages/batches', body);
    expectApiError(another, 429, 'rate_limit_error');
  });
});

describe('OpenAI batch creates', () => {
  const create = (client: OpenAI, fileId: string, options?: OpenAI.RequestOptions) =>
    client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' }, options);

  it('the official openai SDK whose first create answer is dropped gets the batch batchd made, and only that one', async () => {
    const { key } = newKey();
    const file = await uploadLines(new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key }), [chatLine('a', 'Hello')]);
    const seenBefore = proxy.creates.length;
    proxy.failNextCreates('drop');
    const batch = await create(new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: key }), file.id);
    const seen = proxy.creates.slice(seenBefore);
    expect(seen.map((seenCreate) => [seenCreate.retryCount, seenCreate.status, seenCreate.fault])).toEqual([
      ['0', 200, 'drop'],
      ['1', 200, null],
    ]);
    expect(seen[0]!.body.id).toBe(batch.id);
    expect(seen[1]!.headers['idempotent-replayed']).toBe('true');
    const listed = await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key }).batches.list();
    expect(listed.data.map((listedBatch) => listedBatch.id)).toEqual([batch.id]);
  });

  it('honours Idempotency-Key: the same body gets the first batch, another body a 400 in OpenAI\'s envelope', async () => {
    const { key } = newKey();
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    const file = await uploadLines(client, [chatLine('a', 'Hello')]);
    const other = await uploadLines(client, [chatLine('b', 'Again')]);
    const headers = { 'Idempotency-Key': 'nightly-run' };
    const first = await create(client, file.id, { headers });
    const again = await create(client, file.id, { headers });
    expect(again.id).toBe(first.id);
    const refused = await create(client, other.id, { headers }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining(first.id) });
    expect((await client.batches.list()).data.map((batch) => batch.id)).toEqual([first.id]);
  });
});
