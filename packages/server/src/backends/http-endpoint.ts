import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { BackendOutcome } from './backend.js';
import { classifyTransportFailure, type TransportFailure } from './classify.js';
import { parseRateLimits, type HeaderMap, type RateLimitState } from './rate-limits.js';
import { SharedDeadlines } from './shared-deadlines.js';
import { WholeAnswer, type Answer } from './whole-answer.js';

type ErrorOutcome = Extract<BackendOutcome, { kind: 'error' }>;

/** A provider's whole answer, or the classified reason none came. */
export type Exchange = ({ kind: 'response' } & Answer) | ErrorOutcome;

/** A provider's answer whose body is still streaming (server-sent events). */
export type OpenStream = { kind: 'stream'; status: number; headers: HeaderMap; body: Readable } | ErrorOutcome;

export interface HttpEndpointOptions {
  /** Base URL of the provider, such as `https://api.anthropic.com`. */
  url: string;
  /** Path of the endpoint under the base URL's path, such as `/v1/messages`: where calls go unless they name another. */
  path: string;
  headers: Record<string, string>;
  /** Longest a call may take before it is aborted, in milliseconds. Defaults to 600,000 (10 minutes). */
  timeoutMs?: number;
  /** Most connections to the provider; no limit when absent (the engine bounds calls in flight). */
  connections?: number;
  /** The upstream key, kept out of every error message. */
  secret?: string;
  now: () => number;
  /** Most bytes of one answer's body read; a longer answer fails the call. Defaults to {@link MAX_ANSWER_BYTES}. */
  maxAnswerBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 600_000;
/**
 * Most bytes of an answer read: far above any model's output (the largest, an embeddings answer of
 * 2,048 inputs of 3,072 floats as JSON, is about 130 MB), so a backend that never stops sending
 * cannot fill the server's memory.
 */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** Why a call that threw got no answer: its deadline (`timedOut`, or undici's own timeouts), the caller's abort, or the connection. */
export function transportFailureOf(error: unknown, signal: AbortSignal, timedOut = false): TransportFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (timedOut || (typeof code === 'string' && code.endsWith('TIMEOUT'))) return 'timeout';
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return 'too_large';
  return signal.aborted ? 'aborted' : 'connection';
}

/** A call's own abort signal, aborted by the caller's signal or once `timeoutMs` has passed. */
export class CallDeadline {
  readonly #controller = new AbortController();
  readonly #caller: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #onAbort = (): void => this.#controller.abort();
  #timedOut = false;

  constructor(caller: AbortSignal, timeoutMs: number) {
    this.#caller = caller;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort();
    }, timeoutMs);
    caller.addEventListener('abort', this.#onAbort);
    if (caller.aborted) this.#controller.abort();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the deadline passed (rather than the caller aborting). */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Stops the deadline; the caller's signal still aborts the call. */
  stopTimer(): void {
    clearTimeout(this.#timer);
  }

  /** Stops the deadline and lets go of the caller's signal. */
  release(): void {
    clearTimeout(this.#timer);
    this.#caller.removeEventListener('abort', this.#onAbort);
  }
}

/**
 * One provider endpoint behind one keep-alive undici pool: POSTs JSON with a deadline that
 * covers the whole call, an abort signal from the caller, and the rate-limit state the latest
 * answer announced.
 */
export class HttpEndpoint {
  readonly #pool: Pool;
  readonly #base: string;
  readonly #path: string;
  readonly #options: HttpEndpointOptions;
  readonly #deadlines: SharedDeadlines;
  #rateLimit: RateLimitState = {};

  constructor(options: HttpEndpointOptions) {
    const url = new URL(options.url);
    this.#base = url.pathname.replace(/\/+$/, '');
    this.#path = `${this.#base}${options.path}`;
    this.#pool = new Pool(url.origin, { connections: options.connections ?? null, headersTimeout: 0, bodyTimeout: 0, maxResponseSize: options.maxAnswerBytes ?? MAX_ANSWER_BYTES });
    this.#options = options;
    this.#deadlines = new SharedDeadlines(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** What the latest response carrying rate-limit headers said; `{}` until one arrives. */
  rateLimit(): RateLimitState {
    return this.#rateLimit;
  }

  /** POSTs `body` and reads the whole answer; to `path` under the base URL's path when given. */
  async post(body: string, signal: AbortSignal, path?: string): Promise<Exchange> {
    const { headers, now, secret } = this.#options;
    const answer = new WholeAnswer();
    const deadline = this.#deadlines.enter(signal, () => answer.abort());
    try {
      this.#pool.dispatch({ path: path === undefined ? this.#path : `${this.#base}${path}`, method: 'POST', headers, body }, answer);
      const answered = await answer.done;
      this.#rateLimit = parseRateLimits(answered.headers, now()) ?? this.#rateLimit;
      return { kind: 'response', ...answered };
    } catch (error) {
      return classifyTransportFailure(transportFailureOf(error, signal, deadline.timedOut), error, { nowMs: now(), secret });
    } finally {
      deadline.release();
    }
  }

  /**
   * POSTs `body` and hands over the answer as soon as its headers arrive; the deadline stops
   * there, and the caller reads (or destroys) the body.
   */
  async open(body: string, signal: AbortSignal): Promise<OpenStream> {
    const { headers, timeoutMs = DEFAULT_TIMEOUT_MS, now, secret } = this.#options;
    const deadline = new CallDeadline(signal, timeoutMs);
    let keepSignal = false;
    try {
      const response = await this.#pool.request({ path: this.#path, method: 'POST', headers, body, signal: deadline.signal });
      this.#rateLimit = parseRateLimits(response.headers, now()) ?? this.#rateLimit;
      deadline.stopTimer();
      keepSignal = true;
      response.body.once('close', () => deadline.release());
      return { kind: 'stream', status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      return classifyTransportFailure(transportFailureOf(error, signal, deadline.timedOut), error, { nowMs: now(), secret });
    } finally {
      if (!keepSignal) deadline.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
