import type { MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../test-support/api/api.js';
import {
  type BatchRequest,
  MODEL,
  createBatch,
  emulatorReply,
  expectApiError,
  expectBatchInvariants,
  fetchResults,
  parseResults,
  pollUntil,
  resultsById,
  retrieveBatch,
  tally,
  userRequest,
  userRequests,
  waitUntilEnded,
} from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * How batchd processes each request once a batch is created: `params` are checked per request
 * (failures end `errored` with `invalid_request_error`), the emulator answers valid ones, counts
 * move while the batch runs, and results come back as JSONL.
 */

let server: ServerHandle;
let client: Api;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = api(server.url);
});

afterAll(async () => {
  await server.stop();
});

const user = (content: unknown) => ({ role: 'user', content });

/** Each case: params that the Messages API rejects, by name. */
const INVALID_PARAMS: Record<string, Record<string, unknown>> = {
  'missing-model': { max_tokens: 16, messages: [user('hi')] },
  'missing-max_tokens': { model: MODEL, messages: [user('hi')] },
  'missing-messages': { model: MODEL, max_tokens: 16 },
  'max_tokens-zero': { model: MODEL, max_tokens: 0, messages: [user('hi')] },
  'max_tokens-negative': { model: MODEL, max_tokens: -5, messages: [user('hi')] },
  'max_tokens-string': { model: MODEL, max_tokens: '16', messages: [user('hi')] },
  'max_tokens-fraction': { model: MODEL, max_tokens: 1.5, messages: [user('hi')] },
  'model-number': { model: 42, max_tokens: 16, messages: [user('hi')] },
  'messages-empty': { model: MODEL, max_tokens: 16, messages: [] },
  'messages-string': { model: MODEL, max_tokens: 16, messages: 'hi' },
  'first-turn-assistant': { model: MODEL, max_tokens: 16, messages: [{ role: 'assistant', content: 'hi' }] },
  'role-system': { model: MODEL, max_tokens: 16, messages: [user('hi'), { role: 'system', content: 'be brief' }] },
  'role-missing': { model: MODEL, max_tokens: 16, messages: [{ content: 'hi' }] },
  'content-number': { model: MODEL, max_tokens: 16, messages: [user(7)] },
  'stream-true': { model: MODEL, max_tokens: 16, messages: [user('hi')], stream: true },
};

describe('per-request params validation', () => {
  it('ends each invalid request errored with invalid_request_error, and valid ones succeeded', async () => {
    const requests: BatchRequest[] = Object.entries(INVALID_PARAMS).map(([customId, params]) => ({ custom_id: customId, params }));
    const valid = [
      userRequest('valid-plain', 'What is the capital of France?'),
      userRequest('valid-blocks', 'ignored', {
        messages: [user([{ type: 'text', text: 'First block.' }, { type: 'text', text: 'Second block.' }])],
      }),
      userRequest('valid-stream-false', 'Streaming off.', { stream: false }),
      userRequest('valid-prefill', 'unused', { messages: [user('Tell me a story.'), { role: 'assistant', content: 'Once' }] }),
      userRequest('x'.repeat(64), 'A custom_id of 64 characters.'),
    ];
    requests.push(...valid);

    const created = await createBatch(client, requests);
    const ended = await waitUntilEnded(client, created.id, requests.length);
    const invalidCount = Object.keys(INVALID_PARAMS).length;
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: valid.length, errored: invalidCount, canceled: 0, expired: 0 });

    const lines = await fetchResults(client, ended);
    const byId = resultsById(
      lines,
      requests.map((request) => request.custom_id),
    );
    for (const customId of Object.keys(INVALID_PARAMS)) {
      const result = byId.get(customId)!.result;
      expect(result.type, customId).toBe('errored');
      if (result.type !== 'errored') continue;
      expect(result.error.type, customId).toBe('error');
      expect(result.error.error.type, customId).toBe('invalid_request_error');
      expect(result.error.error.message.length, customId).toBeGreaterThan(0);
      expect(result.error.message, customId).toBe(result.error.error.message);
      expect(result.error.request_id, customId).toBeNull();
    }

    const expectedText: Record<string, string> = {
      'valid-plain': emulatorReply('What is the capital of France?'),
      'valid-blocks': emulatorReply('First block.\nSecond block.'),
      'valid-stream-false': emulatorReply('Streaming off.'),
      'valid-prefill': emulatorReply('Tell me a story.'),
      ['x'.repeat(64)]: emulatorReply('A custom_id of 64 characters.'),
    };
    for (const [customId, text] of Object.entries(expectedText)) {
      const result = byId.get(customId)!.result;
      expect(result.type, customId).toBe('succeeded');
      if (result.type !== 'succeeded') continue;
      expect(result.message.model).toBe(MODEL);
      expect(result.message.role).toBe('assistant');
      expect(result.message.content).toEqual([{ type: 'text', text, citations: null }]);
      expect(result.message.stop_reason).toBe('end_turn');
    }
  });
});

describe('emulator error directive', () => {
  it('answers emulator:error=<type> in metadata.user_id with that error', async () => {
    const requests = [
      userRequest('not-found', 'Hello', { metadata: { user_id: 'emulator:error=not_found_error' } }),
      userRequest('permission', 'Hello', { metadata: { user_id: 'emulator:error=permission_error' } }),
      userRequest('invalid', 'Hello', { metadata: { user_id: 'emulator:error=invalid_request_error' } }),
      userRequest('ordinary', 'Hello', { metadata: { user_id: 'user-1234' } }),
    ];
    const ended = await waitUntilEnded(client, (await createBatch(client, requests)).id, requests.length);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 3, canceled: 0, expired: 0 });
    const byId = resultsById(
      await fetchResults(client, ended),
      requests.map((request) => request.custom_id),
    );
    const errorTypeOf = (customId: string) => {
      const result = byId.get(customId)!.result;
      return result.type === 'errored' ? result.error.error.type : `not errored: ${result.type}`;
    };
    expect(errorTypeOf('not-found')).toBe('not_found_error');
    expect(errorTypeOf('permission')).toBe('permission_error');
    expect(errorTypeOf('invalid')).toBe('invalid_request_error');
    expect(byId.get('ordinary')!.result.type).toBe('succeeded');
  });
});

describe('live request counts', () => {
  let slow: ServerHandle;

  beforeAll(async () => {
    slow = await startServer({ flags: { 'log-level': 'warn', 'emulator-latency-ms': 100, concurrency: 2 } });
  });

  afterAll(async () => {
    await slow.stop();
  });

  it('moves request_counts while the batch runs, always summing to N', async () => {
    const slowClient = api(slow.url);
    const n = 30;
    const created = await createBatch(slowClient, userRequests(n, 'live'));
    const seen: MessageBatch[] = [];
    const ended = await pollUntil(
      async () => {
        const batch = await retrieveBatch(slowClient, created.id);
        expectBatchInvariants(batch, n);
        seen.push(batch);
        return batch;
      },
      (batch) => batch.processing_status === 'ended',
      { what: 'the slow batch to end' },
    );
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: n, errored: 0, canceled: 0, expired: 0 });
    const partial = seen.filter(
      (batch) => batch.processing_status === 'in_progress' && batch.request_counts.succeeded > 0 && batch.request_counts.processing > 0,
    );
    expect(partial.length, 'observations with some requests done and some processing').toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.request_counts.succeeded).toBeGreaterThanOrEqual(seen[i - 1]!.request_counts.succeeded);
      expect(seen[i]!.request_counts.processing).toBeLessThanOrEqual(seen[i - 1]!.request_counts.processing);
    }
  });
});

describe('ended batches', () => {
  it('set ended_at, an absolute results_url on the public URL, and keep created/expires', async () => {
    const created = await createBatch(client, userRequests(3, 'ended'));
    const ended = await waitUntilEnded(client, created.id, 3);
    expect(ended.id).toBe(created.id);
    expect(ended.created_at).toBe(created.created_at);
    expect(ended.expires_at).toBe(created.expires_at);
    expect(ended.results_url).toBe(`${server.url}/v1/messages/batches/${created.id}/results`);
    expect(Date.parse(ended.ended_at!)).toBeGreaterThanOrEqual(Date.parse(created.created_at));
    expect(ended.cancel_initiated_at).toBeNull();
    expect(ended.archived_at).toBeNull();
  });

  it('build results_url from --public-url', async () => {
    const proxied = await startServer({ flags: { 'log-level': 'warn', 'public-url': 'https://batches.example.test/base' } });
    try {
      const proxiedClient = api(proxied.url);
      const created = await createBatch(proxiedClient, userRequests(1, 'public'));
      const ended = await waitUntilEnded(proxiedClient, created.id, 1);
      expect(ended.results_url).toBe(`https://batches.example.test/base/v1/messages/batches/${created.id}/results`);
      // The literal path is served whatever the advertised URL.
      const lines = parseResults(await proxiedClient.get(`/v1/messages/batches/${created.id}/results`));
      expect(lines.map((line) => line.custom_id)).toEqual(['public-0']);
    } finally {
      await proxied.stop();
    }
  });
});

describe('results', () => {
  it('answers 400 invalid_request_error before the batch has ended', async () => {
    const slow = await startServer({ flags: { 'log-level': 'warn', 'emulator-latency-ms': 1000, concurrency: 1 } });
    try {
      const slowClient = api(slow.url);
      const created = await createBatch(slowClient, userRequests(5, 'early'));
      expectApiError(await slowClient.get(`/v1/messages/batches/${created.id}/results`), 400, 'invalid_request_error');
    } finally {
      await slow.stop();
    }
  });

  it('frames results as compact JSONL lines, one per request, each ending in \\n, with no blank lines', async () => {
    const requests = [
      ...userRequests(20, 'framing'),
      userRequest('unicode', 'Grüße — 你好 — 🙂 — "quotes" and \\ backslashes\nand a newline'),
      { custom_id: 'errored-one', params: { model: MODEL, messages: [user('hi')] } },
    ];
    const ended = await waitUntilEnded(client, (await createBatch(client, requests)).id, requests.length);
    const response = await client.get(`/v1/messages/batches/${ended.id}/results`);
    const lines = parseResults(response);
    expect(lines).toHaveLength(requests.length);
    expect(response.text.split('\n')).toHaveLength(requests.length + 1);
    const byId = resultsById(
      lines,
      requests.map((request) => request.custom_id),
    );
    const unicode = byId.get('unicode')!.result;
    expect(unicode.type).toBe('succeeded');
    if (unicode.type === 'succeeded') {
      expect(unicode.message.content).toEqual([
        { type: 'text', text: emulatorReply('Grüße — 你好 — 🙂 — "quotes" and \\ backslashes\nand a newline'), citations: null },
      ]);
    }
    expect(tally(lines)).toEqual({ succeeded: 21, errored: 1, canceled: 0, expired: 0 });
  });

  it('serves the same results on repeated reads', async () => {
    const ended = await waitUntilEnded(client, (await createBatch(client, userRequests(5, 'again'))).id, 5);
    const first = await client.get(`/v1/messages/batches/${ended.id}/results`);
    const second = await client.get(`/v1/messages/batches/${ended.id}/results`);
    parseResults(first);
    const sortLines = (text: string) => text.split('\n').sort();
    expect(sortLines(second.text)).toEqual(sortLines(first.text));
  });
});
