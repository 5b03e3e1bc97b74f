import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { turnsDuring } from '../../test-support/turns.js';
import { ApiError } from './api-error.js';
import { readBoundedJson } from './bounded-json.js';

const limits = { maxBytes: 1000, maxDepth: 4, maxElements: 20 };

/** Feeds `text` in pieces of `size` bytes, so tokens and characters split anywhere. */
function pieces(text: string, size = 3): Readable {
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function rejection(body: Readable): Promise<ApiError> {
  const error: unknown = await readBoundedJson(body, limits, 'body').then(
    () => new Error('expected a rejection'),
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('readBoundedJson', () => {
  it('parses a body within its bounds, whatever the chunk boundaries', async () => {
    const value = { model: 'm', messages: [{ role: 'user', content: 'héllo 🌍 "quoted" [x] {y}' }] };
    for (const size of [1, 2, 7, 4096]) expect(await readBoundedJson(pieces(JSON.stringify(value), size), limits, 'body')).toEqual(value);
  });

  it.each([
    ['too deep', '[[[[[]]]]]', 400, 'body: is nested deeper than the maximum of 4 levels'],
    ['too many values', `[${Array(20).fill('{}').join(',')}]`, 400, 'body: has more than the maximum of 20 JSON values and keys'],
    ['too many keys', `{${Array.from({ length: 10 }, (_, i) => `"k${i}":1`).join(',')}}`, 400, 'body: has more than the maximum of 20 JSON values and keys'],
    ['too large', `"${'x'.repeat(1000)}"`, 413, 'body: exceeds the maximum size of 1000 bytes of JSON'],
    ['not JSON', '{"a" 1}', 400, /^The request body is not valid JSON/],
    ['two values', '{} {}', 400, 'The request body is not valid JSON: more follows the value.'],
  ])('refuses a body %s', async (_name, text, status, message) => {
    const error = await rejection(pieces(text));
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });

  it('refuses an endless body at its first bound, without reading on', async () => {
    let reads = 0;
    const endless = (head: string, filler: string) =>
      new Readable({
        read() {
          this.push(reads++ === 0 ? head : filler);
        },
      });
    expect((await rejection(endless('{"x":[{}', ',{}'))).message).toMatch(/more than the maximum of 20/);
    reads = 0;
    expect((await rejection(endless('"', 'x'.repeat(100)))).status).toBe(413);
  });

  it('joins and parses a long body in turns of the event loop of their own', async () => {
    const value = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] };
    const body = Readable.from([Buffer.from(JSON.stringify(value))]);
    const { value: read, turns } = await turnsDuring(() => readBoundedJson(body, { ...limits, maxBytes: 4 * 1024 * 1024 }, 'body'));
    expect(read).toEqual(value);
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});
