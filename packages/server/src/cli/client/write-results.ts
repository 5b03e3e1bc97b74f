import type { MessageBatchIndividualResponse, MessageBatchRequestCounts } from '@batchd/sdk';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { countResult, emptyCounts } from './request-counts.js';

/** Lines are handed to the destination in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes results as JSONL, one compact object per line, to the file at `path` or to stdout, with
 * backpressure; resolves with the results counted by type. `live` hands each line over as it
 * arrives, for results that trickle in, instead of in large chunks.
 */
export async function writeResults(
  results: AsyncIterable<MessageBatchIndividualResponse>,
  path: string | undefined,
  options: { live?: boolean } = {},
): Promise<MessageBatchRequestCounts> {
  const counts = emptyCounts();
  const chunkChars = options.live ? 0 : CHUNK_CHARS;
  async function* lines(): AsyncGenerator<string> {
    let chunk = '';
    for await (const item of results) {
      countResult(counts, item.result);
      chunk += `${JSON.stringify(item)}\n`;
      if (chunk.length >= chunkChars) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  if (path === undefined) await pipeline(Readable.from(lines()), process.stdout, { end: false });
  else await pipeline(Readable.from(lines()), createWriteStream(path));
  return counts;
}
