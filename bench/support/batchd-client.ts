import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A lean HTTP client for batchd on loopback: one keep-alive agent, bodies streamed, no SDK in
 * the way, so what the benchmark times is batchd rather than the client.
 */

export interface BatchView {
  id: string;
  processing_status: 'in_progress' | 'canceling' | 'ended';
  request_counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  created_at: string;
  ended_at: string | null;
}

export interface BackendView {
  name: string;
  calls: number;
  succeeded: number;
  rateLimited: number;
  concurrency_limit: number;
  in_flight: number;
}

type Body = Buffer | string | (() => Readable);

export class BatchdClient {
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(baseUrl: string, private readonly apiKey = 'bench-key', maxSockets = 64) {
    this.#url = new URL(baseUrl);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; resolves with the response, its body not yet read. */
  send(method: string, path: string, body?: Body, contentLength?: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'x-api-key': this.apiKey, 'anthropic-version': '2023-06-01' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = contentLength ?? Buffer.byteLength(body as Buffer | string);
      }
      const req = httpRequest(
        { host: this.#url.hostname, port: this.#url.port, method, path, headers, agent: this.#agent },
        resolve,
      );
      req.once('error', reject);
      if (typeof body === 'function') {
        const source = body();
        source.once('error', (error) => req.destroy(error));
        source.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  /** Sends one request and parses the JSON answer; throws unless the status is 2xx. */
  async json<T>(method: string, path: string, body?: Body, contentLength?: number): Promise<T> {
    const response = await this.send(method, path, body, contentLength);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new Error(`${method} ${path} answered ${status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  createBatch(body: Body, contentLength?: number): Promise<BatchView> {
    return this.json<BatchView>('POST', '/v1/messages/batches', body, contentLength);
  }

  retrieve(id: string): Promise<BatchView> {
    return this.json<BatchView>('GET', `/v1/messages/batches/${id}`);
  }

  /** The newest `limit` batches (at most 1000), newest first. */
  async listBatches(limit: number): Promise<BatchView[]> {
    return (await this.json<{ data: BatchView[] }>('GET', `/v1/messages/batches?limit=${limit}`)).data;
  }

  async backends(): Promise<BackendView[]> {
    return (await this.json<{ data: BackendView[] }>('GET', '/v1/batchd/backends')).data;
  }

  /** Retrieves the batch every `intervalMs` until it has ended; throws after `timeoutMs`. */
  async waitForEnd(id: string, intervalMs: number, timeoutMs: number): Promise<BatchView> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const batch = await this.retrieve(id);
      if (batch.processing_status === 'ended') return batch;
      if (performance.now() > deadline) {
        throw new Error(`batch ${id} had not ended after ${timeoutMs} ms: ${JSON.stringify(batch.request_counts)}`);
      }
      await delay(intervalMs);
    }
  }

  /** Reads a batch's results, handing each chunk to `onChunk`; returns bytes and lines read. */
  async streamResults(id: string, onChunk?: (chunk: Buffer) => void): Promise<{ bytes: number; lines: number }> {
    return this.streamLines(`/v1/messages/batches/${id}/results`, onChunk);
  }

  /** Reads a GET's answer, which must be 200, counting its bytes and lines as they arrive. */
  async streamLines(path: string, onChunk?: (chunk: Buffer) => void): Promise<{ bytes: number; lines: number }> {
    const response = await this.send('GET', path);
    if (response.statusCode !== 200) throw new Error(`GET ${path} answered ${response.statusCode}`);
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
      onChunk?.(chunk);
    }
    return { bytes, lines };
  }

  /** Milliseconds from sending a GET to reading the whole answer, which must be 200. */
  async timeGet(path: string): Promise<number> {
    const start = performance.now();
    const response = await this.send('GET', path);
    for await (const chunk of response) void chunk;
    const elapsed = performance.now() - start;
    if (response.statusCode !== 200) throw new Error(`GET ${path} answered ${response.statusCode}`);
    return elapsed;
  }

  close(): void {
    this.#agent.destroy();
  }
}
