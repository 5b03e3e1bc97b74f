import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BatchdError,
  type APIErrorBody,
} from './core/error.js';
import { isRetryableResponse, retryDelay, serverRetryDelay, sleep as timerSleep, type Sleep } from './internal/backoff.js';
import { Backends } from './resources/backends.js';
import { Batches } from './resources/batches.js';
import { OpenAIBatches } from './resources/openai-batches.js';
import { OpenAIFiles } from './resources/openai-files.js';
import { Webhooks } from './resources/webhooks.js';

/** The `fetch` signature the client calls; Web `fetch` and undici's both fit. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8787';
export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
export const ANTHROPIC_VERSION = '2023-06-01';
/** Which attempt a request is (0 the first), under the name the official SDKs send it. */
const RETRY_COUNT_HEADER = 'x-stainless-retry-count';

export interface ClientOptions {
  /** Sent as `x-api-key`. Defaults to `BATCHD_API_KEY`, then `ANTHROPIC_API_KEY`; one is required. */
  apiKey?: string | undefined;
  /**
   * Root URL of the service, without `/v1`. Defaults to `BATCHD_BASE_URL`, then
   * `ANTHROPIC_BASE_URL`, then `http://127.0.0.1:8787`.
   */
  baseURL?: string | undefined;
  /** Milliseconds to wait for response headers (the body then streams without a limit). Default 600000. */
  timeout?: number | undefined;
  /** Retries after a connection error, timeout, 408, 409, 429 or 5xx. Default 2. */
  maxRetries?: number | undefined;
  /** The `fetch` used for every request. Defaults to `globalThis.fetch`. */
  fetch?: Fetch | undefined;
  /** Headers added to every request; per-request `headers` override them. */
  defaultHeaders?: HeadersInit | undefined;
  /** Waits between retries and between polls. Defaults to a timer; replace it to observe or skip waits. */
  sleep?: Sleep | undefined;
}

/** Options every API method accepts as its last argument. */
export interface RequestOptions {
  /** Milliseconds to wait for response headers, overriding the client's `timeout`. */
  timeout?: number | undefined;
  /** Aborts the request, the waits between its retries and any body still streaming. */
  signal?: AbortSignal | undefined;
  /** Retries for this request, overriding the client's `maxRetries`. */
  maxRetries?: number | undefined;
  /** Extra headers for this request; they override the client's headers. */
  headers?: HeadersInit | undefined;
}

/** One API call as the resources describe it. */
export interface APIRequest extends RequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  /** A path joined to `baseURL`, or an absolute URL used as is. */
  path: string;
  query?: Record<string, string | number | undefined> | undefined;
  /** A serialized JSON body. */
  body?: string | undefined;
  /** The `Accept` header; `application/json` unless given. */
  accept?: string | undefined;
}

/** Client of a batchd service (or of any server speaking the Message Batches API). */
export class BatchdClient {
  readonly apiKey: string;
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly sleep: Sleep;
  readonly messages: { readonly batches: Batches };
  /** batchd's webhook endpoints and delivery logs. */
  readonly webhooks: Webhooks;
  /** What each backend lane is doing. */
  readonly backends: Backends;
  /** Batches and files of the OpenAI-format API, read with the same key. */
  readonly openai: { readonly batches: OpenAIBatches; readonly files: OpenAIFiles };
  readonly #fetch: Fetch;
  readonly #defaultHeaders: HeadersInit | undefined;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv('BATCHD_API_KEY') ?? readEnv('ANTHROPIC_API_KEY');
    if (!apiKey) {
      throw new BatchdError('Missing API key: pass `apiKey` or set BATCHD_API_KEY (or ANTHROPIC_API_KEY).');
    }
    this.apiKey = apiKey;
    this.baseURL = (
      options.baseURL ??
      readEnv('BATCHD_BASE_URL') ??
      readEnv('ANTHROPIC_BASE_URL') ??
      DEFAULT_BASE_URL
    ).replace(/\/+$/, '');
    this.timeout = checkCount('timeout', options.timeout ?? DEFAULT_TIMEOUT_MS);
    this.maxRetries = checkCount('maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#defaultHeaders = options.defaultHeaders;
    this.sleep = options.sleep ?? timerSleep;
    this.messages = { batches: new Batches(this) };
    this.webhooks = new Webhooks(this);
    this.backends = new Backends(this);
    this.openai = { batches: new OpenAIBatches(this), files: new OpenAIFiles(this) };
  }

  /** `path` joined to `baseURL` (or used as is when absolute), with `query` appended. */
  buildURL(path: string, query?: APIRequest['query']): string {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(path);
    const url = new URL(absolute ? path : this.baseURL + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /**
   * Sends a request, retrying as configured, and resolves with the first successful response.
   * Error statuses throw the matching `APIError` subclass. Each attempt says which it is in
   * `x-stainless-retry-count` (0 first), as the official SDKs do, unless the caller set that
   * header: a server can then answer a retried create with the batch the first attempt made.
   */
  async request(req: APIRequest): Promise<Response> {
    const url = this.buildURL(req.path, req.query);
    const maxRetries = checkCount('maxRetries', req.maxRetries ?? this.maxRetries);
    const timeout = checkCount('timeout', req.timeout ?? this.timeout);
    const headers = this.#headers(req);
    const countAttempts = !headers.has(RETRY_COUNT_HEADER);
    const init: RequestInit = { method: req.method, headers, body: req.body ?? null };
    const { signal } = req;
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw new APIUserAbortError();
      if (countAttempts) headers.set(RETRY_COUNT_HEADER, String(retry));
      let response: Response;
      try {
        response = await this.#send(url, init, timeout, signal);
      } catch (error) {
        if (!(error instanceof APIConnectionError) || retry >= maxRetries) throw error;
        await this.#wait(retryDelay(retry), signal);
        continue;
      }
      if (response.ok) return response;
      if (retry < maxRetries && isRetryableResponse(response.status, response.headers)) {
        await response.body?.cancel().catch(() => undefined);
        await this.#wait(serverRetryDelay(response.headers) ?? retryDelay(retry), signal);
        continue;
      }
      throw await errorFromResponse(response);
    }
  }

  /** One attempt: resolves once response headers arrive, or rejects with a typed error. */
  async #send(url: string, init: RequestInit, timeout: number, signal: AbortSignal | undefined): Promise<Response> {
    const timer = new AbortController();
    const timeoutId = setTimeout(() => timer.abort(), timeout);
    try {
      const fetch = this.#fetch;
      return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timer.signal]) : timer.signal });
    } catch (cause) {
      if (signal?.aborted) throw new APIUserAbortError();
      if (timer.signal.aborted) throw new APIConnectionTimeoutError();
      throw new APIConnectionError({ cause });
    } finally {
      clearTimeout(timeoutId);
    }
  }

  /** Sends a request and parses its JSON body. */
  async requestJSON<T>(req: APIRequest): Promise<T> {
    const response = await this.request(req);
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      if (req.signal?.aborted) throw new APIUserAbortError();
      throw new APIConnectionError({ message: 'The response body was interrupted.', cause });
    }
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new BatchdError(`Invalid JSON in the response to ${req.method} ${req.path}.`, { cause });
    }
  }

  #headers(req: APIRequest): Headers {
    const headers = new Headers({
      accept: req.accept ?? 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
      'x-api-key': this.apiKey,
    });
    if (req.body !== undefined) headers.set('content-type', 'application/json');
    for (const extra of [this.#defaultHeaders, req.headers]) {
      new Headers(extra).forEach((value, key) => headers.set(key, value));
    }
    return headers;
  }

  async #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.sleep(ms, signal);
    } catch (error) {
      if (signal?.aborted) throw new APIUserAbortError();
      throw error;
    }
  }
}

async function errorFromResponse(response: Response): Promise<APIError<number, Headers>> {
  const text = await response.text().catch(() => '');
  const body = parseErrorBody(text);
  return APIError.generate(response.status, body, body ? undefined : text || undefined, response.headers);
}

function parseErrorBody(text: string): APIErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as APIErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new BatchdError(`${name} must be a non-negative integer, got ${value}.`);
  }
  return value;
}
