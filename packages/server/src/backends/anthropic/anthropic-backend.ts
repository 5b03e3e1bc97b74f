import type { Message } from '@batchd/sdk';
import { parseAnswer } from '../../json.js';
import type { BackendCall, BackendOutcome, CountOutcome, MessagesBackend, TokenCount } from '../backend.js';
import { classifyResponse, classifyStream, invalidResponseBody } from '../classify.js';
import type { OpenStream } from '../http-endpoint.js';
import { ReplicaSet } from '../replicas/replica-set.js';
import { ReplicatedBackend } from '../replicas/replicated-backend.js';

/**
 * The Anthropic API, or any server that speaks it: each call POSTs the request's params, exactly as
 * given, to `{url}/v1/messages`, and answers the provider's `Message` unchanged (its text too, when
 * reading it as doubles would change a number in it).
 *
 * Calls go through one keep-alive undici `Pool` per replica (see `replicas/replica-set.ts`). A call that takes longer than `timeoutMs`
 * (headers and body together) is aborted and answered as a retryable `timeout_error`. A 2xx whose
 * body is not a JSON `Message` is a retryable `api_error` ("invalid response body"); any other
 * answer is classified by `classifyResponse`. The API key never appears in an outcome.
 *
 * `rateLimit()` returns what the most recent response carrying rate-limit headers said, so the
 * scheduler can pause dispatch until `exhaustedUntilMs`.
 */

export interface AnthropicBackendOptions {
  /** The name the engine reports this backend by. Defaults to `anthropic`. */
  name?: string;
  /** Base URL of the API without `/v1`, such as `https://api.anthropic.com`; or one per replica. */
  url: string | readonly string[];
  /** Sent as `x-api-key`. */
  apiKey: string;
  /** Longest a call may take before it is aborted, in milliseconds. Defaults to 600,000 (10 minutes). */
  timeoutMs?: number;
  /** Sent as `anthropic-version`. Defaults to `2023-06-01`. */
  anthropicVersion?: string;
  /** Most connections the pool opens to the provider. Defaults to no limit (the engine bounds calls in flight). */
  connections?: number;
  /** The current time in epoch milliseconds, for `retry-after` dates and rate-limit resets. Defaults to `Date.now`. */
  now?: () => number;
}

const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';
const LINE_BREAK = /[\r\n]/;

function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { type?: unknown; content?: unknown };
  return candidate.type === 'message' && Array.isArray(candidate.content);
}

function parseMessage(text: string): Message | null {
  const parsed = parseAnswer(text);
  return isMessage(parsed) ? parsed : null;
}

function parseCount(text: string): TokenCount | null {
  const parsed = parseAnswer(text);
  const count = typeof parsed === 'object' && parsed !== null ? (parsed as { input_tokens?: unknown }) : {};
  return Number.isInteger(count.input_tokens) ? (parsed as TokenCount) : null;
}

export class AnthropicBackend extends ReplicatedBackend implements MessagesBackend {
  readonly name: string;
  readonly #apiKey: string;
  readonly #now: () => number;

  constructor(options: AnthropicBackendOptions) {
    const now = options.now ?? Date.now;
    super(
      new ReplicaSet({
        ...options,
        urls: typeof options.url === 'string' ? [options.url] : options.url,
        path: '/v1/messages',
        headers: {
          'x-api-key': options.apiKey,
          'anthropic-version': options.anthropicVersion ?? DEFAULT_ANTHROPIC_VERSION,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        secret: options.apiKey,
        now,
      }),
    );
    this.name = options.name ?? 'anthropic';
    this.#apiKey = options.apiKey;
    this.#now = now;
  }

  async send(call: BackendCall): Promise<BackendOutcome> {
    const exchange = await this.endpoint.post(call.paramsText ?? JSON.stringify(call.params), call.signal, call.routingKey);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs: this.#now(), secret: this.#apiKey });
    const message = parseMessage(text);
    if (message === null) return invalidResponseBody(status);
    // The answer as written, when it fits on a line: a result stores it, and `/v1/messages` answers it, with no
    // second serialization, and numbers a double would change (a model's uint64 in a tool's input) kept.
    return LINE_BREAK.test(text) ? { kind: 'message', message } : { kind: 'message', message, messageText: text };
  }

  /** Counts the input tokens of `POST /v1/messages/count_tokens` params: the provider's own count, as it answered it. */
  async countTokens(call: BackendCall): Promise<CountOutcome> {
    const exchange = await this.endpoint.post(call.paramsText ?? JSON.stringify(call.params), call.signal, call.routingKey, COUNT_TOKENS_PATH);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs: this.#now(), secret: this.#apiKey });
    const count = parseCount(text);
    return count === null ? invalidResponseBody(status) : { kind: 'count', count };
  }

  /** Opens a streaming call (`stream: true` in params): the provider's event stream, passed through; a failure classified. */
  async stream(call: BackendCall): Promise<OpenStream> {
    const answer = await this.endpoint.open(call.paramsText ?? JSON.stringify(call.params), call.signal, call.routingKey);
    return classifyStream(answer, { nowMs: this.#now(), secret: this.#apiKey });
  }
}
