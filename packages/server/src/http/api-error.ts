import type { ErrorResponse, ErrorType } from '@batchd/sdk';
import type { FastifyError } from 'fastify';
import { isStoreBusy } from '../store/store.js';

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
export const requestTooLarge = (message: string) => new ApiError(413, 'request_too_large', message);
export const apiError = (message: string) => new ApiError(500, 'api_error', message);

/** Turns framework errors (bad content type, oversized JSON, ...) and a busy store into API errors. */
export function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  if (isStoreBusy(error)) return new ApiError(503, 'overloaded_error', 'The server is busy; try again shortly.', { 'retry-after': '1' });
  const status = (error as FastifyError).statusCode;
  if (status === 413) return new ApiError(413, 'request_too_large', error.message);
  if (status !== undefined && status >= 400 && status < 500) return invalidRequest(error.message);
  return apiError('Internal server error');
}
