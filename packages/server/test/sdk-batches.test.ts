import {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  BatchdClient,
  BatchdError,
  NotFoundError,
  type BatchCreateRequest,
  type MessageBatch,
  type MessageBatchIndividualResponse,
} from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { emulatorReply, expectBatchInvariants, resultsById, tally, userRequest, userRequests } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `client.messages.batches` of our SDK against a running batchd: the six operations and typed errors. */

let server: ServerHandle;
let client: BatchdClient;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY });
});

afterAll(async () => {
  await server.stop();
});

/** The shared request builders, typed for the SDK. */
const request = (...args: Parameters<typeof userRequest>) => userRequest(...args) as BatchCreateRequest;
const requestsOf = (...args: Parameters<typeof userRequests>) => userRequests(...args) as BatchCreateRequest[];
const slow = (customId: string) => request(customId, 'Slowly', { metadata: { user_id: 'emulator:latency=2000' } });

function ended(id: string): Promise<MessageBatch> {
  return client.messages.batches.wait(id, { pollInterval: 50, maxPollInterval: 200 });
}

describe('create, retrieve and results', () => {
  it('creates a batch that is retrievable at once and streams its results once ended', async () => {
    const requests = [...requestsOf(3, 'basic'), request('basic-fail', 'Hi', { metadata: { user_id: 'emulator:error=not_found_error' } })];
    const created = expectSchema<MessageBatch>('MessageBatch', await client.messages.batches.create({ requests }));
    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', results_url: null });
    expectBatchInvariants(created, 4);
    const retrieved = expectSchema<MessageBatch>('MessageBatch', await client.messages.batches.retrieve(created.id));
    expect(retrieved.id).toBe(created.id);

    const done = await ended(created.id);
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 3, errored: 1, canceled: 0, expired: 0 });
    expect(done.results_url).toBe(`${server.url}/v1/messages/batches/${created.id}/results`);

    const lines: MessageBatchIndividualResponse[] = [];
    for await (const line of await client.messages.batches.results(created.id)) {
      lines.push(expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', line));
    }
    const byId = resultsById(lines, requests.map((request) => request.custom_id));
    expect(tally(lines)).toEqual({ succeeded: 3, errored: 1, canceled: 0, expired: 0 });
    const first = byId.get('basic-0')!.result;
    expect(first.type === 'succeeded' && first.message.content).toEqual([{ type: 'text', text: emulatorReply('Say hello to basic-0.'), citations: null }]);
    expect(byId.get('basic-fail')!.result).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'not_found_error' } } });
  });

  it('results() of a batch still running throws before fetching anything', async () => {
    const batch = await client.messages.batches.create({ requests: [slow('early')] });
    const error = await client.messages.batches.results(batch.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BatchdError);
    expect((error as Error).message).toContain('has no results_url');
  });
});

describe('list', () => {
  let ids: string[];

  beforeAll(async () => {
    // Five batches, newest last here; the list answers newest first.
    ids = [];
    for (let i = 0; i < 5; i++) ids.push((await client.messages.batches.create({ requests: requestsOf(1, `list-${i}`) })).id);
  });

  it('pages to older batches with getNextPage() and across all pages with for await', async () => {
    const newestFirst = [...ids].reverse();
    const first = await client.messages.batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual(newestFirst.slice(0, 2));
    expect(first).toMatchObject({ has_more: true, first_id: newestFirst[0], last_id: newestFirst[1] });
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((batch) => batch.id)).toEqual(newestFirst.slice(2, 4));

    const walked: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 2, after_id: newestFirst[0] })) {
      if (batch.id === ids[0]) break;
      walked.push(batch.id);
    }
    expect(walked).toEqual(newestFirst.slice(1, 4));
  });

  it('pages to newer batches from before_id, and stops at the newest', async () => {
    const page = await client.messages.batches.list({ limit: 2, before_id: ids[0] });
    expect(page.data.map((batch) => batch.id)).toEqual([ids[2], ids[1]]);
    const pages: string[][] = [];
    for await (const each of page.iterPages()) pages.push(each.data.map((batch) => batch.id));
    expect(pages).toEqual([[ids[2], ids[1]], [ids[4], ids[3]]]);
    const newest = await client.messages.batches.list({ before_id: ids[3] });
    expect(newest.data.map((batch) => batch.id)).toEqual([ids[4]]);
    expect(newest.hasNextPage()).toBe(false);
  });
});

describe('cancel and delete', () => {
  it('cancels a running batch; requests not sent end canceled', async () => {
    const batch = await client.messages.batches.create({ requests: Array.from({ length: 150 }, (_, i) => slow(`cancel-${i}`)) });
    const canceling = expectSchema<MessageBatch>('MessageBatch', await client.messages.batches.cancel(batch.id));
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const done = await ended(batch.id);
    expectBatchInvariants(done, 150);
    expect(done.request_counts.canceled).toBeGreaterThan(0);
    const results = await client.messages.batches.resultsMap(batch.id);
    expect([...results.values()].filter((result) => result.type === 'canceled')).toHaveLength(done.request_counts.canceled);
  });

  it('deletes an ended batch, which is then not found', async () => {
    const batch = await client.messages.batches.create({ requests: requestsOf(1, 'delete') });
    await ended(batch.id);
    expect(await client.messages.batches.delete(batch.id)).toEqual({ id: batch.id, type: 'message_batch_deleted' });
    await expect(client.messages.batches.retrieve(batch.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('typed errors carry status, type and requestID', () => {
  async function caught(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.unreachable('the call should have failed'),
      (error: unknown) => error,
    );
  }

  it('NotFoundError for an unknown batch', async () => {
    const error = await caught(client.messages.batches.retrieve('msgbatch_nothere'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, type: 'not_found_error' });
    const { requestID } = error as NotFoundError;
    expect(requestID).toMatch(/^req_\w+$/);
    expect((error as NotFoundError).error).toMatchObject({ type: 'error', request_id: requestID });
  });

  it('BadRequestError for a rejected create and for deleting a running batch', async () => {
    const invalid = await caught(client.messages.batches.create({ requests: [request('bad id!')] }));
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect(invalid).toMatchObject({ status: 400, type: 'invalid_request_error', requestID: expect.stringMatching(/^req_/) });

    const running = await client.messages.batches.create({ requests: [slow('running')] });
    const conflict = await caught(client.messages.batches.delete(running.id));
    expect(conflict).toBeInstanceOf(BadRequestError);
    expect((conflict as BadRequestError).requestID).toMatch(/^req_/);
  });

  it('AuthenticationError when the key is empty', async () => {
    const error = await caught(client.messages.batches.list({}, { headers: { 'x-api-key': '' } }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error', requestID: expect.stringMatching(/^req_/) });
  });

  it('APIConnectionError when nothing listens', async () => {
    const gone = await startServer();
    await gone.stop();
    const offline = new BatchdClient({ baseURL: gone.url, apiKey: TEST_API_KEY, maxRetries: 0 });
    const error = await caught(offline.messages.batches.retrieve('msgbatch_x'));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).toMatchObject({ status: undefined, requestID: undefined });
  });
});
