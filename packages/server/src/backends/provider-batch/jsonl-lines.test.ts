import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonlLinePages, parseResultLine } from './jsonl-lines.js';
import { ProviderBatchError } from './provider-batch-client.js';

async function pagesOf(chunks: Array<string | Buffer>, maxLineBytes = 1024): Promise<string[][]> {
  const all: string[][] = [];
  for await (const page of jsonlLinePages(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), maxLineBytes)) all.push(page);
  return all;
}

const linesOf = async (chunks: string[], maxLineBytes?: number) => (await pagesOf(chunks, maxLineBytes)).flat();

describe('jsonlLinePages', () => {
  it('splits lines across chunks, drops \\r of CRLF and blank lines, and keeps a last line without \\n', async () => {
    expect(await linesOf(['{"a":', '1}\r\n\n{"b":"ü', '"}\n', '\r\n{"c":3}'])).toEqual(['{"a":1}', '{"b":"ü"}', '{"c":3}']);
  });

  it('yields the lines each chunk ends as one page, and no page for a chunk that ends none', async () => {
    expect(await pagesOf(['{"a":1}\n{"b":2}\n{"c":', '3}', '\n \t\r\n{"d":4}\n{"e"', ':5}'])).toEqual([['{"a":1}', '{"b":2}'], ['{"c":3}', '{"d":4}'], ['{"e":5}']]);
  });

  it('keeps a multi-byte character split between chunks whole', async () => {
    const snowman = Buffer.from('{"s":"☃"}\n');
    const chunks = [snowman.subarray(0, 7), snowman.subarray(7)];
    expect(await pagesOf(chunks, 64)).toEqual([['{"s":"☃"}']]);
  });

  it('stops at a line longer than the bound, within one chunk or across several', async () => {
    await expect(linesOf([`${'x'.repeat(20)}\n`], 16)).rejects.toBeInstanceOf(ProviderBatchError);
    await expect(linesOf(['x'.repeat(10), 'x'.repeat(10)], 16)).rejects.toMatchObject({ retryable: false });
    expect(await linesOf([`${'x'.repeat(16)}\n`], 16)).toEqual(['x'.repeat(16)]);
  });

  it('refuses a results line that is not an object with a custom_id', () => {
    expect(parseResultLine('{"custom_id":"a","x":1}')).toEqual({ custom_id: 'a', x: 1 });
    for (const bad of ['not json', '[1]', '{"custom_id":7}']) expect(() => parseResultLine(bad)).toThrow(ProviderBatchError);
  });
});
