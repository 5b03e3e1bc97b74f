import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { NewRequest } from '../store.js';

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as a field of COPY's text format: backslash, newline, carriage return and tab escaped. */
function field(value: string): string {
  return value.replace(SPECIAL, (char) => ESCAPES[char]!);
}

/**
 * Streams `requests` into the `requests` table of batch `batchSeq` with one `COPY ... FROM
 * STDIN`, a chunk at a time and with backpressure, inside the caller's transaction. If
 * `requests` throws, the COPY is aborted (the transaction is then failed) and the error is
 * rethrown. Returns the number of rows copied.
 */
export async function copyRequests(client: pg.ClientBase, batchSeq: number, requests: AsyncIterable<NewRequest[]>): Promise<number> {
  const prefix = `${batchSeq}\t`;
  let count = 0;
  async function* lines(): AsyncGenerator<string> {
    for await (const chunk of requests) {
      let text = '';
      for (const request of chunk) text += `${prefix}${field(request.customId)}\t${field(request.params)}\n`;
      count += chunk.length;
      if (text !== '') yield text;
    }
  }
  const copy = client.query(copyFrom('COPY batchd.requests (batch_seq, custom_id, params) FROM STDIN'));
  await pipeline(Readable.from(lines(), { objectMode: false }), copy);
  return count;
}
