import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchdClient } from './client.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from './core/error.js';
import { closeServed, ok, recordingSleep, rejection, script, serve } from './test-support/client-harness.js';
import { sendError, type Handler } from './test-support/fake-api.js';

afterEach(async () => {
  vi.unstubAllEnvs();
  await closeServed();
});

describe('BatchdClient retries', () => {
  it('honours retry-after seconds, retry-after-ms and an HTTP date on 429', async () => {
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const { baseURL, requests } = await serve(
      script(
        (_req, res) => sendError(res, 429, 'rate_limit_error', 'slow down', { 'retry-after': '3' }),
        (_req, res) => sendError(res, 429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '120' }),
        (_req, res) => sendError(res, 429, 'rate_limit_error', 'slow down', { 'retry-after': inTwoMinutes }),
        ok,
      ),
    );
    const { delays, sleep } = recordingSleep();
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep, maxRetries: 3 });
    await expect(client.requestJSON({ method: 'GET', path: '/' })).resolves.toMatchObject({ type: 'message_batch' });
    expect(requests).toHaveLength(4);
    expect(delays.slice(0, 2)).toEqual([3000, 120]);
    expect(delays[2]).toBeGreaterThan(100_000);
    expect(delays[2]).toBeLessThanOrEqual(120_000);
  });

  it('backs off exponentially after 5xx and stops after maxRetries', async () => {
    const { baseURL, requests } = await serve((_req, res) => sendError(res, 500, 'api_error', 'boom'));
    const { delays, sleep } = recordingSleep();
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep, maxRetries: 3 });
    const error = await rejection(client.request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(requests).toHaveLength(4);
    expect(delays).toHaveLength(3);
    [500, 1000, 2000].forEach((base, i) => {
      expect(delays[i]).toBeGreaterThan(base * 0.75 - 1);
      expect(delays[i]).toBeLessThanOrEqual(base);
    });
  });

  it('recovers from a 500 followed by success', async () => {
    const { baseURL, requests } = await serve(script((_req, res) => sendError(res, 500, 'api_error', 'boom'), ok));
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep: recordingSleep().sleep });
    await expect(client.messages.batches.retrieve('msgbatch_01')).resolves.toMatchObject({ id: 'msgbatch_01' });
    expect(requests).toHaveLength(2);
  });

  it('retries 408 and 409, not other 4xx, and obeys x-should-retry', async () => {
    const { baseURL, requests } = await serve(
      script(
        (_req, res) => sendError(res, 408, 'timeout_error', 't'),
        (_req, res) => sendError(res, 409, 'conflict', 'c'),
        (_req, res) => sendError(res, 400, 'invalid_request_error', 'bad', { 'x-should-retry': 'true' }),
        (_req, res) => sendError(res, 503, 'overloaded_error', 'no', { 'x-should-retry': 'false' }),
        (_req, res) => sendError(res, 400, 'invalid_request_error', 'bad'),
      ),
    );
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep: recordingSleep().sleep, maxRetries: 5 });
    expect(await rejection(client.request({ method: 'GET', path: '/' }))).toBeInstanceOf(InternalServerError);
    expect(requests).toHaveLength(4);
    expect(await rejection(client.request({ method: 'GET', path: '/' }))).toBeInstanceOf(BadRequestError);
    expect(requests).toHaveLength(5);
  });

  it('numbers each attempt in x-stainless-retry-count unless the caller set it', async () => {
    const { baseURL, requests } = await serve(script((_req, res) => sendError(res, 503, 'overloaded_error', 'busy'), (_req, res) => void res.socket?.destroy(), ok));
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep: recordingSleep().sleep });
    await client.messages.batches.retrieve('msgbatch_01');
    await client.messages.batches.retrieve('msgbatch_01', { headers: { 'x-stainless-retry-count': '7' } });
    expect(requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2', '7']);
  });

  it('lets a request override maxRetries', async () => {
    const { baseURL, requests } = await serve((_req, res) => sendError(res, 429, 'rate_limit_error', 'later'));
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep: recordingSleep().sleep });
    const error = await rejection(client.messages.batches.retrieve('b', { maxRetries: 0 }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).requestID).toMatch(/^req_/);
    expect(requests).toHaveLength(1);
  });

  it('retries a dropped connection, then reports it once retries run out', async () => {
    const { baseURL, requests } = await serve(script((_req, res) => void res.socket?.destroy(), ok));
    const client = new BatchdClient({ apiKey: 'k', baseURL, sleep: recordingSleep().sleep });
    await expect(client.messages.batches.retrieve('msgbatch_01')).resolves.toMatchObject({ id: 'msgbatch_01' });
    expect(requests).toHaveLength(2);

    await closeServed();
    const dropping = await serve((_req, res) => void res.socket?.destroy());
    const strict = new BatchdClient({ apiKey: 'k', baseURL: dropping.baseURL, sleep: recordingSleep().sleep, maxRetries: 1 });
    const error = await rejection(strict.messages.batches.retrieve('b'));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect((error as APIConnectionError).cause).toBeInstanceOf(Error);
    expect(dropping.requests).toHaveLength(2);
  });
});

describe('BatchdClient timeouts and aborts', () => {
  const silent: Handler = () => undefined;

  it('times out when headers do not arrive, retrying first', async () => {
    const { baseURL, requests } = await serve(silent);
    const client = new BatchdClient({ apiKey: 'k', baseURL, timeout: 200, maxRetries: 1, sleep: recordingSleep().sleep });
    const error = await rejection(client.request({ method: 'GET', path: '/' }));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(requests).toHaveLength(2);
  });

  it('does not time a body that streams after the headers', async () => {
    const { baseURL } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"slow",');
      setTimeout(() => res.end('"type":"message_batch"}'), 400);
    });
    const client = new BatchdClient({ apiKey: 'k', baseURL, timeout: 100, maxRetries: 0 });
    await expect(client.requestJSON({ method: 'GET', path: '/' })).resolves.toEqual({ id: 'slow', type: 'message_batch' });
  });

  it('lets a request override the timeout', async () => {
    const { baseURL } = await serve(silent);
    const client = new BatchdClient({ apiKey: 'k', baseURL, maxRetries: 0 });
    expect(await rejection(client.messages.batches.retrieve('b', { timeout: 50 }))).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('rejects with APIUserAbortError before sending, while waiting for headers and between retries', async () => {
    const { baseURL, requests } = await serve(
      script(silent, (_req, res) => sendError(res, 503, 'overloaded_error', 'busy', { 'retry-after': '60' })),
    );
    const client = new BatchdClient({ apiKey: 'k', baseURL });

    const aborted = AbortSignal.abort();
    expect(await rejection(client.messages.batches.retrieve('b', { signal: aborted }))).toBeInstanceOf(APIUserAbortError);
    expect(requests).toHaveLength(0);

    const during = new AbortController();
    const pending = client.messages.batches.retrieve('b', { signal: during.signal });
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    during.abort();
    expect(await rejection(pending)).toBeInstanceOf(APIUserAbortError);

    const between = new AbortController();
    const retrying = client.messages.batches.retrieve('b', { signal: between.signal });
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    between.abort();
    const error = await rejection(retrying);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error).toBeInstanceOf(APIError);
    expect(requests).toHaveLength(2);
  });
});