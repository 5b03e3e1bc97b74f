import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, type ApiResponse } from './support/api.js';
import { expectApiError, listBatches, userRequest, userRequests } from './support/batches.js';
import { expectSchema } from './support/openapi.js';
import { startServer, type ServerHandle } from './support/server-process.js';
import { postStreamed } from './support/stream-body.js';

/**
 * Create-time checks of `POST /v1/messages/batches`: the envelope is validated before anything is
 * stored, and every rejection is a 400 `invalid_request_error` (413 `request_too_large` for a body
 * over 256 MiB). None of the creates in this file is valid, so the server ends with no batches.
 */

const MAX_BODY_BYTES = 256 * 1024 * 1024;

let server: ServerHandle;
let client: Api;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = api(server.url);
});

afterAll(async () => {
  await server.stop();
});

function postRaw(body: string): Promise<ApiResponse> {
  return client.request('POST', '/v1/messages/batches', { body });
}

function postJson(body: unknown): Promise<ApiResponse> {
  return client.post('/v1/messages/batches', body);
}

function expectInvalid(response: ApiResponse): string {
  return expectApiError(response, 400, 'invalid_request_error').message;
}

describe('POST /v1/messages/batches rejects the envelope', () => {
  it('rejects a body that is not JSON', async () => {
    expectInvalid(await postRaw(''));
    expectInvalid(await postRaw('{"requests": ['));
    expectInvalid(await postRaw('requests=1'));
  });

  it('rejects malformed JSON around otherwise valid requests', async () => {
    const request = JSON.stringify(userRequest('a'));
    const malformed = [
      `{"requests":[${request}],}`,
      `{"requests":[${request},]}`,
      `{"requests":[${request}]} trailing`,
      `{"requests":[${request}]}{}`,
      `{"requests":[${request}]`,
      `{'requests':[${request}]}`,
      `{requests:[${request}]}`,
      `{"requests":[${request}] "x":1}`,
    ];
    const accepted: string[] = [];
    for (const body of malformed) {
      const response = await postRaw(body);
      if (response.status !== 400) accepted.push(`${response.status} for ${body}`);
      else expectInvalid(response);
    }
    expect(accepted, 'malformed bodies not answered 400').toEqual([]);
  });

  it('rejects a JSON body that is not an object', async () => {
    for (const body of ['[]', '"requests"', 'null', '42', 'true']) {
      expectInvalid(await postRaw(body));
    }
  });

  it('rejects unknown top-level keys', async () => {
    expectInvalid(await postJson({ requests: userRequests(1), priority: 'high' }));
  });

  it('rejects a missing or non-array requests', async () => {
    expectInvalid(await postJson({}));
    for (const requests of [null, 'req-1', 7, { 0: userRequest('a') }]) {
      expectInvalid(await postJson({ requests }));
    }
  });

  it('rejects an empty requests array', async () => {
    expectInvalid(await postJson({ requests: [] }));
  });

  it('rejects 100,001 requests', async () => {
    const requests = Array.from({ length: 100_001 }, (_, i) => ({
      custom_id: `r${i}`,
      params: { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] },
    }));
    expectInvalid(await postJson({ requests }));
  });

  it('rejects a request that is not an object', async () => {
    for (const request of [1, null, 'req', [userRequest('a')]]) {
      expectInvalid(await postJson({ requests: [userRequest('ok-1'), request] }));
    }
  });

  it('rejects unknown keys in a request', async () => {
    expectInvalid(await postJson({ requests: [{ ...userRequest('a'), priority: 1 }] }));
  });
});

describe('POST /v1/messages/batches rejects bad custom_ids', () => {
  it('rejects a missing custom_id', async () => {
    const { custom_id: _dropped, ...withoutId } = userRequest('a');
    expectInvalid(await postJson({ requests: [withoutId] }));
  });

  it('rejects custom_ids that do not match ^[a-zA-Z0-9_-]{1,64}$', async () => {
    const bad: unknown[] = ['', 'x'.repeat(65), 'has space', 'dot.ted', 'slash/id', 'ünïcode', 'new\nline', 42, null, true];
    for (const customId of bad) {
      const requests = [userRequest('fine-1'), { custom_id: customId, params: userRequest('x').params }];
      expectInvalid(await postJson({ requests }));
    }
  });

  it('rejects a duplicate custom_id, naming it', async () => {
    const requests = [userRequest('first'), userRequest('twice-used_id'), userRequest('third'), userRequest('twice-used_id')];
    const message = expectInvalid(await postJson({ requests }));
    expect(message).toContain('twice-used_id');
  });

  it('rejects a bad custom_id at the end of a large batch', async () => {
    const requests: unknown[] = userRequests(5_000, 'bulk');
    requests.push({ custom_id: 'bad id', params: userRequest('x').params });
    expectInvalid(await postJson({ requests }));
  });
});

describe('POST /v1/messages/batches rejects params that are not objects', () => {
  it('rejects a missing params', async () => {
    expectInvalid(await postJson({ requests: [{ custom_id: 'no-params' }] }));
  });

  it('rejects params of the wrong type', async () => {
    for (const params of ['hello', 3, null, [], [userRequest('a').params], true]) {
      expectInvalid(await postJson({ requests: [userRequest('ok-1'), { custom_id: 'wrong-params', params }] }));
    }
  });
});

describe('POST /v1/messages/batches limits the body size', () => {
  /** A create body of about `totalBytes`, valid JSON, in requests of ~64 KiB (well under 100,000 of them). */
  function* bigBody(totalBytes: number): Generator<Buffer> {
    const filler = 'x'.repeat(64 * 1024);
    yield Buffer.from('{"requests":[');
    let sent = 0;
    for (let i = 0; sent < totalBytes; i++) {
      const item = Buffer.from(
        `${i === 0 ? '' : ','}{"custom_id":"big-${i}","params":{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"${filler}"}]}}`,
      );
      sent += item.length;
      yield item;
    }
    yield Buffer.from(']}');
  }

  it('answers 413 request_too_large to a body over 256 MiB, streamed', async () => {
    const response = await postStreamed(`${server.url}/v1/messages/batches`, () => bigBody(MAX_BODY_BYTES + 1024 * 1024));
    expect(response.status, response.text.slice(0, 500)).toBe(413);
    const requestId = response.headers['request-id'];
    expect(requestId).toMatch(/^req_/);
    const body = expectSchema<{ error: { type: string; message: string }; request_id: string }>(
      'BatchdRequestTooLargeResponse',
      JSON.parse(response.text),
    );
    expect(body.error.type).toBe('request_too_large');
    expect(body.request_id).toBe(requestId);
  });
});

describe('after every rejected create', () => {
  it('lists no batches: a rejected create stores nothing', async () => {
    const page = await listBatches(client, '?limit=1000');
    expect(page).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });
});
