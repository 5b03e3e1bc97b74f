import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../test-support/api/api.js';
import { createBatch, expectApiError, expectOk, expectRequestId, userRequests } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** Transport rules shared by every route: health, authentication, request ids, error envelopes. */

let server: ServerHandle;
let client: Api;

beforeAll(async () => {
  server = await startServer();
  client = api(server.url);
});

afterAll(async () => {
  await server.stop();
});

describe('health', () => {
  it('answers 200 once listening, without credentials', async () => {
    const response = await client.get('/health', { headers: { 'x-api-key': null } });
    expect(response.status).toBe(200);
    expectRequestId(response);
  });
});

describe('authentication', () => {
  it('accepts x-api-key and Authorization: Bearer, with any non-empty key', async () => {
    const viaApiKey = await client.get('/v1/messages/batches', { headers: { 'x-api-key': 'some-key' } });
    expectOk(viaApiKey, 'ListResponse_MessageBatch_');
    const viaBearer = await client.get('/v1/messages/batches', { headers: { 'x-api-key': null, authorization: 'Bearer another-key' } });
    expectOk(viaBearer, 'ListResponse_MessageBatch_');
  });

  it('answers 401 authentication_error without a key', async () => {
    expectApiError(await client.get('/v1/messages/batches', { headers: { 'x-api-key': null } }), 401, 'authentication_error');
    expectApiError(
      await client.post('/v1/messages/batches', { requests: userRequests(1) }, { headers: { 'x-api-key': null } }),
      401,
      'authentication_error',
    );
  });

  it('answers 401 for an empty x-api-key or an empty bearer token', async () => {
    expectApiError(await client.get('/v1/messages/batches', { headers: { 'x-api-key': '' } }), 401, 'authentication_error');
    expectApiError(
      await client.get('/v1/messages/batches', { headers: { 'x-api-key': null, authorization: 'Bearer ' } }),
      401,
      'authentication_error',
    );
  });

  it('stores nothing for an unauthenticated create', async () => {
    const page = expectOk<{ data: unknown[] }>(await client.get('/v1/messages/batches?limit=1000'), 'ListResponse_MessageBatch_');
    const before = page.data.length;
    await client.post('/v1/messages/batches', { requests: userRequests(2) }, { headers: { 'x-api-key': null } });
    const after = expectOk<{ data: unknown[] }>(await client.get('/v1/messages/batches?limit=1000'), 'ListResponse_MessageBatch_');
    expect(after.data.length).toBe(before);
  });
});

describe('versions and betas', () => {
  it('accepts any anthropic-version, anthropic-beta and ?beta=true', async () => {
    const batch = await createBatch(client, userRequests(1, 'beta'));
    const variants: Array<Record<string, string | null>> = [
      { 'anthropic-version': '2026-10-21' },
      { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'message-batches-2024-09-24' },
    ];
    for (const headers of variants) {
      const response = await client.get(`/v1/messages/batches/${batch.id}`, { headers });
      expect(expectOk<{ id: string }>(response, 'MessageBatch').id).toBe(batch.id);
    }
    const beta = await client.get(`/v1/messages/batches/${batch.id}?beta=true`, {
      headers: { 'anthropic-beta': 'message-batches-2024-09-24' },
    });
    expect(expectOk<{ id: string }>(beta, 'MessageBatch').id).toBe(batch.id);
    const betaList = await client.get('/v1/messages/batches?beta=true&limit=5');
    expectOk(betaList, 'ListResponse_MessageBatch_');
  });
});

describe('request ids and unknown routes', () => {
  it('gives every response a distinct request-id', async () => {
    const responses = [
      await client.get('/health'),
      await client.get('/v1/messages/batches'),
      await client.get('/v1/messages/batches/msgbatch_doesnotexist'),
      await client.get('/no/such/route'),
    ];
    const ids = responses.map((response) => expectRequestId(response));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers unknown routes and methods with a 404 not_found_error envelope', async () => {
    expectApiError(await client.get('/no/such/route'), 404, 'not_found_error');
    expectApiError(await client.get('/v1/messages/batches/msgbatch_x/nothing-here'), 404, 'not_found_error');
    expectApiError(await client.request('PUT', '/v1/messages/batches'), 404, 'not_found_error');
  });

  it("answers on OpenAI's paths in OpenAI's envelope even when no route matches: an overlong id, a bad escape, an unknown path", async () => {
    const long = 'x'.repeat(300);
    // An id past the router's bound answers 404, or 400 where the router refuses it itself.
    const cases = [
      ['GET', `/v1/batches/batch_${long}`],
      ['POST', `/v1/batches/batch_${long}/cancel`],
      ['GET', `/v1/files/file-${long}`],
      ['GET', `/v1/files/file-${long}/content`],
      ['DELETE', `/v1/files/file-${long}`],
      ['GET', '/v1/files/%FF'],
      ['GET', '/v1/batches/%ED%A0%80'],
      ['GET', '/v1/files/x/y'],
      ['PUT', '/v1/batches'],
    ] as const;
    for (const [method, path] of cases) {
      const response = await client.request(method, path);
      expect([400, 404], `${method} ${path}`).toContain(response.status);
      const body = response.body as { error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown }; type?: unknown };
      expect(body.type, `${method} ${path}`).toBeUndefined();
      expect(body.error, `${method} ${path}`).toMatchObject({ message: expect.any(String), type: 'invalid_request_error', param: null, code: null });
    }
    // Anthropic's paths keep theirs.
    expectApiError(await client.get(`/v1/messages/batches/msgbatch_${long}`), 404, 'not_found_error');
  });

  it('answers an unknown batch id with 404 on every batch route', async () => {
    const id = 'msgbatch_01NoSuchBatch000000000000';
    expectApiError(await client.get(`/v1/messages/batches/${id}`), 404, 'not_found_error');
    expectApiError(await client.post(`/v1/messages/batches/${id}/cancel`), 404, 'not_found_error');
    expectApiError(await client.delete(`/v1/messages/batches/${id}`), 404, 'not_found_error');
    expectApiError(await client.get(`/v1/messages/batches/${id}/results`), 404, 'not_found_error');
  });
});
