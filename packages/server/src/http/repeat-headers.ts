import type { FastifyRequest } from 'fastify';
import { invalidRequest } from './api-error.js';

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** The create's `Idempotency-Key` header: 1 to 255 printable ASCII characters, else 400; undefined when absent. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw invalidRequest('Idempotency-Key: must be 1 to 255 printable ASCII characters');
  }
  return key;
}

/**
 * Whether the client says this request retries an earlier attempt: the official SDKs send
 * `x-stainless-retry-count` on every attempt, 0 on the first.
 */
export function isSdkRetry(request: FastifyRequest): boolean {
  const count = request.headers['x-stainless-retry-count'];
  return typeof count === 'string' && /^\d+$/.test(count) && Number(count) > 0;
}
