import type { BatchdClient, RequestOptions } from '../client.js';
import { APIConnectionError, BatchdError } from '../core/error.js';
import { Page, PagePromise, type PageParams, type PageResponse } from '../core/pagination.js';
import { JSONLStream, type LineCheck } from '../internal/jsonl.js';
import type {
  BatchCreateParams,
  BatchListParams,
  BatchResultsParams,
  DeletedMessageBatch,
  MessageBatch,
  MessageBatchIndividualResponse,
  MessageBatchResult,
  MessageBatchUsage,
  ProviderBatch,
} from '../wire-types.js';
import {
  BatchSubmission,
  resultsMap,
  retryFailed,
  submit,
  wait,
  type RequestSource,
  type RetryFailedOptions,
  type SubmitOptions,
  type WaitOptions,
} from './batch-helpers.js';

const BATCHES_PATH = '/v1/messages/batches';

/** `client.messages.batches`: the six Message Batches operations and helpers built on them. */
export class Batches {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** The client these calls go through. */
  get client(): BatchdClient {
    return this.#client;
  }

  /** Creates a batch (`POST /v1/messages/batches`). Processing starts at once. */
  create(body: BatchCreateParams, options?: RequestOptions): Promise<MessageBatch> {
    return this.createFromJSON(JSON.stringify(body), options);
  }

  /** Creates a batch from an already serialized `BatchCreateParams` body (sent byte for byte). */
  createFromJSON(body: string, options?: RequestOptions): Promise<MessageBatch> {
    return this.#client.requestJSON<MessageBatch>({ ...options, method: 'POST', path: BATCHES_PATH, body });
  }

  /** Retrieves a batch (`GET /v1/messages/batches/{id}`); poll it to follow progress. */
  retrieve(id: string, options?: RequestOptions): Promise<MessageBatch> {
    return this.#client.requestJSON<MessageBatch>({ ...options, method: 'GET', path: batchPath(id) });
  }

  /** A batch's token totals, cache hit rate and cost so far (`GET /v1/messages/batches/{id}/usage`), a batchd extension. */
  usage(id: string, options?: RequestOptions): Promise<MessageBatchUsage> {
    return this.#client.requestJSON<MessageBatchUsage>({ ...options, method: 'GET', path: `${batchPath(id)}/usage` });
  }

  /** The provider batches a batch's requests went to (`GET /v1/messages/batches/{id}/provider_batches`), a batchd extension. */
  providerBatches(id: string, options?: RequestOptions): Promise<{ data: ProviderBatch[] }> {
    return this.#client.requestJSON<{ data: ProviderBatch[] }>({ ...options, method: 'GET', path: `${batchPath(id)}/provider_batches` });
  }

  /**
   * Lists batches, newest first. Await it for the first page, or iterate it with `for await` to
   * walk every batch across pages.
   */
  list(query: BatchListParams = {}, options?: RequestOptions): PagePromise<MessageBatch> {
    const fetchPage = async (params: PageParams): Promise<Page<MessageBatch>> => {
      const body = await this.#client.requestJSON<PageResponse<MessageBatch>>({
        ...options,
        method: 'GET',
        path: BATCHES_PATH,
        query: { before_id: params.before_id, after_id: params.after_id, limit: params.limit },
      });
      return new Page(body, params, fetchPage);
    };
    return PagePromise.fromFetch(fetchPage, query);
  }

  /** Starts canceling a batch (`POST /v1/messages/batches/{id}/cancel`); it moves to `canceling`. */
  cancel(id: string, options?: RequestOptions): Promise<MessageBatch> {
    return this.#client.requestJSON<MessageBatch>({ ...options, method: 'POST', path: `${batchPath(id)}/cancel` });
  }

  /** Deletes an ended batch (`DELETE /v1/messages/batches/{id}`). */
  delete(id: string, options?: RequestOptions): Promise<DeletedMessageBatch> {
    return this.#client.requestJSON<DeletedMessageBatch>({ ...options, method: 'DELETE', path: batchPath(id) });
  }

  /**
   * Streams the results of an ended batch, one `MessageBatchIndividualResponse` per JSONL line,
   * decoded as they arrive. Retrieves the batch first and fetches its `results_url`; throws a
   * `BatchdError` when the batch has no `results_url` yet (it has not ended).
   *
   * With `{ partial: true }` it reads the results finished so far straight from batchd, also
   * while the batch runs, in the order they finished; adding `follow: true` keeps the stream open
   * until the batch has ended, yielding each result as it finishes. The options come last, as in
   * the official SDK; `results(id, options)` still works.
   */
  results(id: string, options?: RequestOptions): Promise<JSONLStream<MessageBatchIndividualResponse>>;
  results(id: string, params: BatchResultsParams | undefined, options?: RequestOptions): Promise<JSONLStream<MessageBatchIndividualResponse>>;
  async results(
    id: string,
    paramsOrOptions?: BatchResultsParams | RequestOptions,
    maybeOptions?: RequestOptions,
  ): Promise<JSONLStream<MessageBatchIndividualResponse>> {
    const withParams = maybeOptions !== undefined || isResultsParams(paramsOrOptions);
    const params = withParams ? ((paramsOrOptions as BatchResultsParams | undefined) ?? {}) : {};
    const options = withParams ? maybeOptions : (paramsOrOptions as RequestOptions | undefined);
    if (params.follow && !params.partial) throw new BatchdError('results: follow needs partial: true.');
    let path = `${batchPath(id)}/results`;
    if (!params.partial) {
      const batch = await this.retrieve(id, options);
      if (!batch.results_url) {
        throw new BatchdError(
          `Batch ${id} has no results_url: its processing_status is ${batch.processing_status}; results exist once it has ended.`,
        );
      }
      path = batch.results_url;
    }
    const query = params.partial ? { partial: 'true', follow: params.follow ? 'true' : undefined } : undefined;
    const response = await this.#client.request({
      ...options,
      method: 'GET',
      path,
      query,
      accept: 'application/binary',
    });
    if (!response.body) throw new APIConnectionError({ message: `The results of batch ${id} arrived without a body.` });
    return new JSONLStream<MessageBatchIndividualResponse>(response.body, {
      check: checkIndividualResponse,
      signal: options?.signal,
    });
  }

  /**
   * Polls a batch until it has ended and resolves with it. Waits grow from `pollInterval` to
   * `maxPollInterval`; transient failures (connection errors, 429, 5xx) are tolerated up to
   * `maxConsecutiveErrors` in a row.
   */
  wait(id: string, options?: WaitOptions): Promise<MessageBatch> {
    return wait(this, id, options);
  }

  /**
   * Creates as many batches as `requests` need under the per-batch limits (100,000 requests,
   * 256 MB), in order, and returns a handle over all of them.
   */
  submit(requests: RequestSource, options?: SubmitOptions): Promise<BatchSubmission> {
    return submit(this, requests, options);
  }

  /** Reads all results of an ended batch into a map keyed by `custom_id`. */
  resultsMap(id: string, options?: RequestOptions): Promise<Map<string, MessageBatchResult>> {
    return resultsMap(this, id, options);
  }

  /**
   * Creates a batch of the `originalRequests` whose result in batch `id` has a type in
   * `options.types` (default `errored` and `expired`). Resolves with the new batch, or with
   * null when no result has those types.
   */
  retryFailed(
    id: string,
    originalRequests: RequestSource,
    options?: RetryFailedOptions,
  ): Promise<MessageBatch | null> {
    return retryFailed(this, id, originalRequests, options);
  }
}

/** Whether the second argument of `results` is its params rather than request options. */
function isResultsParams(value: BatchResultsParams | RequestOptions | undefined): value is BatchResultsParams {
  return value !== undefined && ('partial' in value || 'follow' in value);
}

function batchPath(id: string): string {
  return `${BATCHES_PATH}/${encodeURIComponent(id)}`;
}

const checkIndividualResponse: LineCheck = (value) => {
  if (typeof value['custom_id'] !== 'string') return 'missing custom_id';
  const result = value['result'];
  if (typeof result !== 'object' || result === null) return `missing result for ${value['custom_id']}`;
  if (typeof (result as Record<string, unknown>)['type'] !== 'string') return `missing result type for ${value['custom_id']}`;
  return null;
};
