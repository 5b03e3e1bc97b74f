import { describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  BatchdError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTooLargeError,
  UnprocessableEntityError,
} from './error.js';

const headers = new Headers({ 'request-id': 'req_abc' });
const envelope = (type: string, message: string) => ({ type: 'error', error: { type, message }, request_id: 'req_abc' });

describe('APIError.generate', () => {
  it.each([
    [400, BadRequestError, 'BadRequestError'],
    [401, AuthenticationError, 'AuthenticationError'],
    [403, PermissionDeniedError, 'PermissionDeniedError'],
    [404, NotFoundError, 'NotFoundError'],
    [409, ConflictError, 'ConflictError'],
    [413, RequestTooLargeError, 'RequestTooLargeError'],
    [422, UnprocessableEntityError, 'UnprocessableEntityError'],
    [429, RateLimitError, 'RateLimitError'],
    [500, InternalServerError, 'InternalServerError'],
    [503, InternalServerError, 'InternalServerError'],
    [529, InternalServerError, 'InternalServerError'],
  ])('maps %i to %o', (status, ErrorClass, name) => {
    const error = APIError.generate(status, envelope('some_error', 'went wrong'), undefined, headers);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(BatchdError);
    expect(error.name).toBe(name);
    expect(error.status).toBe(status);
    expect(error.type).toBe('some_error');
    expect(error.requestID).toBe('req_abc');
    expect(error.message).toBe(`${status} went wrong`);
    expect(error.error).toEqual(envelope('some_error', 'went wrong'));
  });

  it('falls back to APIError for other statuses and describes bodies without a message', () => {
    const teapot = APIError.generate(418, undefined, 'short and stout', new Headers());
    expect(teapot.constructor).toBe(APIError);
    expect(teapot.message).toBe('418 short and stout');
    expect(teapot.type).toBeNull();
    expect(teapot.requestID).toBeNull();
    expect(APIError.generate(502, undefined, undefined, new Headers()).message).toBe('502 status code (no body)');
    const cloudflare = APIError.generate(413, { error: { type: 'request_too_large' } }, undefined, new Headers());
    expect(cloudflare.message).toBe('413 {"error":{"type":"request_too_large"}}');
    expect(cloudflare.type).toBe('request_too_large');
  });
});

describe('errors without a response', () => {
  it('carry no status and say what happened', () => {
    const cause = new TypeError('fetch failed');
    const connection = new APIConnectionError({ cause });
    expect(connection.status).toBeUndefined();
    expect(connection.message).toBe('Connection error.');
    expect(connection.cause).toBe(cause);
    const timeout = new APIConnectionTimeoutError();
    expect(timeout).toBeInstanceOf(APIConnectionError);
    expect(timeout.message).toBe('Request timed out.');
    const abort = new APIUserAbortError();
    expect(abort).not.toBeInstanceOf(APIConnectionError);
    expect(abort.name).toBe('APIUserAbortError');
  });
});
