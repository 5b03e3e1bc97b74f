import { describe, expect, it } from 'vitest';
import { chatErrorBody, chatErrorStatus } from './openai-error.js';

describe('chatErrorBody and chatErrorStatus', () => {
  it.each([
    ['invalid_request_error', 400, 'invalid_request_error', null],
    ['authentication_error', 401, 'invalid_request_error', 'invalid_api_key'],
    ['permission_error', 403, 'invalid_request_error', null],
    ['not_found_error', 404, 'invalid_request_error', null],
    ['request_too_large', 413, 'invalid_request_error', null],
    ['rate_limit_error', 429, 'rate_limit_error', 'rate_limit_exceeded'],
    ['billing_error', 429, 'insufficient_quota', 'insufficient_quota'],
    ['api_error', 500, 'server_error', null],
    ['overloaded_error', 503, 'service_unavailable_error', 'server_is_overloaded'],
    ['timeout_error', 504, 'server_error', null],
    ['teapot_error', 500, 'server_error', null],
    ['constructor', 500, 'server_error', null],
  ])('maps %s to status %i, type %s, code %s', (errorType, status, type, code) => {
    expect(chatErrorStatus(errorType)).toBe(status);
    expect(chatErrorBody(errorType, 'Something happened.')).toEqual({ error: { message: 'Something happened.', type, param: null, code } });
  });

  it('names the param an invalid request starts with', () => {
    const param = (message: string) => chatErrorBody('invalid_request_error', message).error.param;
    expect(param('temperature (above 1): not supported by the Messages backend')).toBe('temperature');
    expect(param('messages.2.tool_calls.0.function.arguments: not a JSON object')).toBe('messages.2.tool_calls.0.function.arguments');
    expect(param('max_tokens: Input should be a valid integer')).toBe('max_tokens');
    expect(param('Your credit balance is too low: add funds')).toBeNull();
    expect(param('prompt is too long: 210000 tokens > 200000 maximum')).toBeNull();
    expect(chatErrorBody('not_found_error', 'model: claude-x is not served by any configured backend').error.param).toBeNull();
  });
});
