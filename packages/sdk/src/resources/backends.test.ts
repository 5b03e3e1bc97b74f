import { afterEach, describe, expect, it } from 'vitest';
import { BatchdClient } from '../client.js';
import { AuthenticationError } from '../core/error.js';
import { sendError, sendJSON, startFakeAPI, type FakeAPI } from '../test-support/fake-api.js';
import type { BackendStatus } from '../wire-types.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const lane: BackendStatus = {
  name: 'local',
  type: 'emulator',
  concurrency_limit: 8,
  in_flight: 2,
  paused: false,
  calls: 40,
  succeeded: 38,
  rateLimited: 1,
  overloaded: 1,
  serverErrors: 1,
  authFailures: 0,
};

describe('client.backends', () => {
  it('lists the lanes of GET /v1/batchd/backends with the key', async () => {
    api = await startFakeAPI((req, res) =>
      req.headers['x-api-key'] === 'test-key' ? sendJSON(res, 200, { data: [lane] }) : sendError(res, 401, 'authentication_error', 'invalid x-api-key'),
    );
    expect(await new BatchdClient({ apiKey: 'test-key', baseURL: api.baseURL }).backends.list()).toEqual([lane]);
    await expect(new BatchdClient({ apiKey: 'other', baseURL: api.baseURL }).backends.list()).rejects.toBeInstanceOf(AuthenticationError);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/batchd/backends', 'GET /v1/batchd/backends']);
  });
});
