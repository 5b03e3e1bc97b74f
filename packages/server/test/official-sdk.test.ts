import Anthropic from '@anthropic-ai/sdk';
import type { DeletedMessageBatch, MessageBatch, MessageBatchIndividualResponse } from '@batchd/sdk';
import AnthropicV0 from 'anthropic-sdk-0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../test-support/api/api.js';
import { MODEL, emulatorReply, pollUntil, userRequest, userRequests } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';

/**
 * The official TypeScript SDK, unchanged, pointed at batchd with `baseURL`: the 1.x line (which
 * authenticates with `Authorization: Bearer`) and the 0.x line (`x-api-key`). Every operation of
 * `client.messages.batches` is driven and every object it hands back is checked against the
 * OpenAPI schemas.
 */

/** The part of `client.messages.batches` used here, common to both SDK lines. */
interface BatchesResource {
  create(body: { requests: Array<{ custom_id: string; params: Record<string, unknown> }> }): Promise<MessageBatch>;
  retrieve(id: string): Promise<MessageBatch>;
  list(
    query?: { limit?: number },
    options?: { headers?: Record<string, string | null> },
  ): Promise<{ data: MessageBatch[]; has_more: boolean; first_id: string | null; last_id: string | null }> &
    AsyncIterable<MessageBatch>;
  cancel(id: string): Promise<MessageBatch>;
  delete(id: string): Promise<DeletedMessageBatch>;
  results(id: string): Promise<AsyncIterable<MessageBatchIndividualResponse>>;
}

interface ErrorClasses {
  APIError: abstract new (...args: never[]) => Error;
  BadRequestError: abstract new (...args: never[]) => Error;
  AuthenticationError: abstract new (...args: never[]) => Error;
  NotFoundError: abstract new (...args: never[]) => Error;
}

interface SdkLine {
  name: string;
  connect(url: string): BatchesResource;
  /** `client.beta.messages.batches`: the same calls on `?beta=true` paths with an `anthropic-beta` header. */
  connectBeta(url: string): BatchesResource;
  errors: ErrorClasses;
}

const SDK_LINES: SdkLine[] = [
  {
    name: '@anthropic-ai/sdk 1.x',
    connect: (url) => new Anthropic({ baseURL: url, apiKey: 'test-key' }).messages.batches as unknown as BatchesResource,
    connectBeta: (url) => new Anthropic({ baseURL: url, apiKey: 'test-key' }).beta.messages.batches as unknown as BatchesResource,
    errors: Anthropic,
  },
  {
    name: '@anthropic-ai/sdk 0.x',
    connect: (url) => new AnthropicV0({ baseURL: url, apiKey: 'test-key' }).messages.batches as unknown as BatchesResource,
    connectBeta: (url) => new AnthropicV0({ baseURL: url, apiKey: 'test-key' }).beta.messages.batches as unknown as BatchesResource,
    errors: AnthropicV0,
  },
];

/** What the SDK's APIError exposes, read the same way on both lines. */
interface SdkApiError {
  status: number;
  requestID: string | null | undefined;
  headers: Headers;
  error: unknown;
}

/** Runs `call`, expecting it to throw the SDK error class `errorClass`; checks the error's body and request id. */
async function expectSdkError(call: () => Promise<unknown>, errorClass: ErrorClasses[keyof ErrorClasses], status: number, type: string): Promise<void> {
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${errorClass.name}`).toBeInstanceOf(errorClass);
  const error = caught as SdkApiError;
  expect(error.status).toBe(status);
  expect(error.requestID).toMatch(/^req_/);
  expect(error.requestID).toBe(error.headers.get('request-id'));
  const body = expectSchema<{ error: { type: string }; request_id: string | null }>('ErrorResponse', error.error);
  expect(body.error.type).toBe(type);
  expect(body.request_id).toBe(error.requestID);
}

const postgresMissing = postgresUnavailable();
/** Every conformance test runs against batchd on each store. */
const STORES = [
  { store: 'SQLite', database: async (): Promise<TestDatabase | null> => null },
  { store: 'PostgreSQL', database: (): Promise<TestDatabase | null> => createTestDatabase() },
].filter((entry) => entry.store === 'SQLite' || postgresMissing === null);
const CASES = SDK_LINES.flatMap((line) => STORES.map((store) => ({ ...line, ...store })));

describe.each(CASES)('$name against batchd on $store', (line) => {
  let server: ServerHandle;
  let batches: BatchesResource;
  let database: TestDatabase | null;

  beforeAll(async () => {
    database = await line.database();
    // Slow enough that a batch of 20 is still running when it is canceled right after create.
    const flags = { 'log-level': 'warn', 'emulator-latency-ms': 200, concurrency: 2, ...(database ? { db: database.url } : {}) };
    server = await startServer({ flags });
    batches = line.connect(server.url);
  });

  afterAll(async () => {
    await server.stop();
    await database?.drop();
  });

  const created: MessageBatch[] = [];
  const requestsOf = (index: number) => [
    userRequest(`b${index}-greeting`, `Hello from batch ${index}!`),
    userRequest(`b${index}-question`, `What is ${index} + ${index}?`),
    userRequest(`b${index}-invalid`, 'unused', { max_tokens: 0 }),
  ];

  it('creates batches', async () => {
    for (let i = 0; i < 5; i++) {
      const batch = expectSchema<MessageBatch>('MessageBatch', await batches.create({ requests: requestsOf(i) }));
      expect(batch.processing_status).toBe('in_progress');
      expect(batch.request_counts).toEqual({ processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
      created.push(batch);
    }
    expect(new Set(created.map((batch) => batch.id)).size).toBe(5);
  });

  it('retrieves each batch at once', async () => {
    for (const batch of created) {
      const retrieved = expectSchema<MessageBatch>('MessageBatch', await batches.retrieve(batch.id));
      expect(retrieved.id).toBe(batch.id);
      expect(retrieved.created_at).toBe(batch.created_at);
    }
  });

  it('lists every batch newest first, two per page, with for await', async () => {
    const seen: MessageBatch[] = [];
    for await (const batch of batches.list({ limit: 2 })) seen.push(expectSchema<MessageBatch>('MessageBatch', batch));
    expect(seen.map((batch) => batch.id)).toEqual(created.map((batch) => batch.id).reverse());
    for (let i = 1; i < seen.length; i++) {
      expect(Date.parse(seen[i - 1]!.created_at)).toBeGreaterThanOrEqual(Date.parse(seen[i]!.created_at));
    }

    const page = await batches.list({ limit: 2 });
    const { data, has_more, first_id, last_id } = page;
    expectSchema('ListResponse_MessageBatch_', { data, has_more, first_id, last_id });
    expect(data.map((batch) => batch.id)).toEqual([created[4]!.id, created[3]!.id]);
    expect(has_more).toBe(true);
    expect(first_id).toBe(created[4]!.id);
    expect(last_id).toBe(created[3]!.id);
  });

  it('polls each batch until ended and streams its results', async () => {
    for (const [index, batch] of created.entries()) {
      const ended = await pollUntil(
        async () => expectSchema<MessageBatch>('MessageBatch', await batches.retrieve(batch.id)),
        (current) => current.processing_status === 'ended',
        { what: `batch ${batch.id} to end` },
      );
      expect(ended.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
      expect(ended.results_url).toBe(`${server.url}/v1/messages/batches/${batch.id}/results`);

      const results = new Map<string, MessageBatchIndividualResponse>();
      for await (const result of await batches.results(batch.id)) {
        expectSchema('MessageBatchIndividualResponse', result);
        expect(results.has(result.custom_id), `${result.custom_id} appears once`).toBe(false);
        results.set(result.custom_id, result);
      }
      expect([...results.keys()].sort()).toEqual(requestsOf(index).map((request) => request.custom_id).sort());

      const expectedText: Record<string, string> = {
        [`b${index}-greeting`]: emulatorReply(`Hello from batch ${index}!`),
        [`b${index}-question`]: emulatorReply(`What is ${index} + ${index}?`),
      };
      for (const [customId, text] of Object.entries(expectedText)) {
        const result = results.get(customId)!.result;
        expect(result.type).toBe('succeeded');
        if (result.type !== 'succeeded') continue;
        expect(result.message.model).toBe(MODEL);
        expect(result.message.content).toEqual([{ type: 'text', text, citations: null }]);
      }
      const invalid = results.get(`b${index}-invalid`)!.result;
      expect(invalid.type).toBe('errored');
      if (invalid.type === 'errored') expect(invalid.error.error.type).toBe('invalid_request_error');
    }
  });

  it('cancels a running batch', async () => {
    const batch = await batches.create({ requests: userRequests(20, 'to-cancel') });
    // Running: one request done, two in flight, the rest queued (a cancel that finds none in flight ends the batch at once).
    await pollUntil(() => batches.retrieve(batch.id), (current) => current.request_counts.succeeded > 0, { what: `batch ${batch.id} to run` });
    const canceling = expectSchema<MessageBatch>('MessageBatch', await batches.cancel(batch.id));
    expect(canceling.id).toBe(batch.id);
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();

    const ended = await pollUntil(
      async () => expectSchema<MessageBatch>('MessageBatch', await batches.retrieve(batch.id)),
      (current) => current.processing_status === 'ended',
      { what: `batch ${batch.id} to end after cancel` },
    );
    expect(ended.request_counts.canceled).toBeGreaterThan(0);
    expect(ended.request_counts.canceled + ended.request_counts.succeeded).toBe(20);
    const types = new Map<string, string>();
    for await (const result of await batches.results(batch.id)) {
      expectSchema('MessageBatchIndividualResponse', result);
      types.set(result.custom_id, result.result.type);
    }
    expect(types.size).toBe(20);
    expect([...types.values()].filter((type) => type === 'canceled')).toHaveLength(ended.request_counts.canceled);

    await expectSdkError(() => batches.cancel(batch.id), line.errors.BadRequestError, 400, 'invalid_request_error');
  });

  it('deletes an ended batch, which then surfaces as NotFoundError', async () => {
    const victim = created[0]!;
    const deleted = expectSchema<DeletedMessageBatch>('DeleteMessageBatchResponse', await batches.delete(victim.id));
    expect(deleted).toEqual({ id: victim.id, type: 'message_batch_deleted' });
    await expectSdkError(() => batches.retrieve(victim.id), line.errors.NotFoundError, 404, 'not_found_error');
    await expectSdkError(() => batches.delete(victim.id), line.errors.NotFoundError, 404, 'not_found_error');
    await expectSdkError(() => batches.cancel(victim.id), line.errors.NotFoundError, 404, 'not_found_error');
    const remaining: string[] = [];
    for await (const batch of batches.list({ limit: 2 })) remaining.push(batch.id);
    expect(remaining).not.toContain(victim.id);
  });

  it('surfaces create-time rejections and business-rule conflicts as BadRequestError', async () => {
    await expectSdkError(() => batches.create({ requests: [] }), line.errors.BadRequestError, 400, 'invalid_request_error');
    await expectSdkError(
      () => batches.create({ requests: [userRequest('same'), userRequest('same')] }),
      line.errors.BadRequestError,
      400,
      'invalid_request_error',
    );
    const running = await batches.create({ requests: userRequests(20, 'undeletable') });
    await expectSdkError(() => batches.delete(running.id), line.errors.BadRequestError, 400, 'invalid_request_error');
    await batches.cancel(running.id);
  });

  it('serves the beta namespace: create, retrieve, list, results, cancel, delete', async () => {
    const beta = line.connectBeta(server.url);
    const batch = expectSchema<MessageBatch>('MessageBatch', await beta.create({ requests: [userRequest('beta-1', 'Beta hello.')] }));
    const ended = await pollUntil(
      async () => expectSchema<MessageBatch>('MessageBatch', await beta.retrieve(batch.id)),
      (current) => current.processing_status === 'ended',
      { what: `beta batch ${batch.id} to end` },
    );
    expect(ended.request_counts.succeeded).toBe(1);
    const listed: string[] = [];
    for await (const item of beta.list({ limit: 3 })) listed.push(expectSchema<MessageBatch>('MessageBatch', item).id);
    expect(listed[0]).toBe(batch.id);
    const results: MessageBatchIndividualResponse[] = [];
    for await (const result of await beta.results(batch.id)) results.push(expectSchema('MessageBatchIndividualResponse', result));
    expect(results.map((result) => result.custom_id)).toEqual(['beta-1']);
    const first = results[0]!.result;
    expect(first.type === 'succeeded' ? first.message.content : first).toEqual([
      { type: 'text', text: emulatorReply('Beta hello.'), citations: null },
    ]);
    expect(expectSchema('DeleteMessageBatchResponse', await beta.delete(batch.id))).toEqual({ id: batch.id, type: 'message_batch_deleted' });

    const running = await beta.create({ requests: userRequests(20, 'beta-cancel') });
    const canceling = expectSchema<MessageBatch>('MessageBatch', await beta.cancel(running.id));
    // A cancel that comes before the engine has sent any request ends the batch at once.
    expect(['canceling', 'ended']).toContain(canceling.processing_status);
    expect(canceling.request_counts.canceled).toBeGreaterThan(0);
  });

  it('surfaces an empty key as AuthenticationError', async () => {
    // Both SDK lines refuse to send without credentials; an explicit empty x-api-key with the
    // Authorization header removed reaches the server as a request whose key is empty.
    await expectSdkError(
      () => batches.list({}, { headers: { 'X-Api-Key': '', Authorization: null } }),
      line.errors.AuthenticationError,
      401,
      'authentication_error',
    );
    const raw = await api(server.url).get('/v1/messages/batches', { headers: { 'x-api-key': '' } });
    expect(raw.status).toBe(401);
  });
});
