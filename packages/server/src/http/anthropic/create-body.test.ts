import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { NewRequest } from '../../store/store.js';
import { ApiError } from '../api-error.js';
import { parseCreateBody } from './create-body.js';

const limits = { maxBytes: 1_000_000, maxRequests: 50, idleMs: 5_000 };

/** Feeds `text` to the parser in pieces of `size` bytes, so tokens and characters split anywhere. */
async function parse(text: string, size = 7, custom = limits): Promise<NewRequest[][]> {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  const chunks: NewRequest[][] = [];
  for await (const chunk of parseCreateBody(Readable.from(pieces), custom)) chunks.push(chunk);
  return chunks;
}

async function rejection(text: string, custom = limits): Promise<ApiError> {
  try {
    await parse(text, 5, custom);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

const request = (id: string, params: unknown = { model: 'm' }) => ({ custom_id: id, params });

describe('parseCreateBody', () => {
  it('yields every request with its params as compact JSON, whatever the chunk boundaries', async () => {
    const params = { model: 'm', messages: [{ role: 'user', content: 'héllo 🌍 "quoted" \\ [brackets] {braces}' }] };
    const body = `  {\n "requests" : [ ${JSON.stringify(request('a', params))},\n${JSON.stringify(request('b-2_X'))} ] }\n`;
    for (const size of [1, 2, 3, 64]) {
      const requests = (await parse(body, size)).flat();
      expect(requests).toEqual([
        { customId: 'a', params: JSON.stringify(params) },
        { customId: 'b-2_X', params: '{"model":"m"}' },
      ]);
    }
  });

  it('hands requests over in chunks of about a thousand as the body arrives', async () => {
    const requests = Array.from({ length: 2500 }, (_, i) => request(`r${i}`));
    const chunks = await parse(JSON.stringify({ requests }), 4096, { maxBytes: 1e9, maxRequests: 100_000, idleMs: 5_000 });
    expect(chunks.length).toBe(3);
    expect(chunks.slice(0, -1).every((c) => c.length >= 1000 && c.length < 1100)).toBe(true);
    expect(chunks.flat().map((r) => r.customId)).toEqual(requests.map((r) => r.custom_id));
  });

  it.each([
    ['not JSON', 'hello', /must be a JSON object/],
    ['an array', '[1,2]', /must be a JSON object/],
    ['truncated', '{"requests":[{"custom_id":"a","params":{}}', /not valid JSON/],
    ['a trailing comma in the body', '{"requests":[{"custom_id":"a","params":{}}],}', /not valid JSON/],
    ['a trailing comma in requests', '{"requests":[{"custom_id":"a","params":{}},]}', /not valid JSON/],
    ['trailing garbage', '{"requests":[{"custom_id":"a","params":{}}]} x', /not valid JSON/],
    ['no requests', '{}', /requests: Field required/],
    ['an empty body', '', /requests: Field required/],
    ['empty requests', '{"requests":[]}', /at least 1 item/],
    ['requests not a list', '{"requests":{"a":{}}}', /valid list/],
    ['extra top-level key', '{"requests":[{"custom_id":"a","params":{}}],"model":"m"}', /model: Extra inputs/],
    ['request not an object', '{"requests":[5]}', /requests.0: Input should be a valid object/],
    ['extra request key', '{"requests":[{"custom_id":"a","params":{},"x":1}]}', /requests.0.x: Extra inputs/],
    ['missing custom_id', '{"requests":[{"params":{}}]}', /requests.0.custom_id: Field required/],
    ['bad custom_id', '{"requests":[{"custom_id":"a b","params":{}}]}', /Invalid custom_id "a b"/],
    ['long custom_id', `{"requests":[{"custom_id":"${'x'.repeat(65)}","params":{}}]}`, /custom_id must match/],
    ['numeric custom_id', '{"requests":[{"custom_id":7,"params":{}}]}', /Invalid custom_id 7/],
    ['duplicate custom_id', '{"requests":[{"custom_id":"a","params":{}},{"custom_id":"a","params":{}}]}', /requests.1.custom_id: Duplicate custom_id "a"/],
    ['missing params', '{"requests":[{"custom_id":"a"}]}', /requests.0.params: Field required/],
    ['params not an object', '{"requests":[{"custom_id":"a","params":[1]}]}', /requests.0.params: Input should be a valid object/],
  ])('rejects %s with invalid_request_error', async (_name, body, message) => {
    const error = await rejection(body);
    expect(error.status).toBe(400);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(message);
  });

  it('rejects more requests than the limit', async () => {
    const requests = Array.from({ length: 51 }, (_, i) => request(`r${i}`));
    const error = await rejection(JSON.stringify({ requests }));
    expect(error.message).toMatch(/at most 50 requests/);
  });

  it('rejects a body over the byte limit with request_too_large', async () => {
    const requests = Array.from({ length: 10 }, (_, i) => request(`r${i}`, { pad: 'x'.repeat(100) }));
    const error = await rejection(JSON.stringify({ requests }), { maxBytes: 500, maxRequests: 50, idleMs: 5_000 });
    expect(error.status).toBe(413);
    expect(error.type).toBe('request_too_large');
  });

  it('answers 408 when the upload stalls', async () => {
    const stalled = new Readable({ read() {} });
    stalled.push('{"requests":[{"custom_id":"a","params":{}}');
    const parsing = (async () => {
      for await (const chunk of parseCreateBody(stalled, { ...limits, idleMs: 20 })) void chunk;
    })();
    await expect(parsing).rejects.toMatchObject({ status: 408, message: expect.stringMatching(/stalled/) });
  });
});
