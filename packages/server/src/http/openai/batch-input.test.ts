import { describe, expect, it, vi } from 'vitest';
import { largeJson } from '../large-json.js';
import { checkedUpload, checkInputFile, inputRequests, MAX_FILE_BYTES, MAX_FILE_LINES, MAX_LINE_BYTES } from './batch-input.js';

async function* stream(...parts: Array<string | Buffer>): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.isBuffer(part) ? part : Buffer.from(part);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const line = (customId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] }, ...extra });

describe('checkedUpload', () => {
  it('passes an upload through unchanged in chunks of about 1 MiB', async () => {
    const piece = Buffer.alloc(300 * 1024, 'a');
    const chunks = await collect(checkedUpload(stream(piece, piece, piece, piece, 'tail\n')));
    expect(chunks.map((chunk) => chunk.length)).toEqual([4 * piece.length, 5]);
    expect(Buffer.concat(chunks).toString()).toBe(`${'a'.repeat(4 * piece.length)}tail\n`);
  });

  it('fails past the size limit with 413', async () => {
    const mebibyte = Buffer.alloc(1024 * 1024);
    async function* huge(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent <= MAX_FILE_BYTES; sent += mebibyte.length) yield mebibyte;
    }
    await expect(collect(checkedUpload(huge()))).rejects.toMatchObject({ status: 413, type: 'request_too_large' });
  });

  it('fails past the line limit, counting a last line without a newline', async () => {
    const lines = '{}\n'.repeat(MAX_FILE_LINES);
    expect(await collect(checkedUpload(stream(lines)))).toHaveLength(1);
    await expect(collect(checkedUpload(stream(lines, '{}')))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('50000 lines') });
    await expect(collect(checkedUpload(stream(lines, '{}\n')))).rejects.toMatchObject({ status: 400 });
    // Blank lines (spaces, tabs, `\r\n`) are not requests: a file may end with some, or hold them anywhere.
    expect(await collect(checkedUpload(stream('\n \r\n', lines, '\n\t\n', '  ')))).toHaveLength(1);
    await expect(collect(checkedUpload(stream(lines, '\n', '  {', '}')))).rejects.toMatchObject({ status: 400 });
  });
});

describe('checkInputFile', () => {
  const check = (...parts: Array<string | Buffer>) => checkInputFile(stream(...parts), '/v1/chat/completions');

  it('accepts lines split anywhere across chunks, CRLF endings and blank lines', async () => {
    const text = `${line('a')}\r\n\n${line('é')}\n${line('c')}`;
    expect(await check(text.slice(0, 10), text.slice(10, 11), text.slice(11))).toEqual({ errors: [], requests: 3, model: 'm' });
    const bytes = Buffer.from(text);
    const at = bytes.indexOf(Buffer.from('é')) + 1;
    expect((await check(bytes.subarray(0, at), bytes.subarray(at))).errors).toEqual([]);
  });

  it('fails on a custom_id with a lone surrogate, which a text store would keep as U+FFFD, and takes escaped pairs', async () => {
    for (const customId of ['\ud800', 'x\udbff', '\udc00y']) {
      await expect(check(`${line('ok')}\n${line(customId)}\n`), JSON.stringify(customId)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/line 2 .*lone surrogate/) });
    }
    expect(await check(`${line('\ud83c\udf0d')}\n`)).toEqual({ errors: [], requests: 1, model: 'm' });
  });

  it('lists each bad line with its number, code and param', async () => {
    const text = [
      line('a'),
      '[1, 2]',
      line('b', { method: 'GET' }),
      line('c', { body: 'text' }),
      line('d', { body: { messages: [] } }),
      line('', {}),
      line('a'),
      line('e', { body: { model: 'm', stream: true } }),
    ].join('\n');
    const { errors, requests } = await check(text, '\n', Buffer.from([0xff, 0x0a]));
    expect(requests).toBe(9);
    expect(errors.map((error) => [error.line, error.code, error.param])).toEqual([
      [2, 'invalid_json_line', null],
      [3, 'invalid_value', 'method'],
      [4, 'invalid_value', 'body'],
      [5, 'missing_required_parameter', 'body.model'],
      [6, 'missing_required_parameter', 'custom_id'],
      [7, 'duplicate_custom_id', 'custom_id'],
      [8, 'invalid_value', 'body.stream'],
      [9, 'invalid_json_line', null],
    ]);
  });

  it('lists a line whose body is nested too deep or holds too many values, without parsing it', async () => {
    // The body is the first level and holds 7 values and keys beside x's items.
    const depth = (levels: number) =>
      `{"custom_id":"deep","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[],"x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}}`;
    const values = (count: number) => line('wide', { body: { model: 'm', messages: [], x: Array(count - 7).fill(0) } });
    expect((await check(depth(64), '\n', values(100_000))).errors).toEqual([]);
    const deep = `${line('a')}\n${depth(65)}\n${values(100_001)}\n${line('b')}`;
    expect((await check(deep)).errors).toEqual([
      { code: 'invalid_value', line: 2, param: 'body', message: 'Line 2: body is nested deeper than the maximum of 64 levels.' },
      { code: 'invalid_value', line: 3, param: 'body', message: 'Line 3: body has more than the maximum of 100000 JSON values and keys.' },
    ]);
    // 32 MiB of brackets would take JSON.parse seconds and a gigabyte to build.
    const brackets = 16 * 1024 * 1024 - 64;
    const huge = `{"custom_id":"h","method":"POST","url":"/v1/chat/completions","body":{"model":"m","x":${'['.repeat(brackets)}${']'.repeat(brackets)}}}`;
    expect((await check(huge)).errors.map((error) => [error.line, error.code])).toEqual([[1, 'invalid_value']]);
  });

  it('finds a repeated custom_id of any length, long ones remembered by their digest', async () => {
    const long = 'é'.repeat(5000);
    const text = [line(`${long}a`), line(`${long}b`), line('x'.repeat(64)), line(`${long}a`), line('x'.repeat(64))].join('\n');
    const { errors } = await check(text);
    expect(errors.map((error) => [error.line, error.code])).toEqual([
      [4, 'duplicate_custom_id'],
      [5, 'duplicate_custom_id'],
    ]);
  });

  it('repeats at most 200 characters of a url or custom_id in a line error, so a failed batch stays small', async () => {
    const long = 'u'.repeat(1024 * 1024);
    const lines = Array.from({ length: 100 }, (_, i) => line(`c${i}`, { url: `/${long}` }));
    const { errors } = await checkInputFile(stream(lines.join('\n'), '\n', line(long), '\n', line(long), '\n'), '/v1/chat/completions');
    expect(errors).toHaveLength(100);
    expect(errors[0]!.message).toContain('url "/uuu');
    for (const error of errors) expect(error.message.length).toBeLessThan(400);
    const { errors: duplicates } = await checkInputFile(stream(line(long), '\n', line(long), '\n'), '/v1/chat/completions');
    expect(duplicates.map((error) => [error.code, error.message.length < 400])).toEqual([['duplicate_custom_id', true]]);
  });

  it('takes a line of the longest length in many chunks, and lists a longer one without keeping it', async () => {
    const longest = line('long', { body: { model: 'm', messages: [], note: '' } });
    const padding = MAX_LINE_BYTES - longest.length;
    const atLimit = longest.replace('"note":""', `"note":"${'a'.repeat(padding)}"`);
    const pieces = (text: string) => Array.from({ length: Math.ceil(text.length / 1_000_000) }, (_, i) => text.slice(i * 1_000_000, (i + 1) * 1_000_000));
    const text = `${atLimit}\r\n${atLimit.replace('"note":"', '"note":"b')}\n${line('next')}`;
    expect(await check(...pieces(text))).toEqual({
      errors: [{ code: 'line_too_long', message: `Line 2 is longer than the maximum of ${MAX_LINE_BYTES} bytes.`, param: null, line: 2 }],
      requests: 3,
      model: 'm',
    });
    expect((await check(atLimit.replace('"note":"', '"note":"b'))).errors.map((error) => error.code)).toEqual(['line_too_long']);
  });

  it('names the model of the first request, unless its name is too long to repeat', async () => {
    const named = (customId: string, model: string) => line(customId, { body: { model, messages: [] } });
    expect((await check(`not json\n${named('a', 'gpt-x')}\n${named('b', 'gpt-y')}`)).model).toBe('gpt-x');
    expect((await check(`${named('a', 'g'.repeat(257))}\n${named('b', 'gpt-y')}`)).model).toBe('gpt-y');
    expect((await check(named('a', 'g'.repeat(256)))).model).toBe('g'.repeat(256));
  });

  it('lists an empty file as one error, and at most 100 bad lines', async () => {
    expect(await check('\n \n')).toEqual({ errors: [{ code: 'empty_file', message: expect.any(String), param: null, line: null }], requests: 0 });
    expect((await check('x\n'.repeat(500))).errors).toHaveLength(100);
  });
});

describe('inputRequests', () => {
  it('yields the requests with their bodies as JSON text, a thousand per chunk', async () => {
    const text = Array.from({ length: 2500 }, (_, i) => line(`r${i}`)).join('\n');
    const chunks = await collect(inputRequests(stream(text), '/v1/chat/completions', 2500));
    expect(chunks.map((chunk) => chunk.length)).toEqual([1000, 1000, 500]);
    expect(chunks[2]![499]).toEqual({ customId: 'r2499', params: '{"model":"m","messages":[]}' });
    const cut = text.slice(0, text.indexOf('r2000') - 20);
    await expect(collect(inputRequests(stream(cut), '/v1/chat/completions', 2500))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('deleted') });
  });

  it('closes a chunk at about 1 MiB of bodies, so a file of large lines is never held whole', async () => {
    const text = Array.from({ length: 30 }, (_, i) => line(`r${i}`, { body: { model: 'm', note: 'x'.repeat(100_000) } })).join('\n');
    const chunks = await collect(inputRequests(stream(text), '/v1/chat/completions', 30));
    // 100,025 characters a body: the eleventh passes 1 MiB.
    expect(chunks.map((chunk) => chunk.length)).toEqual([11, 11, 8]);
  });

  it('keeps a large body as pieces of its JSON text, so the store never copies it whole', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'quote " and é '.repeat(200_000) }] };
    const [chunk] = await collect(inputRequests(stream(`${line('big', { body })}\n`), '/v1/chat/completions', 1));
    const request = chunk![0];
    expect(Array.isArray(request!.params)).toBe(true);
    expect((request!.params as string[]).length).toBeGreaterThan(10);
    expect((request!.params as string[]).join('')).toBe(JSON.stringify(body));
  });

  it('keeps each body\'s numbers as written, spaces aside', async () => {
    const exact = '{"model":"m","seed":9223372036854775807,"temperature":1.0,"messages":[{"role":"user","content":"1.0 \\" 1e5"}]}';
    const plain = '{"model":"m","temperature":0.7,"messages":[{"role":"user","content":"version 2.0"}]}';
    const lines = [exact, plain].map((body, i) => `{"custom_id": "r${i}", "method": "POST", "url": "/v1/chat/completions", "body": ${body.replaceAll(',', ', ')}}`);
    const [chunk] = await collect(inputRequests(stream(lines.join('\n')), '/v1/chat/completions', 2));
    expect(chunk!.map((request) => request.params)).toEqual([exact, plain]);
  });

  it('holds each line past 1 MiB in the large-JSON bytes while it is read and parsed, and gives it back, read through or not', async () => {
    const large = (customId: string) => line(customId, { body: { model: 'm', note: 'x'.repeat(1_500_000) } });
    const text = [large('a'), line('b'), large('c')].join('\n');
    const pieces = Array.from({ length: Math.ceil(text.length / 65536) }, (_, i) => text.slice(i * 65536, (i + 1) * 65536));
    const take = vi.spyOn(largeJson, 'take');
    try {
      const chunks = await collect(inputRequests(stream(...pieces), '/v1/chat/completions', 3));
      expect(chunks.flat().map((request) => request.customId)).toEqual(['a', 'b', 'c']);
      expect(take.mock.calls).toEqual([[MAX_LINE_BYTES], [MAX_LINE_BYTES]]);
      expect(largeJson.taken).toBe(0);
      // A reader that stops while a large line is held gives it back too.
      for await (const chunk of inputRequests(stream(...pieces), '/v1/chat/completions', 3)) if (chunk.length > 0) break;
      expect(largeJson.taken).toBe(0);
    } finally {
      take.mockRestore();
    }
  });
});
