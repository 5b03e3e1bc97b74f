import type { BatchdClient, RequestOptions } from '../client.js';
import type { OpenAIBatch, OpenAIBatchList, OpenAIBatchListParams, OpenAIBatchUsage } from '../openai-batch-types.js';

/** `client.openai.batches`: reading batches made through the OpenAI Batch API (`/v1/batches`). */
export class OpenAIBatches {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** One page of the workspace's OpenAI batches, newest first. */
  list(query: OpenAIBatchListParams = {}, options?: RequestOptions): Promise<OpenAIBatchList> {
    return this.#client.requestJSON<OpenAIBatchList>({ ...options, method: 'GET', path: '/v1/batches', query: { after: query.after, limit: query.limit } });
  }

  retrieve(id: string, options?: RequestOptions): Promise<OpenAIBatch> {
    return this.#client.requestJSON<OpenAIBatch>({ ...options, method: 'GET', path: `/v1/batches/${encodeURIComponent(id)}` });
  }

  /** A batch's token totals, cache hit rate and cost so far (`GET /v1/batches/{id}/usage`), a batchd extension. */
  usage(id: string, options?: RequestOptions): Promise<OpenAIBatchUsage> {
    return this.#client.requestJSON<OpenAIBatchUsage>({ ...options, method: 'GET', path: `/v1/batches/${encodeURIComponent(id)}/usage` });
  }
}
