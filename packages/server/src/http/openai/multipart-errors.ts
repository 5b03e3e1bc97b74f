import type { FastifyError } from 'fastify';
import { ApiError, invalidRequest } from '../api-error.js';

/**
 * The multipart reader's complaints about the body itself (no boundary, a boundary over 256
 * bytes, a form cut off before its closing boundary) come without a status: they are the
 * client's, answered 400. Limits and answers batchd gives keep their own status.
 */
export async function* malformedAs400<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (error) {
    if (error instanceof ApiError || (error as FastifyError).statusCode !== undefined) throw error;
    throw invalidRequest(`The multipart body is malformed: ${(error as Error).message}`);
  }
}
