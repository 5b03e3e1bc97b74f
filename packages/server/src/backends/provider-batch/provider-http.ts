import { Readable } from 'node:stream';
import { Agent } from 'undici';
import { ANSWER_SHAPE, parseAnswer } from '../../json.js';
import { classifyResponse, classifyTransportFailure } from '../classify.js';
import { CallDeadline, transportFailureOf } from '../http-endpoint.js';
import { jsonlLinePages } from './jsonl-lines.js';
import { ProviderBatchError } from './provider-batch-client.js';

/**
 * The HTTP calls of a provider batch client: JSON calls under one base URL and streamed downloads,
 * through one keep-alive undici `Agent` (redirects are not followed), every failure thrown as a
 * classified `ProviderBatchError` (the key given as `secret` never appears in one).
 *
 * Bounds: a JSON answer is read up to 32 MiB and an error answer up to 64 KiB; a call (headers and
 * body) is aborted after `timeoutMs`, and a download's body after `timeoutMs` without a byte.
 */

export interface ProviderHttpOptions {
  /** Base URL: `https://api.anthropic.com`, or `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Headers of every call (the key among them). */
  headers: Record<string, string>;
  /** The upstream key, kept out of every error message. */
  secret?: string;
  /** Longest a call may take, and longest a download may go without a byte. Defaults to 600,000 ms. */
  timeoutMs?: number;
  now: () => number;
}

/** A request body: its chunks, and their total length in bytes when known (sent as `content-length`; else the body is chunked). */
export interface OutgoingBody {
  contentType: string;
  length?: number;
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** `value` as a JSON request body. */
export function jsonBody(value: unknown): OutgoingBody {
  const bytes = Buffer.from(JSON.stringify(value));
  return { contentType: 'application/json', length: bytes.length, chunks: [bytes] };
}

const DEFAULT_TIMEOUT_MS = 600_000;
const MAX_JSON_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/** The text of a body, or undefined (the body destroyed) once it passes `limit` bytes. */
async function readBounded(body: Readable, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class ProviderHttp {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #options: ProviderHttpOptions;

  constructor(options: ProviderHttpOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    this.#base = new URL(options.baseUrl);
    this.#options = options;
  }

  /** The URL of `path` (which may carry a query) under the base URL's path. */
  url(path: string): URL {
    return new URL(`${this.#base.pathname.replace(/\/+$/, '')}${path}`, this.#base.origin);
  }

  /** Whether `url` is on the base URL's origin, so the key may be sent there. */
  sameOrigin(url: URL): boolean {
    return url.origin === this.#base.origin;
  }

  /** Calls `path` and parses the 2xx answer as JSON. */
  async json(method: 'GET' | 'POST', path: string, body: OutgoingBody | undefined, signal: AbortSignal): Promise<unknown> {
    const text = await this.#call(this.url(path), method, body, signal, true, (response) => readBounded(response, MAX_JSON_BYTES));
    if (text === undefined) throw ProviderBatchError.invalidAnswer('answer too large');
    const answer = parseAnswer(text);
    if (answer === undefined) throw ProviderBatchError.invalidAnswer(`not JSON, or nested deeper than ${ANSWER_SHAPE.maxDepth} levels`);
    return answer;
  }

  /**
   * GETs `url` and yields the lines of its JSONL answer as they stream, a page per chunk (see
   * `jsonl-lines.ts`); a download cut short throws a retryable `ProviderBatchError`.
   */
  async *linePages(url: URL, maxLineBytes: number, signal: AbortSignal): AsyncGenerator<string[]> {
    const body = await this.#call(url, 'GET', undefined, signal, false, async (response) => response);
    try {
      yield* jsonlLinePages(body, maxLineBytes);
    } catch (error) {
      if (error instanceof ProviderBatchError) throw error;
      const failure = transportFailureOf(error, signal);
      throw ProviderBatchError.from(classifyTransportFailure(failure, error, { nowMs: this.#options.now(), secret: this.#options.secret }));
    } finally {
      body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #call<T>(
    url: URL,
    method: 'GET' | 'POST',
    body: OutgoingBody | undefined,
    signal: AbortSignal,
    wholeCall: boolean,
    read: (response: Readable) => Promise<T>,
  ): Promise<T> {
    const { now, secret, timeoutMs = DEFAULT_TIMEOUT_MS } = this.#options;
    const deadline = new CallDeadline(signal, timeoutMs);
    const headers: Record<string, string> = { ...this.#options.headers, accept: wholeCall ? 'application/json' : '*/*' };
    if (body !== undefined) headers['content-type'] = body.contentType;
    if (body?.length !== undefined) headers['content-length'] = String(body.length);
    let keepSignal = false;
    try {
      const response = await this.#agent.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, body: body === undefined ? undefined : Readable.from(body.chunks, { objectMode: false }), signal: deadline.signal });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const text = (await readBounded(response.body, MAX_ERROR_BYTES)) ?? '';
        throw ProviderBatchError.from(classifyResponse(response.statusCode, response.headers, text, { nowMs: now(), secret }));
      }
      if (!wholeCall) {
        deadline.stopTimer();
        keepSignal = true;
        response.body.once('close', () => deadline.release());
      }
      return await read(response.body);
    } catch (error) {
      if (error instanceof ProviderBatchError) throw error;
      throw ProviderBatchError.from(classifyTransportFailure(transportFailureOf(error, signal, deadline.timedOut), error, { nowMs: now(), secret }));
    } finally {
      if (!keepSignal) deadline.release();
    }
  }
}
