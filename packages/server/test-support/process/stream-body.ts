import { request } from 'node:http';
import { Readable } from 'node:stream';
import { TEST_API_KEY } from '../api/api.js';

/**
 * Sends a POST whose body comes from a generator, chunk by chunk with backpressure (chunked
 * transfer encoding), so bodies of hundreds of megabytes never sit in memory. A server may answer
 * before the body is complete (as batchd does once a create body passes its size limit): the
 * answer is returned, and sending stops.
 */

export interface StreamedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Bytes handed to the socket before the answer arrived or the body ended. */
  bytesSent: number;
}

export function postStreamed(url: string, chunks: () => Generator<Buffer>, headers: Record<string, string> = {}): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    let answered = false;
    const source = Readable.from(
      (function* counted() {
        for (const chunk of chunks()) {
          bytesSent += chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, 'anthropic-version': '2023-06-01', ...headers },
    });
    req.on('response', (res) => {
      answered = true;
      source.unpipe(req);
      source.destroy();
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      const finish = () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8'), bytesSent });
        req.destroy();
      };
      res.on('end', finish);
      // A server that closes the connection right after answering may cut the stream short of
      // 'end'; what arrived is kept (a truncated JSON body then fails the test's parse).
      res.on('close', finish);
      res.on('error', () => undefined);
    });
    req.on('error', (error) => {
      // Writing after the server answered and closed may fail; the answer is what counts.
      if (!answered) reject(new Error(`request failed before any response (${bytesSent} bytes sent): ${error.message}`));
    });
    source.pipe(req);
  });
}
