import type { Readable } from 'node:stream';
import { isObject, type Json } from '../../json.js';
import { ProviderBatchError } from './provider-batch-client.js';

const NEWLINE = 0x0a;

function tooLong(maxLineBytes: number): ProviderBatchError {
  return new ProviderBatchError(`provider results line longer than ${maxLineBytes} bytes`, { status: 200, retryable: false, errorType: 'api_error' });
}

/**
 * The lines of a JSONL body as it streams, without their `\n` or `\r\n`, blank lines skipped.
 * Only the line being read is held; one longer than `maxLineBytes` stops the download.
 */
export async function* jsonlLines(body: Readable, maxLineBytes: number): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (tail: Buffer): string => {
    const line = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
    return line.toString('utf8', 0, end);
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + at - start > maxLineBytes) throw tooLong(maxLineBytes);
      const line = take(chunk.subarray(start, at));
      start = at + 1;
      if (line.trim() !== '') yield line;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong(maxLineBytes);
      pending.push(chunk.subarray(start));
    }
  }
  const last = take(Buffer.alloc(0));
  if (last.trim() !== '') yield last;
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
