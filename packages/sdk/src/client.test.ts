import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchdClient } from './client.js';
import { BatchdError, InternalServerError, NotFoundError } from './core/error.js';
import { closeServed, ok, rejection, serve } from './test-support/client-harness.js';
import { makeBatch, sendError } from './test-support/fake-api.js';

afterEach(async () => {
  vi.unstubAllEnvs();
  await closeServed();
});

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

