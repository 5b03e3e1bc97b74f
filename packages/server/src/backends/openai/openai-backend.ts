import type { Backend, BackendCall, BackendOutcome, ChatOutcome } from '../backend.js';
import type { ChatCompletion } from './chat-completions.js';
import { classifyResponse, invalidResponseBody } from '../classify.js';
import { HttpEndpoint } from '../http-endpoint.js';
import type { RateLimitState } from '../rate-limits.js';
import { fromOpenAI } from '../../translate/from-openai.js';
import { toOpenAI } from '../../translate/to-openai.js';

/**
 * An OpenAI-compatible chat completions server (vLLM, SGLang, llama.cpp server, Ollama, OpenAI):
 * each call translates the request's params with `toOpenAI`, POSTs them to
 * `{url}/chat/completions`, and translates the completion back into a `Message` with `fromOpenAI`.
 *
 * - Params that cannot be translated answer a non-retryable `invalid_request_error` naming the
 *   param (status 400), without calling the server.
 * - All calls go through one keep-alive undici `Pool`. A call that takes longer than `timeoutMs`
 *   is aborted and answered as a retryable `timeout_error`. A 2xx whose body is not a usable chat
 *   completion is a retryable `api_error` ("invalid response body: …"); any other answer is
 *   classified by `classifyResponse`. The API key never appears in an outcome.
 * - `sendChat` POSTs a chat completions request as given (its model mapped by `modelMap` when
 *   listed) and answers the provider's completion unchanged; a 2xx without `choices` is an
 *   invalid response body.
 * - `rateLimit()` returns what the most recent response carrying `x-ratelimit-*` (or
 *   `anthropic-ratelimit-*`) headers said, so the scheduler can pause until `exhaustedUntilMs`.
 */

export interface OpenAIBackendOptions {
  /** The name the engine reports this backend by. Defaults to `openai`. */
  name?: string;
  /** Base URL the server documents, ending in `/v1`, such as `http://127.0.0.1:8000/v1`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`; no header when absent (most local servers need none). */
  apiKey?: string;
  /** Longest a call may take before it is aborted, in milliseconds. Defaults to 600,000 (10 minutes). */
  timeoutMs?: number;
  /** Most connections the pool opens to the server. Defaults to no limit (the engine bounds calls in flight). */
  connections?: number;
  /** Model names to send instead of the requested ones, keyed by requested name; others are sent as given. */
  modelMap?: Readonly<Record<string, string>>;
  /** The current time in epoch milliseconds, for `retry-after` dates and rate-limit resets. Defaults to `Date.now`. */
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 600_000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class OpenAIBackend implements Backend {
  readonly name: string;
  readonly #endpoint: HttpEndpoint;
  readonly #apiKey: string | undefined;
  readonly #modelMap: Readonly<Record<string, string>>;
  readonly #now: () => number;

  constructor(options: OpenAIBackendOptions) {
    this.name = options.name ?? 'openai';
    const base = new URL(options.url);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/chat/completions`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    this.#apiKey = options.apiKey;
    this.#modelMap = options.modelMap ?? {};
    this.#now = options.now ?? Date.now;
    this.#endpoint = new HttpEndpoint({
      url: base.href,
      headers,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      connections: options.connections,
      secret: options.apiKey,
      now: this.#now,
    });
  }

  /** What the latest response carrying rate-limit headers said; `{}` until one arrives. */
  rateLimit(): RateLimitState {
    return this.#endpoint.rateLimit();
  }

  async send(call: BackendCall): Promise<BackendOutcome> {
    const translated = toOpenAI(call.params);
    if ('error' in translated) {
      return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: translated.error };
    }
    const requested = translated.body.model;
    const body = { ...translated.body, model: this.#modelMap[requested] ?? requested };
    const exchange = await this.#endpoint.post(JSON.stringify(body), call.signal);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs: this.#now(), secret: this.#apiKey });
    const completion = parseJson(text);
    if (completion === undefined) return invalidResponseBody(status);
    const result = fromOpenAI(completion, { model: requested, stopSequences: translated.body.stop });
    return 'error' in result ? invalidResponseBody(status, result.error) : { kind: 'message', message: result.message };
  }

  async sendChat(call: BackendCall): Promise<ChatOutcome> {
    const requested = call.params.model;
    const mapped = typeof requested === 'string' ? this.#modelMap[requested] : undefined;
    const body = mapped === undefined ? call.params : { ...call.params, model: mapped };
    const exchange = await this.#endpoint.post(JSON.stringify(body), call.signal);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs: this.#now(), secret: this.#apiKey });
    const completion = parseJson(text) as ChatCompletion | undefined;
    if (typeof completion !== 'object' || completion === null || !Array.isArray(completion.choices)) return invalidResponseBody(status, 'not a chat completion');
    return { kind: 'completion', completion };
  }

  async close(): Promise<void> {
    await this.#endpoint.close();
  }
}
