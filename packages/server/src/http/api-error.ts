import type { ErrorResponse, ErrorType } from '@batchd/sdk';
import type { FastifyError } from 'fastify';
import { isStoreBusy } from '../store/store.js';
import { chatErrorBody, type ChatErrorBody } from '../wire/openai-error.js';

/** An error answered to an API client, in the Message Batches error envelope. */
export class ApiError extends Error {
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.headers = headers;
  }

  toEnvelope(requestId: string): ErrorResponse {
    return { type: 'error', error: { type: this.type, message: this.message }, request_id: requestId };
  }
}

export const invalidRequest = (message: string) => new ApiError(400, 'invalid_request_error', message);
export const authenticationError = (message: string) => new ApiError(401, 'authentication_error', message);
export const notFound = (message: string) => new ApiError(404, 'not_found_error', message);
export const permissionError = (message: string) => new ApiError(403, 'permission_error', message);
/** 408: the request's body did not arrive in time. */
export const uploadTimedOut = (message: string) => new ApiError(408, 'invalid_request_error', message);
export const requestTooLarge = (message: string) => new ApiError(413, 'request_too_large', message);
/** 429, telling the client how many seconds to wait before trying again. */
export const rateLimitError = (message: string, retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limit_error', message, { 'retry-after': String(retryAfterSeconds) });
export const apiError = (message: string) => new ApiError(500, 'api_error', message);
/**
 * 507: the store is short of space. Not worth an SDK's quick retries (`x-should-retry`, which
 * both official SDKs read): space comes back when batches and files are deleted, not in seconds.
 */
export const insufficientStorage = (message: string) => new ApiError(507, 'api_error', message, { 'x-should-retry': 'false' });
/** 503: the store had no connection to spare in time. */
export const storeBusy = () => new ApiError(503, 'overloaded_error', 'The server is busy; try again shortly.', { 'retry-after': '1' });

/** Turns framework errors (bad content type, oversized JSON, ...) and a busy store into API errors. */
export function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  if (isStoreBusy(error)) return storeBusy();
  const status = (error as FastifyError).statusCode;
  if (status === 413) return requestTooLarge(error.message);
  if (status !== undefined && status >= 400 && status < 500) return invalidRequest(error.message);
  return apiError('Internal server error');
}

/** OpenAI's Files and Batch paths and its one-call endpoints: a failure there answers in OpenAI's envelope, whether or not a route matched. */
const OPENAI_PATH = /^\/v1\/(?:files|batches|chat\/completions|completions|embeddings|responses)(?:[/?]|$)/;

/** `failure` in the error envelope of the API whose path `url` names. */
export function envelopeFor(url: string, failure: ApiError, requestId: string): ErrorResponse | ChatErrorBody {
  return OPENAI_PATH.test(url) ? chatErrorBody(failure.type, failure.message) : failure.toEnvelope(requestId);
}
