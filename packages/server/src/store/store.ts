import type { MessageBatchRequestCounts } from '@batchd/sdk';
import type { CreateOptions } from './batch-creates.js';
import type { WebhookStore } from './webhook-store.js';
import type { CompletedResultsStore } from './completed-results.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { FileStore } from './file-store.js';
import type { RequestCost } from '../pricing/price-list.js';
import type { ProviderBatchStore } from './provider-batch-store.js';

/**
 * Bytes of params (stored JSON text) one claim loads by default: a claim stops once its requests'
 * params pass it, so a few large requests never bring hundreds of MB into memory at once.
 */
export const CLAIM_PARAMS_BYTES = 16 * 1024 * 1024;

/** Where a batch is: `creating` batches are still being received and are visible to nobody. */
export type BatchStatus = 'in_progress' | 'canceling' | 'ended';

/**
 * The API a batch came in through: `messages` (Message Batches, params in Messages shape) or
 * `chat` (the OpenAI Batch API, params in the shape of the batch's endpoint).
 */
export type Dialect = 'messages' | 'chat';

export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/**
 * What a batch's answered requests cost, in nano-dollars: at the prices of the calls as made and,
 * for the same requests, at direct prices. Requests whose model had no price are only counted.
 */
export interface CostTotals {
  nanoUsd: number;
  directNanoUsd: number;
  pricedRequests: number;
  unpricedRequests: number;
}

/** A batch as stored; times are milliseconds since the epoch. */
export interface BatchRecord {
  id: string;
  workspaceId: string;
  status: BatchStatus;
  counts: MessageBatchRequestCounts;
  usage: UsageTotals;
  /** Output tokens spent reasoning, as OpenAI-compatible backends report them (part of `usage.output_tokens`). */
  reasoningTokens: number;
  cost: CostTotals;
  createdAt: number;
  expiresAt: number;
  /** When results stop being served. */
  archiveAt: number;
  endedAt: number | null;
  cancelInitiatedAt: number | null;
  archivedAt: number | null;
  dialect: Dialect;
  /** What the dialect's API keeps about the batch besides the above, as JSON text; null for none. */
  attributes: string | null;
}

export interface NewBatch {
  id: string;
  workspaceId: string;
  createdAt: number;
  expiresAt: number;
  archiveAt: number;
  /** Defaults to `messages`. */
  dialect?: Dialect;
  attributes?: string;
  /** The OpenAI endpoint a chat batch's requests are for, such as `/v1/embeddings`. */
  endpoint?: string;
  /**
   * The provider-batch backend every request goes to unread as the batch opens (the one serving
   * every model), rather than waiting in the queue for the engine to route it.
   */
  providerBackend?: string;
}

/** One request of a create, with its `params` kept as the JSON text it arrived as. */
export interface NewRequest {
  customId: string;
  /** The params' compact JSON text; large params as pieces in order, whose concatenation is that text. */
  params: string | string[];
  /** Requests of a batch with one prefix key are claimed together (see `translate/prefix-key.ts`). */
  prefixKey?: string;
}

export interface ClaimedRequest {
  /** Store-wide request key. */
  key: number;
  batchId: string;
  customId: string;
  params: string;
  /** The shape of `params`, and of the result the engine writes. */
  dialect: Dialect;
  /** The OpenAI endpoint of a chat batch's requests; null for message batches (and chat batches stored without one). */
  endpoint: string | null;
  /** Attempts including this one. */
  attempt: number;
  expiresAt: number;
  /** The prefix key it was created with, if any. */
  prefixKey?: string;
  /** Set when it has lost its lease `SUSPECT_LEASE_LOSSES` times (`quarantine.ts`): the caller runs no other suspect beside it. */
  suspect?: true;
}

/** A finished request: its result object (`{"type":"succeeded",...}`) as compact JSON text. */
export interface Completion {
  key: number;
  type: 'succeeded' | 'errored';
  result: string;
  usage?: UsageTotals;
  /** Of `usage.output_tokens`, those the backend reports as reasoning. */
  reasoningTokens?: number;
  /** What the answer cost, when it has usage to price. */
  cost?: RequestCost;
}

export interface Retry {
  key: number;
  runAt: number;
}

export interface ListQuery {
  limit: number;
  afterId?: string;
  beforeId?: string;
  /** Only batches of this dialect; defaults to `messages`. */
  dialect?: Dialect;
}

export interface ListPage {
  batches: BatchRecord[];
  hasMore: boolean;
}

/** `ok` carries the batch as the cancel answers it: `canceling` (see `asCanceling`). */
export type CancelOutcome = { kind: 'ok'; batch: BatchRecord } | { kind: 'not_found' } | { kind: 'ended'; batch: BatchRecord };
export type DeleteOutcome = 'deleted' | 'not_found' | 'not_ended';

/** An ended batch's result lines in a file, read from the start into buffers the caller owns. */
export interface ResultsFile {
  /** Bytes in the file. */
  readonly size: number;
  /** Reads the next bytes into `into`, filling as much of it as the file has left; 0 at the end. */
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** What the API uses: batches as clients create, read, cancel and delete them, and their results. */
export interface BatchesStore extends CompletedResultsStore {
  /** Uploaded files, and the result files of chat batches. */
  readonly files: FileStore;

  /**
   * Stores a batch and all its requests atomically: if `requests` throws, nothing stays stored
   * and the error is rethrown. Requests arrive in chunks as the body is parsed. A batch with no
   * requests is stored ended.
   *
   * With `options`, the create is recorded and, once its requests are all read and before the
   * batch becomes visible, checked against earlier creates: when it repeats one (same key and
   * body, or a retry with the same caller and body) nothing is stored and the earlier batch is
   * returned as it is now; a key used with another body throws `IdempotencyKeyReused`. Creates
   * with the same key in a workspace are serialised at that check: exactly one batch results.
   */
  createBatch(batch: NewBatch, requests: AsyncIterable<NewRequest[]>, options?: CreateOptions): Promise<BatchRecord>;
  getBatch(workspaceId: string, id: string): Promise<BatchRecord | null>;
  /** Newest first; `afterId` pages to older batches, `beforeId` to the page just newer. */
  listBatches(workspaceId: string, page: ListQuery): Promise<ListPage>;
  cancelBatch(workspaceId: string, id: string, now: number): Promise<CancelOutcome>;
  deleteBatch(workspaceId: string, id: string): Promise<DeleteOutcome>;
  /** Result lines of an ended batch as UTF-8 bytes, each ending in `\n`, in pages of at most `pageSize` lines. */
  readResults(batchId: string, pageSize: number): AsyncIterable<Buffer>;
  /**
   * The results of an ended batch as one file, when this store keeps one for it (the same bytes
   * as `readResults`); null when it has none. The caller closes it.
   */
  openResultsFile?(batchId: string): Promise<ResultsFile | null>;

  /** Requests of a workspace not yet ended, across its batches: its share of the processing queue. */
  queuedRequests(workspaceId: string): Promise<number>;

  /** Bytes the store can still write on its disk; null when it cannot tell (PostgreSQL, whose disk is its server's; in memory). */
  freeBytes(): Promise<number | null>;
}

/** What the engine uses: leases on runnable requests, their results and retries, wake-ups and backend pauses. */
export interface QueueStore {
  /**
   * Leases up to `limit` runnable requests, spread round-robin across active batches, and stops
   * once their params pass `paramsBytes` (default `CLAIM_PARAMS_BYTES`) in total: at least one.
   * With `clusterLimit`, never lets more than that many requests be leased at once by all owners
   * together (leases that have lapsed do not count). Of the requests taken, at most `suspects`
   * (default 1) are suspects (`quarantine.ts`), taken first; those come back with `suspect` set.
   */
  claimRequests(owner: string, limit: number, leaseUntil: number, now: number, clusterLimit?: number, paramsBytes?: number, suspects?: number): Promise<ClaimedRequest[]>;
  renewLeases(owner: string, keys: number[], leaseUntil: number): Promise<void>;
  /** Writes results for requests still leased by `owner`, updates counts and ends finished batches. */
  completeRequests(owner: string, completions: Completion[], now: number): Promise<void>;
  /** Puts requests still leased by `owner` back in the queue, runnable from `runAt`. */
  retryRequests(owner: string, retries: Retry[], now: number): Promise<void>;
  /** Ids of the batches being canceled: their requests claimed but not yet sent are given back, to end canceled. */
  cancelingBatchIds(): Promise<string[]>;

  /**
   * Optional: calls `listener` whenever work may have arrived from any process sharing the
   * store (a batch created, requests requeued), and after reconnecting, so idle workers wake
   * without waiting for their next poll. Returns a function that removes the listener. Stores
   * without cross-process notifications leave it out; engines then rely on polling alone.
   */
  subscribeWork?(listener: () => void): () => void;

  /**
   * Records that a backend's rate-limit budget is spent until `until`, for every node on the
   * store. Optional: stores used by one process need not share pauses.
   */
  pauseBackend?(backend: string, until: number): Promise<void>;
  /** Backends paused by any node, with the time each pause ends, for pauses still running at `now`. */
  backendPauses?(now: number): Promise<Map<string, number>>;
}

/** What maintenance uses: sweeps over leases, batches and old rows, each idempotent, each returning how many rows or batches it changed. */
export interface UpkeepStore {
  reclaimExpiredLeases(now: number): Promise<number>;
  expireBatches(now: number): Promise<number>;
  archiveBatches(now: number): Promise<number>;
  purge(limit: number): Promise<number>;
  /** Deletes up to `limit` create records too old to match a create at `now` (see `batch-creates.ts`). */
  purgeCreateRecords(now: number, limit: number): Promise<number>;
  /**
   * Optional: writes the results of up to `limit` large batches that have ended to files they
   * are then served from (see `sqlite-results-files.ts`); a batch whose file fails is reported to
   * `onFailure` and served from the store. Returns how many batches it looked at.
   */
  fileResults?(limit: number, onFailure: (batchId: string, error: unknown) => void): Promise<number>;
}

/**
 * The store contract, by role: {@link BatchesStore} for the API, {@link QueueStore} for the
 * engine, {@link UpkeepStore} for maintenance, beside the API keys and webhooks sub-stores.
 * Every method is one atomic transition. Writes by the engine are guarded by the lease owner:
 * a worker that lost its lease changes nothing.
 */
export interface BatchStore extends BatchesStore, QueueStore, UpkeepStore {
  /** The API keys that open workspaces (`--auth keys`). */
  readonly apiKeys: ApiKeyStore;

  /** Webhook endpoints and deliveries, kept in the same database. */
  readonly webhooks: WebhookStore;

  /** Provider batches: requests handed to provider-batch backends, and what the providers said. */
  readonly providerBatches: ProviderBatchStore;

  close(): Promise<void>;
}

/** What a PostgreSQL store's pool says when no connection frees up, or none can be made, within its wait bound. */
const BUSY_MESSAGES = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']);

/** True for an error saying the store had no connection to spare in time: the caller may try again shortly. */
export function isStoreBusy(error: unknown): boolean {
  return error instanceof Error && BUSY_MESSAGES.has(error.message);
}
