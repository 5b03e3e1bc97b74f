import { BatchdClient, type BatchCreateRequest, type MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { countsTotal, emulatorReply, resultsById, userRequest, userRequests } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** The SDK helpers (`wait`, `submit`, `resultsMap`, `retryFailed`) against a running batchd. */

let server: ServerHandle;
let client: BatchdClient;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY });
});

afterAll(async () => {
  await server.stop();
});

const fast = { pollInterval: 50, maxPollInterval: 200 };

/** The shared request builders, typed for the SDK. */
const request = (...args: Parameters<typeof userRequest>) => userRequest(...args) as BatchCreateRequest;
const requestsOf = (...args: Parameters<typeof userRequests>) => userRequests(...args) as BatchCreateRequest[];
const failing = (customId: string, errorType = 'not_found_error') =>
  request(customId, 'Hi', { metadata: { user_id: `emulator:error=${errorType}` } });

describe('wait', () => {
  it('polls until the batch has ended, reporting every observation to onProgress', async () => {
    const requests = Array.from({ length: 6 }, (_, i) => request(`wait-${i}`, 'Hi', { metadata: { user_id: `emulator:latency=${(i + 1) * 150}` } }));
    const batch = await client.messages.batches.create({ requests });
    const seen: MessageBatch[] = [];
    const done = await client.messages.batches.wait(batch.id, { ...fast, onProgress: (polled) => seen.push(polled) });
    expect(done.processing_status).toBe('ended');
    expect(done.request_counts.succeeded).toBe(6);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual(done);
    for (const polled of seen) expect(countsTotal(polled)).toBe(6);
    const succeeded = seen.map((polled) => polled.request_counts.succeeded);
    expect(succeeded).toEqual([...succeeded].sort((a, b) => a - b));
  });
});

describe('submit', () => {
  it('splits requests into batches of at most maxRequestsPerBatch and merges their results', async () => {
    const requests = requestsOf(10, 'split');
    const submission = await client.messages.batches.submit(requests, { maxRequestsPerBatch: 4 });
    expect(submission.batches.map(countsTotal)).toEqual([4, 4, 2]);
    expect(submission.ids).toHaveLength(3);
    const endedBatches = await submission.wait(fast);
    expect(endedBatches.every((batch) => batch.processing_status === 'ended')).toBe(true);
    const results = [];
    for await (const item of submission.results(fast)) results.push(item);
    const byId = resultsById(results, requests.map((request) => request.custom_id));
    const item = byId.get('split-7')!.result;
    expect(item.type === 'succeeded' && item.message.content[0]).toMatchObject({ text: emulatorReply('Say hello to split-7.') });
  });

  it('takes an async iterable and splits by size with maxBytesPerBatch', async () => {
    async function* generate(): AsyncGenerator<BatchCreateRequest> {
      for (const request of requestsOf(6, 'bytes')) yield request;
    }
    const oneRequestBytes = JSON.stringify(requestsOf(1, 'bytes')[0]).length;
    const submission = await client.messages.batches.submit(generate(), { maxBytesPerBatch: 15 + 3 * oneRequestBytes + 2 });
    expect(submission.batches.map(countsTotal)).toEqual([3, 3]);
    const results = [];
    for await (const item of submission.results(fast)) results.push(item);
    resultsById(results, requestsOf(6, 'bytes').map((request) => request.custom_id));
  });
});

describe('resultsMap', () => {
  it('keys every result by custom_id', async () => {
    const requests = [...requestsOf(3, 'map'), failing('map-fail')];
    const batch = await client.messages.batches.create({ requests });
    await client.messages.batches.wait(batch.id, fast);
    const map = await client.messages.batches.resultsMap(batch.id);
    expect([...map.keys()].sort()).toEqual(['map-0', 'map-1', 'map-2', 'map-fail']);
    expect(map.get('map-1')).toMatchObject({ type: 'succeeded', message: { type: 'message', role: 'assistant' } });
    expect(map.get('map-fail')).toMatchObject({ type: 'errored', error: { error: { type: 'not_found_error' } } });
  });
});

describe('retryFailed', () => {
  it('resubmits exactly the errored requests, from the original list', async () => {
    const originals = [...requestsOf(3, 'retry'), failing('retry-404'), failing('retry-403', 'permission_error')];
    const batch = await client.messages.batches.create({ requests: originals });
    await client.messages.batches.wait(batch.id, fast);

    const retried = await client.messages.batches.retryFailed(batch.id, originals);
    expect(retried).not.toBeNull();
    expect(countsTotal(retried!)).toBe(2);
    await client.messages.batches.wait(retried!.id, fast);
    const map = await client.messages.batches.resultsMap(retried!.id);
    expect([...map.keys()].sort()).toEqual(['retry-403', 'retry-404']);
  });

  it('resolves with null when no result has the requested types', async () => {
    const originals = requestsOf(2, 'clean');
    const batch = await client.messages.batches.create({ requests: originals });
    await client.messages.batches.wait(batch.id, fast);
    expect(await client.messages.batches.retryFailed(batch.id, originals)).toBeNull();
    expect(await client.messages.batches.retryFailed(batch.id, originals, { types: ['canceled'] })).toBeNull();
  });
});
