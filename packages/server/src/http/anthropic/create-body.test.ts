import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { NewRequest } from '../../store/store.js';
import { ApiError } from '../api-error.js';
import { largeJson } from '../large-json.js';
import { parseCreateBody } from './create-body.js';

const paramsLimits = { maxBytes: 2000, maxDepth: 8, maxElements: 50 };
const limits = { maxBytes: 1_000_000, maxRequests: 50, params: paramsLimits, idleMs: 5_000 };

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

  it('keeps numbers and __proto__ members as written, whatever the chunk boundaries', async () => {
    // Integers past 2^53, exponents, trailing zeros and -0 would change through a double; a
    // __proto__ member would set the prototype and vanish.
    const exact =
      '{"model":"m","max_tokens":1.0e1,"temperature":0.50,"seed":9223372036854775807,"metadata":{"__proto__":{"a":-0},"user_id":"__proto__"},' +
      '"tools":[{"name":"t","input_schema":{"type":"object","properties":{"n":{"type":"integer","maximum":18446744073709551615,"minimum":-1e400}}}}]}';
    const plain = '{"model":"m","max_tokens":10,"temperature":0.5}';
    const body = `{"requests":[{"custom_id":"__proto__","params":${exact}},{"custom_id":"plain","params":${plain}}]}`;
    for (const size of [1, 3, 64]) {
      expect((await parse(body, size)).flat()).toEqual([
        { customId: '__proto__', params: exact },
        { customId: 'plain', params: plain },
      ]);
    }
  });

  it('yields params over a MiB of JSON text as pieces of that text, and those just under whole', async () => {
    const big = { limits: { ...limits, maxBytes: 1e8, params: { ...paramsLimits, maxBytes: 1e8 } } };
    const large = { model: 'm', messages: [{ role: 'user', content: 'é "🌍"'.repeat(200_000) }] };
    // Each A is sent as \u0041: this body is 1.2 MB, its params' text stays under a MiB.
    const escaped = { model: 'm', extra: 'A'.repeat(200_000) };
    const body = JSON.stringify({ requests: [request('large', large), request('escaped', escaped)] }).replaceAll('A', '\\u0041');
    const [first, second] = (await parse(body, 65_536, big.limits)).flat();
    expect(Array.isArray(first!.params) && first!.params.length).toBeGreaterThan(4);
    expect((first!.params as string[]).join('')).toBe(JSON.stringify(large));
    expect(second!.params).toBe(JSON.stringify(escaped));
  });

  it('hands requests over in chunks of about a thousand as the body arrives', async () => {
    const requests = Array.from({ length: 2500 }, (_, i) => request(`r${i}`));
    const chunks = await parse(JSON.stringify({ requests }), 4096, { ...limits, maxBytes: 1e9, maxRequests: 100_000 });
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
    ['numeric custom_id a double would change', '{"requests":[{"params":{"n":1.0},"custom_id":1.50}]}', /Invalid custom_id 1\.50: /],
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
    const error = await rejection(JSON.stringify({ requests }), { ...limits, maxBytes: 500 });
    expect(error.status).toBe(413);
    expect(error.type).toBe('request_too_large');
  });

  /** A body that starts with `head` and then sends `filler` forever: it must be refused while it streams. */
  async function endlessRejection(head: string, filler: string): Promise<ApiError> {
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 1;
        this.push(sent === 1 ? head : filler.repeat(100));
      },
    });
    const parsing = (async () => {
      for await (const chunk of parseCreateBody(endless, limits)) void chunk;
    })();
    const error = await parsing.then(() => undefined, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it('refuses params past their byte limit with request_too_large naming the request, before a long string ends', async () => {
    const head = '{"requests":[{"custom_id":"a","params":{}},{"custom_id":"b","params":{"model":"m","s":"';
    const error = await endlessRejection(head, 'x');
    expect(error).toMatchObject({ status: 413, type: 'request_too_large', message: expect.stringMatching(/^requests\.1\.params: exceeds the maximum size of 2000 bytes/) });
    const fits = { model: 'm', s: 'x'.repeat(2000 - 20) };
    expect(JSON.stringify(fits).length).toBeLessThanOrEqual(2000);
    expect((await parse(JSON.stringify({ requests: [request('a', fits)] }))).flat()).toHaveLength(1);
  });

  it('refuses params nested deeper than the limit, and takes them at the limit', async () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}[]${'}'.repeat(depth - 1)}`;
    const error = await rejection(`{"requests":[{"custom_id":"a","params":${nested(9)}}]}`);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', message: 'requests.0.params: is nested deeper than the maximum of 8 levels' });
    expect((await parse(`{"requests":[{"custom_id":"a","params":${nested(8)}}]}`)).flat()).toHaveLength(1);
  });

  it('refuses params with more values and keys than the limit, without reading the rest', async () => {
    // The params object, its key "x" and its array are three of the fifty.
    const fits = `{"x":[${Array(47).fill('{}').join(',')}]}`;
    expect((await parse(`{"requests":[{"custom_id":"a","params":${fits}}]}`)).flat()).toEqual([{ customId: 'a', params: fits }]);
    const error = await rejection(`{"requests":[{"custom_id":"a","params":{"x":[${Array(48).fill('{}').join(',')}]}}]}`);
    expect(error).toMatchObject({ status: 400, message: 'requests.0.params: has more than the maximum of 50 JSON values and keys' });
    const endless = await endlessRejection('{"requests":[{"custom_id":"a","params":{"x":[{}', ',{}');
    expect(endless.message).toMatch(/^requests\.0\.params: has more than the maximum of 50/);
  });

  it('refuses an extra field at its key and a long custom_id at its bound, without reading their values', async () => {
    expect((await endlessRejection('{"requests":[],"model":[', '{},')).message).toBe('model: Extra inputs are not permitted');
    expect((await endlessRejection('{"requests":[{"custom_id":"a","x":[', '{},')).message).toBe('requests.0.x: Extra inputs are not permitted');
    expect((await endlessRejection('{"requests":[{"custom_id":"', 'a')).message).toMatch(/^requests\.0\.custom_id: exceeds the maximum size/);
  });

  it('refuses bytes that are not UTF-8, whole or cut short, rather than storing U+FFFD in their place', async () => {
    const body = (content: Buffer) => Buffer.concat([Buffer.from('{"requests":[{"custom_id":"a","params":{"model":"'), content, Buffer.from('"}}]}')]);
    for (const bad of [Buffer.from([0xff]), Buffer.from([0xe9, 0x41]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const parsing = (async () => {
        for await (const chunk of parseCreateBody(Readable.from([body(bad)]), limits)) void chunk;
      })();
      await expect(parsing, bad.toString('hex')).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/not UTF-8/) });
    }
    const truncated = Buffer.from('{"requests":[{"custom_id":"a","params":{"model":"m"}}]}\xe2\x82', 'latin1');
    const parsing = (async () => {
      for await (const chunk of parseCreateBody(Readable.from([truncated]), limits)) void chunk;
    })();
    await expect(parsing).rejects.toMatchObject({ status: 400 });
    // A character split between chunks is still one character.
    expect((await parse(JSON.stringify({ requests: [request('a', { model: 'é🌍' })] }), 1)).flat()).toEqual([{ customId: 'a', params: '{"model":"é🌍"}' }]);
  });

  it('refuses \\u escapes of lone surrogates, which the streaming parser would mangle, and keeps escaped pairs', async () => {
    for (const escaped of ['m\\ud800', '\\udc00x', 'm\\ud800\\u0041', '\\uDBFF', 'a\\ud800\\ud800\\udc00']) {
      for (const size of [1, 5, 64]) {
        const body = `{"requests":[{"custom_id":"a","params":{"model":"${escaped}","x":"y"}}]}`;
        const parsing = parse(body, size);
        await expect(parsing, `${escaped} in pieces of ${size}`).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/lone surrogate/) });
      }
    }
    // The high half last in the body: only its end shows it is alone.
    await expect(parse('{"requests":[{"custom_id":"a","params":{"model":"\\ud800"}}]}', 64)).rejects.toMatchObject({ message: expect.stringMatching(/lone surrogate/) });
    for (const size of [1, 3, 7, 64]) {
      const body = '{"requests":[{"custom_id":"a","params":{"model":"\\ud83c\\udf0d \\\\ud800 \\u00e9"}}]}';
      expect((await parse(body, size)).flat(), `pieces of ${size}`).toEqual([{ customId: 'a', params: JSON.stringify({ model: '🌍 \\ud800 é' }) }]);
    }
  });

  it('answers 408 when the upload stalls', async () => {
    const stalled = new Readable({ read() {} });
    stalled.push('{"requests":[{"custom_id":"a","params":{}}');
    const parsing = (async () => {
      for await (const chunk of parseCreateBody(stalled, { ...limits, idleMs: 20 })) void chunk;
    })();
    await expect(parsing).rejects.toMatchObject({ status: 408, message: expect.stringMatching(/stalled/) });
  });

  it('holds a large params in the large-JSON bytes from when it passes 1 MiB until its chunk is stored, and gives it back on a refusal', async () => {
    const big = (id: string) => request(id, { model: 'm', content: 'x'.repeat(1_500_000) });
    const wide = { ...limits, maxBytes: 10_000_000, params: { ...paramsLimits, maxBytes: 4_000_000 } };
    const body = JSON.stringify({ requests: [big('a'), request('b'), big('c')] });
    const seen: Array<[string[], number]> = [];
    const pieces = Readable.from(Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => Buffer.from(body.slice(i * 65536, (i + 1) * 65536))));
    for await (const chunk of parseCreateBody(pieces, wide)) seen.push([chunk.map((r) => r.customId), largeJson.taken]);
    // Each large params was held while its chunk was stored, and given back before the next was read.
    expect(seen).toEqual([
      [['a', 'b'], 4_000_000],
      [['c'], 4_000_000],
    ]);
    expect(largeJson.taken).toBe(0);

    const refused = JSON.stringify({ requests: [big('a'), big('a')] });
    await expect(parse(refused, 65536, wide)).rejects.toThrow(/Duplicate custom_id/);
    expect(largeJson.taken).toBe(0);
  });
});
