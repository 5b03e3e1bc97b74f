import { afterEach, describe, expect, it } from 'vitest';
import { BatchdClient } from '../client.js';
import {
  APIConnectionError,
  APIUserAbortError,
  BadRequestError,
  BatchdError,
  InternalServerError,
  NotFoundError,
  SubmitError,
  WaitTimeoutError,
} from '../core/error.js';
import type { Sleep } from '../internal/backoff.js';
import { BatchEmulator, sendError, startFakeAPI, type FakeAPI, type RecordedRequest } from '../test-support/fake-api.js';
import type { BatchCreateParams, BatchCreateRequest, MessageBatch } from '../wire-types.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

interface Setup {
  client: BatchdClient;
  emulator: BatchEmulator;
  requests: RecordedRequest[];
  delays: number[];
}

async function setup(sleep?: Sleep): Promise<Setup> {
  const emulator = new BatchEmulator();
  api = await startFakeAPI(emulator.handle);
  emulator.baseURL = api.baseURL;
  const delays: number[] = [];
  const client = new BatchdClient({
    apiKey: 'k',
    baseURL: api.baseURL,
    maxRetries: 0,
    sleep: sleep ?? (async (ms) => void delays.push(ms)),
  });
  return { client, emulator, requests: api.requests, delays };
}

const request = (customID: string, content = 'hi'): BatchCreateRequest => ({
  custom_id: customID,
  params: { model: 'emulator', max_tokens: 8, messages: [{ role: 'user', content }] },
});
const requestsOf = (count: number, prefix = 'r'): BatchCreateRequest[] =>
  Array.from({ length: count }, (_, i) => request(`${prefix}${i + 1}`));
const createdIDs = (requests: RecordedRequest[]): string[][] =>
  requests
    .filter((r) => r.method === 'POST')
    .map((r) => (JSON.parse(r.body) as BatchCreateParams).requests.map((q) => q.custom_id));

describe('batches.wait', () => {
  it('polls with growing waits until the batch ends, reporting each poll', async () => {
    const { client, emulator, delays } = await setup();
    emulator.pollsUntilEnded = 5;
    const { id } = await client.messages.batches.create({ requests: [request('a')] });
    const seen: string[] = [];
    const ended = await client.messages.batches.wait(id, {
      pollInterval: 100,
      maxPollInterval: 200,
      onProgress: (batch) => seen.push(batch.processing_status),
    });
    expect(ended).toMatchObject({ id, processing_status: 'ended' });
    expect(seen).toEqual(['in_progress', 'in_progress', 'in_progress', 'in_progress', 'ended']);
    expect(delays).toEqual([100, 150, 200, 200]);
  });

  it('defaults to waits from 1 s growing to 10 s', async () => {
    const { client, emulator, delays } = await setup();
    emulator.pollsUntilEnded = 9;
    const { id } = await client.messages.batches.create({ requests: [request('a')] });
    await client.messages.batches.wait(id);
    expect(delays.map(Math.round)).toEqual([1000, 1500, 2250, 3375, 5063, 7594, 10_000, 10_000]);
  });

  it('tolerates transient failures in a row up to the bound', async () => {
    const { client, emulator, requests } = await setup();
    const { id } = await client.messages.batches.create({ requests: [request('a')] });
    const faults = ['503', 'drop', '429'];
    emulator.intercept = (req, res) => {
      if (req.method !== 'GET') return false;
      const fault = faults.shift();
      if (fault === 'drop') res.socket?.destroy();
      else if (fault) sendError(res, Number(fault), 'overloaded_error', 'busy');
      return fault !== undefined;
    };
    await expect(client.messages.batches.wait(id, { maxConsecutiveErrors: 3 })).resolves.toMatchObject({ processing_status: 'ended' });
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(4);
  });

  it('rethrows once transient failures exceed the bound, and other errors at once', async () => {
    const { client, emulator, requests } = await setup();
    emulator.intercept = (req, res) => {
      if (req.method === 'GET' && req.path.endsWith('/flaky')) res.socket?.destroy();
      else if (req.method === 'GET' && req.path.endsWith('/down')) sendError(res, 500, 'api_error', 'down');
      else return false;
      return true;
    };
    await expect(client.messages.batches.wait('flaky', { maxConsecutiveErrors: 2 })).rejects.toBeInstanceOf(APIConnectionError);
    expect(requests).toHaveLength(3);
    await expect(client.messages.batches.wait('down')).rejects.toBeInstanceOf(InternalServerError);
    expect(requests).toHaveLength(3 + 6);
    await expect(client.messages.batches.wait('missing')).rejects.toBeInstanceOf(NotFoundError);
    expect(requests).toHaveLength(3 + 6 + 1);
  });

  it('gives up after its timeout with the last batch seen', async () => {
    const { client, emulator } = await setup();
    emulator.pollsUntilEnded = Infinity;
    const { id } = await client.messages.batches.create({ requests: [request('a')] });
    const error = await client.messages.batches.wait(id, { timeout: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).batch).toMatchObject({ id, processing_status: 'in_progress' });
    expect((error as WaitTimeoutError).message).toBe(`Batch ${id} did not end within 0 ms (last status: in_progress).`);
  });

  it('stops with APIUserAbortError when the signal aborts between polls', async () => {
    const controller = new AbortController();
    const { client, emulator, requests } = await setup(async () => controller.abort());
    emulator.pollsUntilEnded = Infinity;
    const { id } = await client.messages.batches.create({ requests: [request('a')] });
    await expect(client.messages.batches.wait(id, { signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });
});

describe('batches.submit', () => {
  it('splits by request count and returns a handle over every batch', async () => {
    const { client, requests } = await setup();
    const submission = await client.messages.batches.submit(requestsOf(7), { maxRequestsPerBatch: 3 });
    expect(createdIDs(requests)).toEqual([['r1', 'r2', 'r3'], ['r4', 'r5', 'r6'], ['r7']]);
    expect(submission.ids).toEqual(['msgbatch_001', 'msgbatch_002', 'msgbatch_003']);
    expect(submission.batches.map((b) => b.request_counts.processing)).toEqual([3, 3, 1]);
    const body = JSON.parse(requests[0]?.body ?? '') as BatchCreateParams;
    expect(body.requests[0]).toEqual(request('r1'));
  });

  it('splits by serialized bytes, counting multi-byte characters as bytes', async () => {
    const { client, emulator } = await setup();
    const wide = (id: string): BatchCreateRequest => request(id, 'é'.repeat(50));
    const size = Buffer.byteLength(JSON.stringify(wide('w1')));
    const maxBytesPerBatch = 15 + 2 * size + 1;
    const submission = await client.messages.batches.submit(['w1', 'w2', 'w3', 'w4', 'w5'].map(wide), { maxBytesPerBatch });
    expect(submission.batches.map((b) => b.request_counts.processing)).toEqual([2, 2, 1]);
    expect(emulator.createBodyBytes).toEqual([maxBytesPerBatch, maxBytesPerBatch, 15 + size]);
    const tighter = await client.messages.batches.submit(['v1', 'v2', 'v3'].map(wide), { maxBytesPerBatch: maxBytesPerBatch - 1 });
    expect(tighter.batches.map((b) => b.request_counts.processing)).toEqual([1, 1, 1]);
  });

  it('accepts an async iterable', async () => {
    const { client, requests } = await setup();
    async function* generate(): AsyncGenerator<BatchCreateRequest> {
      for (const r of requestsOf(4, 'g')) yield r;
    }
    const submission = await client.messages.batches.submit(generate(), { maxRequestsPerBatch: 2 });
    expect(submission.ids).toHaveLength(2);
    expect(createdIDs(requests)).toEqual([['g1', 'g2'], ['g3', 'g4']]);
  });

  it('rejects bad input before creating anything', async () => {
    const { client, requests } = await setup();
    const batches = client.messages.batches;
    await expect(batches.submit([])).rejects.toThrow('submit() needs at least one request.');
    await expect(batches.submit([request('a'), request('a')])).rejects.toThrow('Duplicate custom_id a');
    await expect(batches.submit([request('has space')])).rejects.toThrow(/Invalid custom_id "has space"/);
    await expect(batches.submit([request('big', 'x'.repeat(500))], { maxBytesPerBatch: 200 })).rejects.toThrow(
      /^Request big is \d+ bytes; no batch of 200 bytes can hold it\.$/,
    );
    await expect(batches.submit([request('a')], { maxRequestsPerBatch: 0 })).rejects.toThrow(BatchdError);
    expect(requests).toHaveLength(0);
  });

  it('reports the batches already created when a later create fails', async () => {
    const { client, emulator } = await setup();
    let creates = 0;
    emulator.intercept = (req, res) => {
      if (req.method !== 'POST' || ++creates < 2) return false;
      sendError(res, 400, 'invalid_request_error', 'rejected');
      return true;
    };
    const error = await client.messages.batches.submit(requestsOf(3), { maxRequestsPerBatch: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitError);
    expect((error as SubmitError).batches.map((b) => b.id)).toEqual(['msgbatch_001']);
    expect((error as SubmitError).cause).toBeInstanceOf(BadRequestError);
    expect((error as SubmitError).message).toBe('submit() stopped after creating 1 batch(es) (msgbatch_001): 400 rejected');
  });

  it('waits for every batch and streams their merged results', async () => {
    const { client, emulator } = await setup();
    emulator.pollsUntilEnded = 2;
    const submission = await client.messages.batches.submit(requestsOf(5), { maxRequestsPerBatch: 2 });
    const progress: string[] = [];
    const ended: MessageBatch[] = await submission.wait({ onProgress: (b) => progress.push(`${b.id}:${b.processing_status}`) });
    expect(ended.map((b) => b.processing_status)).toEqual(['ended', 'ended', 'ended']);
    expect(submission.batches).toEqual(ended);
    expect(progress).toContain('msgbatch_003:ended');
    const ids: string[] = [];
    for await (const result of submission.results()) ids.push(result.custom_id);
    expect(ids).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('streams results of batches that have not ended yet once they do', async () => {
    const { client, emulator } = await setup();
    emulator.pollsUntilEnded = 3;
    const submission = await client.messages.batches.submit(requestsOf(3), { maxRequestsPerBatch: 2 });
    const ids: string[] = [];
    for await (const result of submission.results({ pollInterval: 1 })) ids.push(result.custom_id);
    expect(ids).toEqual(['r1', 'r2', 'r3']);
    expect(submission.batches.map((b) => b.processing_status)).toEqual(['ended', 'ended']);
  });
});

describe('batches.resultsMap and retryFailed', () => {
  const outcome = (customID: string) => (customID.startsWith('e') ? 'errored' : customID.startsWith('x') ? 'expired' : 'succeeded');
  const originals = [request('ok1'), request('e1'), request('x1'), request('ok2'), request('e2')];

  it('maps every result by custom_id', async () => {
    const { client, emulator } = await setup();
    emulator.outcome = outcome;
    const { id } = await client.messages.batches.create({ requests: originals });
    await client.messages.batches.wait(id);
    const map = await client.messages.batches.resultsMap(id);
    expect([...map.keys()]).toEqual(['ok1', 'e1', 'x1', 'ok2', 'e2']);
    expect(map.get('ok1')?.type).toBe('succeeded');
    expect(map.get('e1')).toEqual({ type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'backend failed' }, request_id: null } });
    expect(map.get('x1')).toEqual({ type: 'expired' });
  });

  it('resubmits the errored and expired requests by default, or the chosen types', async () => {
    const { client, emulator, requests } = await setup();
    emulator.outcome = outcome;
    const { id } = await client.messages.batches.create({ requests: originals });
    await client.messages.batches.wait(id);
    const retried = await client.messages.batches.retryFailed(id, originals);
    expect(retried).toMatchObject({ id: 'msgbatch_002', type: 'message_batch' });
    const onlyErrored = await client.messages.batches.retryFailed(id, originals, { types: ['errored'] });
    expect(onlyErrored?.id).toBe('msgbatch_003');
    expect(createdIDs(requests).slice(1)).toEqual([['e1', 'x1', 'e2'], ['e1', 'e2']]);
    expect((JSON.parse(requests.filter((r) => r.method === 'POST')[1]?.body ?? '') as BatchCreateParams).requests[0]).toEqual(request('e1'));
  });

  it('resolves with null and creates nothing when no result failed', async () => {
    const { client, requests } = await setup();
    const { id } = await client.messages.batches.create({ requests: [request('a'), request('b')] });
    await client.messages.batches.wait(id);
    await expect(client.messages.batches.retryFailed(id, [request('a'), request('b')])).resolves.toBeNull();
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('throws when a failed request is missing from the originals', async () => {
    const { client, emulator, requests } = await setup();
    emulator.outcome = outcome;
    const { id } = await client.messages.batches.create({ requests: originals });
    await client.messages.batches.wait(id);
    await expect(client.messages.batches.retryFailed(id, [request('e1')])).rejects.toThrow(
      `Cannot retry batch ${id}: 2 failed custom_id(s) are not among originalRequests (x1, e2).`,
    );
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
