import { expect } from 'vitest';
import type { ApiResponse } from './api.js';
import { schemaErrors } from './openapi.js';

/** OpenAI's routes (Files, Batch and chat completions) answer errors in OpenAI's envelope; paths no route matches, in batchd's. */
const OPENAI_PATH = /^\/v1\/(?:batches|files|chat\/completions|completions|embeddings|responses)(?:[/?]|$)/;

/** Checks any answer: below 500, a `request-id`, and for 4xx the error envelope of the path's API. */
export function expectWellFormed(response: ApiResponse, what: string, method = 'GET'): void {
  const context = `${what} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, context).toBeLessThan(500);
  expect(response.requestId ?? '(none)', `request-id header: ${context}`).toMatch(/^req_\w+$/);
  if (response.status < 400 || method === 'HEAD') return;
  expect(response.contentType ?? '', context).toMatch(/^application\/json/);
  if (OPENAI_PATH.test(what.split(' ')[1] ?? '') && (response.body as { type?: unknown }).type !== 'error') {
    const { error } = response.body as { error: Record<string, unknown> };
    expect(Object.keys(response.body as object), context).toEqual(['error']);
    expect([typeof error.message, typeof error.type], context).toEqual(['string', 'string']);
    for (const key of ['param', 'code']) expect(error[key] === null || typeof error[key] === 'string', `${key}: ${context}`).toBe(true);
    return;
  }
  const schema = response.status === 413 ? 'BatchdRequestTooLargeResponse' : 'ErrorResponse';
  expect(schemaErrors(schema, response.body), context).toEqual([]);
  expect((response.body as { request_id: unknown }).request_id, context).toBe(response.requestId);
}
