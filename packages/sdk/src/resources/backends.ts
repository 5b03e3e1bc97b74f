import type { BatchdClient, RequestOptions } from '../client.js';
import type { BackendStatus } from '../wire-types.js';

/** `client.backends`: what each backend lane is doing (`/v1/batchd/backends`), a batchd extension. */
export class Backends {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** Every lane with its concurrency limit, calls in flight and call counters. */
  async list(options?: RequestOptions): Promise<BackendStatus[]> {
    const body = await this.#client.requestJSON<{ data: BackendStatus[] }>({ ...options, method: 'GET', path: '/v1/batchd/backends' });
    return body.data;
  }
}
