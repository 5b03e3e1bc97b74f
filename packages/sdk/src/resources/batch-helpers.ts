import type { RequestOptions } from '../client.js';
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  BatchdError,
  SubmitError,
  WaitTimeoutError,
} from '../core/error.js';
import { pollDelay } from '../internal/backoff.js';
import {
  CUSTOM_ID_PATTERN,
  MAX_BATCH_BYTES,
  MAX_BATCH_REQUESTS,
  type BatchCreateRequest,
  type MessageBatch,
  type MessageBatchIndividualResponse,
  type MessageBatchResult,
} from '../wire-types.js';
import type { Batches } from './batches.js';

/** Requests given to `submit()` and `retryFailed()`: an array, a generator, a stream… */
export type RequestSource = Iterable<BatchCreateRequest> | AsyncIterable<BatchCreateRequest>;

export interface WaitOptions {
  /** Stops waiting; the promise then rejects with `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
  /** Called with the batch after every successful poll, the last one included. */
  onProgress?: ((batch: MessageBatch) => void) | undefined;
  /** Milliseconds before the second poll; later waits grow by half each time. Default 1000. */
  pollInterval?: number | undefined;
  /** Longest wait between polls, in ms. Default 10000 (or `pollInterval` when larger). */
  maxPollInterval?: number | undefined;
  /** Gives up after this many ms with a `WaitTimeoutError`. Default: no limit. */
  timeout?: number | undefined;
  /** Transient failures (connection errors, 429, 5xx) tolerated in a row before rethrowing. Default 5. */
  maxConsecutiveErrors?: number | undefined;
}

export interface SubmitOptions extends RequestOptions {
  /** Most requests per created batch. Default `MAX_BATCH_REQUESTS` (100,000). */
  maxRequestsPerBatch?: number | undefined;
  /** Largest serialized create body per batch, in bytes. Default `MAX_BATCH_BYTES` (256 MB). */
  maxBytesPerBatch?: number | undefined;
}

export interface RetryFailedOptions extends RequestOptions {
  /** Result types to resubmit. Default `['errored', 'expired']`. */
  types?: ReadonlyArray<MessageBatchResult['type']> | undefined;
}

/** Bytes of `{"requests":[` and `]}` around the serialized requests of a create body. */
const ENVELOPE_BYTES = 15;

function requestOptions(options: RequestOptions): RequestOptions {
  const { timeout, signal, maxRetries, headers } = options;
  return { timeout, signal, maxRetries, headers };
}

async function pause(batches: Batches, ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await batches.client.sleep(ms, signal);
  } catch (error) {
    if (signal?.aborted) throw new APIUserAbortError();
    throw error;
  }
  if (signal?.aborted) throw new APIUserAbortError();
}

function isTransient(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && error.status !== undefined && (error.status === 429 || error.status >= 500);
}

export async function wait(batches: Batches, id: string, options: WaitOptions = {}): Promise<MessageBatch> {
  const { signal, onProgress, timeout } = options;
  const initial = options.pollInterval ?? 1_000;
  const max = options.maxPollInterval ?? Math.max(10_000, initial);
  const maxErrors = options.maxConsecutiveErrors ?? 5;
  const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
  let last: MessageBatch | null = null;
  let errors = 0;
  for (let poll = 0; ; poll++) {
    try {
      last = await batches.retrieve(id, { signal });
      errors = 0;
      onProgress?.(last);
      if (last.processing_status === 'ended') return last;
    } catch (error) {
      errors++;
      if (!isTransient(error) || errors > maxErrors) throw error;
    }
    const remaining = deadline - Date.now();
    if (timeout !== undefined && remaining <= 0) throw new WaitTimeoutError(id, timeout, last);
    await pause(batches, Math.min(pollDelay(poll, initial, max), remaining), signal);
  }
}

/** The batches created by one `submit()` call, in submission order. */
export class BatchSubmission {
  /** The batches as created, or as last seen by `wait()`. */
  batches: MessageBatch[];
  readonly #resource: Batches;

  constructor(resource: Batches, batches: MessageBatch[]) {
    this.#resource = resource;
    this.batches = batches;
  }

  get ids(): string[] {
    return this.batches.map((batch) => batch.id);
  }

  /** Waits until every batch has ended; `timeout` bounds the whole wait. */
  async wait(options: WaitOptions = {}): Promise<MessageBatch[]> {
    const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
    const ended: MessageBatch[] = [];
    for (const id of this.ids) {
      const timeout = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      ended.push(await wait(this.#resource, id, { ...options, timeout }));
    }
    this.batches = ended;
    return ended;
  }

  /** Streams the results of every batch, one batch after another, each once it has ended. */
  async *results(options: WaitOptions = {}): AsyncGenerator<MessageBatchIndividualResponse> {
    for (const [index, id] of this.ids.entries()) {
      this.batches[index] = await wait(this.#resource, id, options);
      yield* await this.#resource.results(id, { signal: options.signal });
    }
  }
}

export async function submit(
  batches: Batches,
  requests: RequestSource,
  options: SubmitOptions = {},
): Promise<BatchSubmission> {
  const maxRequests = positive('maxRequestsPerBatch', options.maxRequestsPerBatch ?? MAX_BATCH_REQUESTS);
  const maxBytes = positive('maxBytesPerBatch', options.maxBytesPerBatch ?? MAX_BATCH_BYTES);
  const create = requestOptions(options);
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  const created: MessageBatch[] = [];
  let chunk: string[] = [];
  let bytes = ENVELOPE_BYTES;
  const flush = async (): Promise<void> => {
    created.push(await batches.createFromJSON(`{"requests":[${chunk.join(',')}]}`, create));
    chunk = [];
    bytes = ENVELOPE_BYTES;
  };
  try {
    for await (const request of requests) {
      checkCustomID(request.custom_id, seen);
      const json = JSON.stringify({ custom_id: request.custom_id, params: request.params });
      const size = encoder.encode(json).length;
      if (ENVELOPE_BYTES + size > maxBytes) {
        throw new BatchdError(`Request ${request.custom_id} is ${size} bytes; no batch of ${maxBytes} bytes can hold it.`);
      }
      if (chunk.length > 0 && (chunk.length === maxRequests || bytes + 1 + size > maxBytes)) await flush();
      bytes += (chunk.length > 0 ? 1 : 0) + size;
      chunk.push(json);
    }
    if (chunk.length > 0) await flush();
  } catch (error) {
    if (created.length === 0) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new SubmitError(
      `submit() stopped after creating ${created.length} batch(es) (${created.map((b) => b.id).join(', ')}): ${reason}`,
      created,
      { cause: error },
    );
  }
  if (created.length === 0) throw new BatchdError('submit() needs at least one request.');
  return new BatchSubmission(batches, created);
}

function checkCustomID(customID: unknown, seen: Set<string>): void {
  if (typeof customID !== 'string' || !CUSTOM_ID_PATTERN.test(customID)) {
    throw new BatchdError(`Invalid custom_id ${JSON.stringify(customID)}: it must match ${CUSTOM_ID_PATTERN}.`);
  }
  if (seen.has(customID)) throw new BatchdError(`Duplicate custom_id ${customID}: each must be unique.`);
  seen.add(customID);
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new BatchdError(`${name} must be a positive integer, got ${value}.`);
  return value;
}

export async function resultsMap(
  batches: Batches,
  id: string,
  options: RequestOptions = {},
): Promise<Map<string, MessageBatchResult>> {
  const map = new Map<string, MessageBatchResult>();
  for await (const { custom_id, result } of await batches.results(id, options)) {
    if (map.has(custom_id)) throw new BatchdError(`The results of batch ${id} repeat custom_id ${custom_id}.`);
    map.set(custom_id, result);
  }
  return map;
}

/**
 * Resolves with null when no result of batch `id` has one of `types`. Throws a `BatchdError`
 * when a matching result's `custom_id` is missing from `originalRequests`, since that request
 * cannot be rebuilt.
 */
export async function retryFailed(
  batches: Batches,
  id: string,
  originalRequests: RequestSource,
  options: RetryFailedOptions = {},
): Promise<MessageBatch | null> {
  const types = new Set<string>(options.types ?? ['errored', 'expired']);
  const request = requestOptions(options);
  const failed = new Set<string>();
  for await (const { custom_id, result } of await batches.results(id, request)) {
    if (types.has(result.type)) failed.add(custom_id);
  }
  if (failed.size === 0) return null;
  const retry: BatchCreateRequest[] = [];
  for await (const original of originalRequests) {
    if (failed.delete(original.custom_id)) retry.push({ custom_id: original.custom_id, params: original.params });
  }
  if (failed.size > 0) {
    const missing = [...failed].slice(0, 5).join(', ');
    throw new BatchdError(
      `Cannot retry batch ${id}: ${failed.size} failed custom_id(s) are not among originalRequests (${missing}${failed.size > 5 ? ', …' : ''}).`,
    );
  }
  return batches.create({ requests: retry }, request);
}
