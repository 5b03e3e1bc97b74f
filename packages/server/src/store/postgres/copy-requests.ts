import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { NewRequest } from '../store.js';
import { withSpooled } from './spool.js';

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const LF = 0x0a;

/** A value as a field of COPY's text format: backslash, newline, carriage return and tab escaped. */
function field(value: string): string {
  return value.replace(SPECIAL, (char) => ESCAPES[char]!);
}

/** The `custom_id\tparams\n` lines of COPY's text format for `requests`, counting them into `counted`. */
async function* copyLines(requests: AsyncIterable<NewRequest[]>, counted: { count: number }): AsyncGenerator<Buffer> {
  for await (const chunk of requests) {
    let text = '';
    for (const request of chunk) text += `${field(request.customId)}\t${field(request.params)}\n`;
    counted.count += chunk.length;
    if (text !== '') yield Buffer.from(text);
  }
}

/** The spooled lines with `prefix` (the batch's column) put before each. */
async function* prefixed(content: AsyncIterable<Buffer>, prefix: Buffer): AsyncGenerator<Buffer> {
  let lineStart = true;
  for await (const chunk of content) {
    const parts: Buffer[] = [];
    let start = 0;
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, start)) {
      if (lineStart) parts.push(prefix);
      parts.push(chunk.subarray(start, at + 1));
      start = at + 1;
      lineStart = true;
    }
    if (start < chunk.length) {
      if (lineStart) parts.push(prefix);
      parts.push(chunk.subarray(start));
      lineStart = false;
    }
    yield Buffer.concat(parts);
  }
}

/** Requests spooled by {@link spoolRequests}, ready to be copied into a batch. */
export interface SpooledRequests {
  count: number;
  /** Streams the requests into the `requests` table of batch `batchSeq` with one `COPY ... FROM STDIN`, inside the caller's transaction. */
  copyInto(client: pg.ClientBase, batchSeq: number): Promise<void>;
}

/**
 * Reads `requests` to their end into a temporary file, as COPY's text format, then runs `work`
 * with them. If `requests` throws, `work` never runs and the error is rethrown.
 */
export async function spoolRequests<T>(requests: AsyncIterable<NewRequest[]>, work: (spooled: SpooledRequests) => Promise<T>): Promise<T> {
  const counted = { count: 0 };
  return withSpooled(copyLines(requests, counted), (content) =>
    work({
      count: counted.count,
      async copyInto(client, batchSeq) {
        const copy = client.query(copyFrom('COPY batchd.requests (batch_seq, custom_id, params) FROM STDIN'));
        await pipeline(Readable.from(prefixed(content(), Buffer.from(`${batchSeq}\t`))), copy);
      },
    }),
  );
}
