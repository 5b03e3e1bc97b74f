import type { Message } from '@batchd/sdk';
import { Pool } from 'undici';
import type { Backend, BackendCall, BackendOutcome } from '../backend.js';
import { classifyResponse, classifyTransportFailure, invalidResponseBody } from '../classify.js';
import { parseRateLimits, type HeaderMap, type RateLimitState } from '../rate-limits.js';

/**
 * The Anthropic API, or any server that speaks it: each call POSTs the request's params, exactly as
 * given, to `{url}/v1/messages`, and answers the provider's `Message` unchanged.
 *
 * All calls go through one keep-alive undici `Pool`. A call that takes longer than `timeoutMs`
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
  /** Base URL of the API without `/v1`, such as `https://api.anthropic.com`. */
  url: string;
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

type Exchange =
  | { kind: 'response'; status: number; headers: HeaderMap; text: string }
  | Extract<BackendOutcome, { kind: 'error' }>;

const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { type?: unknown; content?: unknown };
  return candidate.type === 'message' && Array.isArray(candidate.content);
}

function parseMessage(text: string): Message | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isMessage(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function isTimeoutError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.endsWith('TIMEOUT');
}

export class AnthropicBackend implements Backend {
  readonly name: string;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #rateLimit: RateLimitState = {};

  constructor(options: AnthropicBackendOptions) {
    this.name = options.name ?? 'anthropic';
    const base = new URL(options.url);
    this.#path = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
    this.#pool = new Pool(base.origin, { connections: options.connections ?? null, headersTimeout: 0, bodyTimeout: 0 });
    this.#apiKey = options.apiKey;
    this.#headers = {
      'x-api-key': options.apiKey,
      'anthropic-version': options.anthropicVersion ?? DEFAULT_ANTHROPIC_VERSION,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
  }

  /** What the latest response carrying rate-limit headers said; `{}` until one arrives. */
  rateLimit(): RateLimitState {
    return this.#rateLimit;
  }

  async send(call: BackendCall): Promise<BackendOutcome> {
    const exchange = await this.#post(JSON.stringify(call.params), call.signal);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    const nowMs = this.#now();
    this.#rateLimit = parseRateLimits(headers, nowMs) ?? this.#rateLimit;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs, secret: this.#apiKey });
    const message = parseMessage(text);
    return message === null ? invalidResponseBody(status) : { kind: 'message', message };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** POSTs `body` and reads the whole answer, or classifies why no answer came. */
  async #post(body: string, signal: AbortSignal): Promise<Exchange> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) controller.abort();
    try {
      const response = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers: this.#headers,
        body,
        signal: controller.signal,
      });
      const text = await response.body.text();
      return { kind: 'response', status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      const failure = timedOut || isTimeoutError(error) ? 'timeout' : signal.aborted ? 'aborted' : 'connection';
      return classifyTransportFailure(failure, error, { nowMs: this.#now(), secret: this.#apiKey });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
