import type { BackendCall, ChatAnswer, ChatBackend, ChatOutcome, OpenAIPath } from '../backend.js';
import type { OpenStream } from '../http-endpoint.js';
import type { ChatCompletion } from './chat-completions.js';
import { classifyResponse, classifyStream, invalidResponseBody } from '../classify.js';
import { ReplicaSet } from '../replicas/replica-set.js';
import { ReplicatedBackend } from '../replicas/replicated-backend.js';
import { hasInexactNumber, parseAnswer, withStringMember } from '../../json.js';

/**
 * An OpenAI-compatible server (vLLM, SGLang, llama.cpp server, Ollama, OpenAI): each call POSTs a
 * body to `{url}/chat/completions` (or `/embeddings`, `/completions`, `/responses`), its model
 * mapped by `modelMap` when listed. Messages params reach it translated (see `translate/send-messages.ts`).
 *
 * - Calls go through one keep-alive undici `Pool` per replica (see `replicas/replica-set.ts`). A call that takes longer than `timeoutMs`
 *   is aborted and answered as a retryable `timeout_error`. A 2xx whose body is not a usable chat
 *   completion is a retryable `api_error` ("invalid response body: …"); any other answer is
 *   classified by `classifyResponse`. The API key never appears in an outcome.
 * - `sendChat` answers the provider's completion unchanged; a 2xx without `choices` is an
 *   invalid response body. `streamChat` hands over a 2xx answer to a streamed call as it comes,
 *   and classifies any other like a whole one. `post` answers a 2xx's body parsed, for the caller to read.
 * - `rateLimit()` returns what the most recent response carrying `x-ratelimit-*` (or
 *   `anthropic-ratelimit-*`) headers said, so the scheduler can pause until `exhaustedUntilMs`.
 */

export interface OpenAIBackendOptions {
  /** The name the engine reports this backend by. Defaults to `openai`. */
  name?: string;
  /** Base URL the server documents, ending in `/v1`, such as `http://127.0.0.1:8000/v1`; or one per replica. */
  url: string | readonly string[];
  /** Sent as `Authorization: Bearer <apiKey>`; no header when absent (most local servers need none). */
  apiKey?: string;
  /** Longest a call may take before it is aborted, in milliseconds. Defaults to 600,000 (10 minutes). */
  timeoutMs?: number;
  /** Most connections the pool opens to the server. Defaults to no limit (the engine bounds calls in flight). */
  connections?: number;
  /** Model names to send instead of the requested ones, keyed by requested name; others are sent as given. */
  modelMap?: Readonly<Record<string, string>>;
  /** The server serves the Responses API (`POST {url}/responses`). Defaults to false. */
  responsesApi?: boolean;
  /** The current time in epoch milliseconds, for `retry-after` dates and rate-limit resets. Defaults to `Date.now`. */
  now?: () => number;
}

export class OpenAIBackend extends ReplicatedBackend implements ChatBackend {
  readonly name: string;
  readonly responsesApi: boolean;
  readonly #apiKey: string | undefined;
  readonly #modelMap: Readonly<Record<string, string>>;
  readonly #now: () => number;

  constructor(options: OpenAIBackendOptions) {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    const now = options.now ?? Date.now;
    super(
      new ReplicaSet({
        ...options,
        urls: typeof options.url === 'string' ? [options.url] : options.url,
        path: '/chat/completions',
        headers,
        secret: options.apiKey,
        now,
      }),
    );
    this.name = options.name ?? 'openai';
    this.responsesApi = options.responsesApi ?? false;
    this.#apiKey = options.apiKey;
    this.#modelMap = options.modelMap ?? {};
    this.#now = now;
  }

  async post(path: OpenAIPath, body: object, signal: AbortSignal, routingKey?: string, bodyText?: string): Promise<ChatAnswer> {
    const exchange = await this.endpoint.post(this.#bodyText(body, bodyText), signal, routingKey, path);
    if (exchange.kind === 'error') return exchange;
    const { status, headers, text } = exchange;
    if (status < 200 || status >= 300) return classifyResponse(status, headers, text, { nowMs: this.#now(), secret: this.#apiKey });
    return { kind: 'answer', status, json: parseAnswer(text) };
  }

  /** The text to send for `body`, its model mapped: its own `text` when given, numbers as written. */
  #bodyText(body: object, text: string | undefined): string {
    const requested = (body as { model?: unknown }).model;
    const mapped = typeof requested === 'string' ? this.#modelMap[requested] : undefined;
    if (mapped === undefined) return text ?? JSON.stringify(body);
    // Only a text with numbers a double would change needs its model replaced in place.
    const exact = text !== undefined && hasInexactNumber(text) ? withStringMember(text, 'model', mapped) : undefined;
    return exact ?? JSON.stringify({ ...body, model: mapped });
  }

  async sendChat(call: BackendCall): Promise<ChatOutcome> {
    const answer = await this.post('/chat/completions', call.params, call.signal, call.routingKey, call.paramsText);
    if (answer.kind === 'error') return answer;
    const completion = answer.json as ChatCompletion | undefined;
    if (typeof completion !== 'object' || completion === null || !Array.isArray(completion.choices)) return invalidResponseBody(answer.status, 'not a chat completion');
    return { kind: 'completion', completion };
  }

  async streamChat(call: BackendCall): Promise<OpenStream> {
    const answer = await this.endpoint.open(this.#bodyText(call.params, call.paramsText), call.signal, call.routingKey);
    return classifyStream(answer, { nowMs: this.#now(), secret: this.#apiKey });
  }
}
