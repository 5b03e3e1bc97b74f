import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { NewRequest } from '../store.js';
import { withSpooled } from '../../spool.js';

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as a field of COPY's text format: backslash, newline, carriage return and tab escaped. */
export function copyField(value: string): string {
  return value.replace(SPECIAL, (char) => ESCAPES[char]!);
}

/** The columns each line gives; a request handed to a provider-batch backend at create also its state, attempts and backend. */
const COLUMNS = 'batch_seq, custom_id, params, prefix_key';
const ROUTED_COLUMNS = `${COLUMNS}, state, attempts, provider_backend`;

/** The lines of COPY's text format for `requests` of batch `batchSeq`, counting them into `counted`. */
async function* copyLines(batchSeq: number, requests: AsyncIterable<NewRequest[]>, counted: { count: number }, providerBackend?: string): AsyncGenerator<Buffer> {
  const prefix = `${batchSeq}\t`;
  // Running unleased with one attempt, as routing a queued request leaves it.
  const routed = providerBackend === undefined ? '' : `\trunning\t1\t${copyField(providerBackend)}`;
  for await (const chunk of requests) {
    let text = '';
    for (const { customId, params, prefixKey } of chunk) {
      const suffix = `\t${prefixKey ?? '\\N'}${routed}\n`;
      if (typeof params === 'string') {
        text += `${prefix}${copyField(customId)}\t${copyField(params)}${suffix}`;
        continue;
      }
      // Large params go a piece at a time: neither their text nor its line is ever whole here.
      yield Buffer.from(`${text}${prefix}${copyField(customId)}\t`);
      text = '';
      for (const piece of params) yield Buffer.from(copyField(piece));
      text = suffix;
    }
    counted.count += chunk.length;
    if (text !== '') yield Buffer.from(text);
  }
}

/** Requests spooled by {@link spoolRequests}, ready to be copied. */
export interface SpooledRequests {
  count: number;
  /** Streams the requests into the `requests` table with one `COPY ... FROM STDIN`, inside the caller's transaction. */
  copyInto(client: pg.ClientBase): Promise<void>;
}

/**
 * Reads `requests` of batch `batchSeq` to their end into a temporary file, as COPY's text
 * format, then runs `work` with them. If `requests` throws, `work` never runs and the error is
 * rethrown. With `providerBackend`, the requests are copied handed to that provider-batch backend.
 */
export async function spoolRequests<T>(
  batchSeq: number,
  requests: AsyncIterable<NewRequest[]>,
  work: (spooled: SpooledRequests) => Promise<T>,
  providerBackend?: string,
): Promise<T> {
  const counted = { count: 0 };
  const columns = providerBackend === undefined ? COLUMNS : ROUTED_COLUMNS;
  return withSpooled(copyLines(batchSeq, requests, counted, providerBackend), (content) =>
    work({
      count: counted.count,
      async copyInto(client) {
        const copy = client.query(copyFrom(`COPY batchd.requests (${columns}) FROM STDIN`));
        await pipeline(Readable.from(content()), copy);
      },
    }),
  );
}
