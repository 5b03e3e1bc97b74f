import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchdClient } from './client.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  BatchdError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from './core/error.js';
import type { Sleep } from './internal/backoff.js';
import { makeBatch, sendError, sendJSON, startFakeAPI, type FakeAPI, type Handler } from './test-support/fake-api.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await api?.close();
  api = undefined;
});

async function serve(handler: Handler): Promise<FakeAPI> {
  api = await startFakeAPI(handler);
  return api;
}

/** A sleep that records each requested delay and returns at once. */
function recordingSleep(): { delays: number[]; sleep: Sleep } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** A handler answering the scripted responses in turn, then the last one forever. */
function script(...steps: Handler[]): Handler {
  let call = 0;
  return (req, res) => steps[Math.min(call++, steps.length - 1)]!(req, res);
}

const ok: Handler = (_req, res) => sendJSON(res, 200, makeBatch());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('BatchdClient configuration', () => {
  it('reads the key and base URL from BATCHD_* before ANTHROPIC_*', () => {
    vi.stubEnv('BATCHD_API_KEY', 'batchd-key');
    vi.stubEnv('ANTHROPIC_API_KEY', 'anthropic-key');
    vi.stubEnv('BATCHD_BASE_URL', 'http://batchd.test/');
    vi.stubEnv('ANTHROPIC_BASE_URL', 'http://anthropic.test');
    const client = new BatchdClient();
    expect(client.apiKey).toBe('batchd-key');
    expect(client.baseURL).toBe('http://batchd.test');
    vi.stubEnv('BATCHD_API_KEY', '');
    vi.stubEnv('BATCHD_BASE_URL', '');
    const fallback = new BatchdClient();
    expect(fallback.apiKey).toBe('anthropic-key');
    expect(fallback.baseURL).toBe('http://anthropic.test');
  });

  it('defaults to 127.0.0.1:8787, a 10 minute timeout and 2 retries', () => {
    vi.stubEnv('BATCHD_BASE_URL', '');
    vi.stubEnv('ANTHROPIC_BASE_URL', '');
    const client = new BatchdClient({ apiKey: 'k' });
    expect(client.baseURL).toBe('http://127.0.0.1:8787');
    expect(client.timeout).toBe(600_000);
    expect(client.maxRetries).toBe(2);
  });

  it('runs where there is no process global, as in browsers', () => {
    vi.stubGlobal('process', undefined);
    try {
      expect(() => new BatchdClient()).toThrow(/Missing API key/);
      expect(new BatchdClient({ apiKey: 'k' }).baseURL).toBe('http://127.0.0.1:8787');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('refuses to start without an API key or with invalid numbers', () => {
    vi.stubEnv('BATCHD_API_KEY', '');
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    expect(() => new BatchdClient()).toThrow(/Missing API key/);
    expect(() => new BatchdClient({ apiKey: 'k', maxRetries: -1 })).toThrow(BatchdError);
    expect(() => new BatchdClient({ apiKey: 'k', timeout: 1.5 })).toThrow(BatchdError);
  });

  it('joins relative paths to the base URL and keeps absolute URLs', () => {
    const client = new BatchdClient({ apiKey: 'k', baseURL: 'http://host:1/prefix/' });
    expect(client.buildURL('/v1/messages/batches', { limit: 5, after_id: undefined })).toBe(
      'http://host:1/prefix/v1/messages/batches?limit=5',
    );
    expect(client.buildURL('v1/x')).toBe('http://host:1/prefix/v1/x');
    expect(client.buildURL('https://files.example/r/1?sig=a')).toBe('https://files.example/r/1?sig=a');
  });
});

describe('BatchdClient requests', () => {
  it('sends the key, version and accept headers, and content-type only with a body', async () => {
    const { baseURL, requests } = await serve(ok);
    const client = new BatchdClient({ apiKey: 'secret', baseURL, defaultHeaders: { 'x-team': 'a', 'x-keep': '1' } });
    await client.requestJSON({ method: 'GET', path: '/v1/messages/batches/b', headers: { 'x-team': 'b' } });
    await client.requestJSON({ method: 'POST', path: '/v1/messages/batches', body: '{"requests":[]}' });
    const [get, post] = requests;
    expect(get?.headers).toMatchObject({
      'x-api-key': 'secret',
      'anthropic-version': '2023-06-01',
      accept: 'application/json',
      'x-team': 'b',
      'x-keep': '1',
    });
    expect(get?.headers['content-type']).toBeUndefined();
    expect(post?.headers['content-type']).toBe('application/json');
    expect(post?.body).toBe('{"requests":[]}');
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const client = new BatchdClient({
      apiKey: 'k',
      baseURL: 'http://nowhere.invalid',
      fetch: async (url, init) => {
        calls.push(`${init.method} ${url}`);
        return new Response(JSON.stringify(makeBatch({ id: 'b1' })), { status: 200 });
      },
    });
    await expect(client.messages.batches.retrieve('b1')).resolves.toMatchObject({ id: 'b1' });
    expect(calls).toEqual(['GET http://nowhere.invalid/v1/messages/batches/b1']);
  });

  it('throws the status class with type, body and request id', async () => {
    const { baseURL } = await serve((_req, res) =>
      sendError(res, 404, 'not_found_error', 'No batch msgbatch_x', { 'request-id': 'req_404' }),
    );
    const client = new BatchdClient({ apiKey: 'k', baseURL });
    const error = (await rejection(client.requestJSON({ method: 'GET', path: '/v1/messages/batches/x' }))) as NotFoundError;
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.status).toBe(404);
    expect(error.type).toBe('not_found_error');
    expect(error.requestID).toBe('req_404');
    expect(error.headers?.get('content-type')).toBe('application/json');
    expect(error.error).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'No batch msgbatch_x' },
      request_id: 'req_404',
    });
    expect(error.message).toBe('404 No batch msgbatch_x');
  });

  it('keeps a non-JSON error body as the message', async () => {
    const { baseURL } = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    });
    const client = new BatchdClient({ apiKey: 'k', baseURL, maxRetries: 0 });
    const error = (await rejection(client.request({ method: 'GET', path: '/' }))) as InternalServerError;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.error).toBeUndefined();
    expect(error.message).toBe('502 <h1>Bad gateway</h1>');
  });
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

    await api?.close();
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
