import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonlLines, parseResultLine } from './jsonl-lines.js';
import { ProviderBatchError } from './provider-batch-client.js';

async function linesOf(chunks: string[], maxLineBytes = 1024): Promise<string[]> {
  const all: string[] = [];
  for await (const line of jsonlLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), maxLineBytes)) all.push(line);
  return all;
}

describe('jsonlLines', () => {
  it('splits lines across chunks, drops \\r of CRLF and blank lines, and keeps a last line without \\n', async () => {
    expect(await linesOf(['{"a":', '1}\r\n\n{"b":"ü', '"}\n', '\r\n{"c":3}'])).toEqual(['{"a":1}', '{"b":"ü"}', '{"c":3}']);
  });

  it('keeps a multi-byte character split between chunks whole', async () => {
    const snowman = Buffer.from('{"s":"☃"}\n');
    const chunks = [snowman.subarray(0, 7), snowman.subarray(7)];
    const all: string[] = [];
    for await (const line of jsonlLines(Readable.from(chunks), 64)) all.push(line);
    expect(all).toEqual(['{"s":"☃"}']);
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
