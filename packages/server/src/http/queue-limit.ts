import type { NewRequest } from '../store/store.js';
import { rateLimitError, type ApiError } from './api-error.js';

/**
 * Passes the chunks through while the workspace's queue has room for them. Past `room` requests
 * it fails with 429; given `onOver`, it hands the 429 there instead and reads on, passing no more.
 */
export async function* withinQueueLimit(
  chunks: AsyncIterable<NewRequest[]>,
  room: number,
  limit: number,
  onOver?: (error: ApiError) => void,
): AsyncGenerator<NewRequest[]> {
  let count = 0;
  for await (const chunk of chunks) {
    count += chunk.length;
    if (count <= room) {
      yield chunk;
      continue;
    }
    const error = rateLimitError(`This batch would take the workspace's queue past its limit of ${limit} requests waiting or running.`, 60);
    if (!onOver) throw error;
    onOver(error);
  }
}
