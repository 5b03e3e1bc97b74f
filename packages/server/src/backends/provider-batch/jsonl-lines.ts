import type { Readable } from 'node:stream';
import { isObject, type Json } from '../../json.js';
import { ProviderBatchError } from './provider-batch-client.js';

const NEWLINE = 0x0a;

function tooLong(maxLineBytes: number): ProviderBatchError {
  return new ProviderBatchError(`provider results line longer than ${maxLineBytes} bytes`, { status: 200, retryable: false, errorType: 'api_error' });
}

/** Whether a line holds anything but JSON's whitespace, without copying it. */
function blank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0d && code !== 0x0a) return false;
  }
  return true;
}

/**
 * The lines of a JSONL body as it streams, a page per chunk read (the lines it ends), without
 * their `\n` or `\r\n`, blank lines skipped. Only the line being read is held across chunks;
 * one longer than `maxLineBytes` stops the download.
 */
export async function* jsonlLinePages(body: Readable, maxLineBytes: number): AsyncGenerator<string[]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** The line ending at `end` of `chunk`, with the pieces before it. */
  const take = (chunk: Buffer, start: number, end: number): string => {
    const whole = pending.length > 0;
    const line = whole ? Buffer.concat([...pending, chunk.subarray(start, end)]) : chunk;
    const [from, to] = whole ? [0, line.length] : [start, end];
    [pending, pendingBytes] = [[], 0];
    return line.toString('utf8', from, to > from && line[to - 1] === 0x0d ? to - 1 : to);
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const page: string[] = [];
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + at - start > maxLineBytes) throw tooLong(maxLineBytes);
      const line = take(chunk, start, at);
      start = at + 1;
      if (!blank(line)) page.push(line);
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong(maxLineBytes);
      pending.push(chunk.subarray(start));
    }
    if (page.length > 0) yield page;
  }
  const last = take(Buffer.alloc(0), 0, 0);
  if (!blank(last)) yield [last];
}

/** A results line parsed, with its `custom_id`; throws a retryable error when it is not such an object. */
export function parseResultLine(line: string): Json & { custom_id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw ProviderBatchError.invalidAnswer('a results line is not JSON');
  }
  if (!isObject(parsed) || typeof parsed.custom_id !== 'string') throw ProviderBatchError.invalidAnswer('a results line has no custom_id');
  return parsed as Json & { custom_id: string };
}
