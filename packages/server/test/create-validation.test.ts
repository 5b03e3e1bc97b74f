import type { MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, type ApiResponse } from '../test-support/api/api.js';
import { expectApiError, listBatches, userRequest, userRequests } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';
import { postStreamed } from '../test-support/process/stream-body.js';

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
  const FILLER = 'x'.repeat(64 * 1024);
  const HEAD = '{"requests":[';
  const TAIL = ']}';
  const item = (i: number) =>
    `${i === 0 ? '' : ','}{"custom_id":"big-${i}","params":{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"${FILLER}"}]}}`;

  /**
   * A valid create body of exactly `totalBytes` bytes: requests of ~64 KiB each (a few thousand,
   * far below 100,000) and whitespace before the closing brackets to reach the size. Returns the
   * number of requests and a generator of its chunks, so the body never sits in memory.
   */
  function bodyOfSize(totalBytes: number): { requests: number; chunks: () => Generator<Buffer> } {
    let used = HEAD.length + TAIL.length;
    let requests = 0;
    while (used + item(requests).length <= totalBytes) used += item(requests++).length;
    const padding = totalBytes - used;
    return {
      requests,
      *chunks() {
        yield Buffer.from(HEAD);
        for (let i = 0; i < requests; i++) yield Buffer.from(item(i));
        for (let left = padding; left > 0; left -= FILLER.length) yield Buffer.alloc(Math.min(left, FILLER.length), 0x20);
        yield Buffer.from(TAIL);
      },
    };
  }

  it('answers 413 request_too_large to a body of 256 MiB + 1 byte, streamed', async () => {
    const body = bodyOfSize(MAX_BODY_BYTES + 1);
    const response = await postStreamed(`${server.url}/v1/messages/batches`, body.chunks);
    expect(response.status, response.text.slice(0, 500)).toBe(413);
    const requestId = response.headers['request-id'];
    expect(requestId).toMatch(/^req_/);
    const envelope = expectSchema<{ error: { type: string; message: string }; request_id: string }>(
      'BatchdRequestTooLargeResponse',
      JSON.parse(response.text),
    );
    expect(envelope.error.type).toBe('request_too_large');
    expect(envelope.request_id).toBe(requestId);
  });

  it('accepts a body of exactly 256 MiB', async () => {
    // A server of its own, so that the server above still ends with no batches.
    const other = await startServer({ flags: { 'log-level': 'warn' } });
    try {
      const body = bodyOfSize(MAX_BODY_BYTES);
      const response = await postStreamed(`${other.url}/v1/messages/batches`, body.chunks);
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      expect(response.bytesSent).toBe(MAX_BODY_BYTES);
      const batch = expectSchema<MessageBatch>('MessageBatch', JSON.parse(response.text));
      expect(batch.request_counts.processing).toBe(body.requests);
    } finally {
      // Only the answer to the create matters here; the thousands of large requests it queued
      // are not worth processing.
      await other.kill();
    }
  });
});

describe('after every rejected create', () => {
  it('lists no batches: a rejected create stores nothing', async () => {
    const page = await listBatches(client, '?limit=1000');
    expect(page).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });
});
