import type { ErrorType } from '@batchd/sdk';
import type { Readable } from 'node:stream';
import type { BackendOutcome } from './backend.js';
import type { OpenStream } from './http-endpoint.js';
import { headerValue, parseRetryAfterMs, type HeaderMap } from './rate-limits.js';
import { isObject } from '../json.js';

/**
 * Turns a provider's failed answer, or a call that got no answer, into a `BackendOutcome` error.
 *
 * Retryability follows the official SDKs' table: 408, 409, 429 and every status from 500 up
 * (529 included) may pass later; any other 4xx will not. An `x-should-retry: true|false` header,
 * which the SDKs honour, overrides the table. The message is the provider's when its body is an
 * Anthropic envelope (`{type:'error', error:{type,message}}`), an OpenAI one
 * (`{error:{message,type,code}}`), vLLM's older flat one (`{object:'error', message, type}`) or
 * `{error:"message"}`; otherwise it names the status and the start of the body. The error type is
 * an Anthropic envelope's when it is one of the Anthropic API's error types (results must carry
 * one of those); otherwise it is the one the status implies, since other providers' types mean
 * other things (OpenAI answers a bad key 401 `invalid_request_error`).
 *
 * Calls that got no answer (refused or dropped connections, timeouts, aborts) are retryable with
 * status 0. The secret given (the upstream key) is replaced by `[redacted]` in every message.
 */

export type ErrorOutcome = Extract<BackendOutcome, { kind: 'error' }>;

/** Why a call got no answer. */
export type TransportFailure = 'timeout' | 'aborted' | 'connection' | 'too_large';

/** What classification needs besides the answer itself. */
export interface ClassifyContext {
  /** The current time in epoch milliseconds, for `retry-after` given as an HTTP date. */
  nowMs: number;
  /** A value that must never appear in a message, such as the upstream API key. */
  secret?: string;
}

/** The error type each status implies; other 5xx are `api_error`, other 4xx `invalid_request_error`. */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  409: 'api_error',
  413: 'request_too_large',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

/** The error types an Anthropic error envelope may carry, and a result may hold. */
const ERROR_TYPES: ReadonlySet<string> = new Set<ErrorType>([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'timeout_error',
  'api_error',
  'overloaded_error',
]);

const BODY_EXCERPT_CHARS = 200;

/** Replaces every occurrence of `secret` in `text`. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}

/** Whether a status may succeed when the same call is made again, per the SDKs' table. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function typeFromStatus(status: number): string {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/**
 * The message of a provider's error envelope, with its type when it is an Anthropic envelope;
 * null when the body is not an envelope.
 */
export function parseErrorEnvelope(body: string): { type?: string; message: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isObject(parsed)) return null;
  const error = parsed.error;
  if (typeof error === 'string') return { message: error };
  const fields = isObject(error) ? error : parsed.object === 'error' ? parsed : null;
  if (fields === null || typeof fields.message !== 'string') return null;
  const anthropic = parsed.type === 'error' && typeof fields.type === 'string';
  return anthropic ? { type: String(fields.type), message: fields.message } : { message: fields.message };
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

function shouldRetryOverride(headers: HeaderMap): boolean | undefined {
  const value = headerValue(headers, 'x-should-retry');
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** The outcome of a provider answer with a non-2xx status. */
export function classifyResponse(status: number, headers: HeaderMap, body: string, context: ClassifyContext): ErrorOutcome {
  const envelope = parseErrorEnvelope(body);
  const retryable = shouldRetryOverride(headers) ?? isRetryableStatus(status);
  const errorType = envelope?.type !== undefined && ERROR_TYPES.has(envelope.type) ? envelope.type : typeFromStatus(status);
  const fallback = body.trim() === '' ? `provider answered HTTP ${status}` : `provider answered HTTP ${status}: ${excerpt(body)}`;
  const outcome: ErrorOutcome = {
    kind: 'error',
    retryable,
    status,
    errorType,
    message: redact(envelope?.message ?? fallback, context.secret),
  };
  const retryAfterMs = parseRetryAfterMs(headers, context.nowMs);
  if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
  return outcome;
}

/** Most bytes of a failed streamed call's body read to classify it. */
const STREAM_ERROR_BYTES = 64 * 1024;

/**
 * A streamed call's answer as the caller should see it: a 2xx stream as it is, any other answer
 * classified like a whole one from the start of its body (the rest is not read), so what reaches
 * a client is batchd's error with the secret redacted, never the provider's body.
 */
export async function classifyStream(answer: OpenStream, context: ClassifyContext): Promise<OpenStream> {
  if (answer.kind === 'error' || (answer.status >= 200 && answer.status < 300)) return answer;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of answer.body as Readable & AsyncIterable<Buffer>) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes >= STREAM_ERROR_BYTES) break;
  }
  const text = Buffer.concat(chunks).subarray(0, STREAM_ERROR_BYTES).toString('utf8');
  return classifyResponse(answer.status, answer.headers, text, context);
}

/** The outcome of a call given up because its caller went away: retryable, with status 0. */
export function abortedOutcome(): ErrorOutcome {
  return { kind: 'error', retryable: true, status: 0, errorType: 'api_error', message: 'request aborted' };
}

/** The outcome of a call that got no answer: always retryable, with status 0. */
export function classifyTransportFailure(failure: TransportFailure, cause: unknown, context: ClassifyContext): ErrorOutcome {
  if (failure === 'timeout') {
    return { kind: 'error', retryable: true, status: 0, errorType: 'timeout_error', message: 'provider did not answer in time' };
  }
  if (failure === 'aborted') return abortedOutcome();
  // Asking again would read as much again.
  if (failure === 'too_large') {
    return { kind: 'error', retryable: false, status: 0, errorType: 'api_error', message: 'the provider\'s answer was longer than batchd reads of one answer' };
  }
  return {
    kind: 'error',
    retryable: true,
    status: 0,
    errorType: 'api_error',
    message: redact(`connection error: ${describeCause(cause)}`, context.secret),
  };
}

/** A 2xx answer whose body is not what the backend expects: retryable, since the provider misbehaved. */
export function invalidResponseBody(status: number, detail?: string): ErrorOutcome {
  const message = detail === undefined ? 'invalid response body' : `invalid response body: ${detail}`;
  return { kind: 'error', retryable: true, status, errorType: 'api_error', message };
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const nested = cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
  return typeof code === 'string' ? `${code}: ${cause.message}${nested}` : `${cause.message}${nested}`;
}
