import type { Completion, Dialect } from './store.js';

/**
 * Where a provider batch is: `submitting` from the intent until the provider's id is recorded,
 * then as the provider reports it, and `closed` once its results are written and the requests it
 * lacked are handed back.
 */
export type SubmissionState = 'submitting' | 'in_progress' | 'canceling' | 'ended' | 'closed';

export interface SubmissionCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

/** One provider batch as batchd records it; times are milliseconds since the epoch. */
export interface SubmissionRecord {
  id: number;
  backend: string;
  /** batchd's name for it at the provider (metadata, or nothing where the provider keeps none). */
  tag: string;
  requestCount: number;
  /** When the intent was written, before the provider was called. */
  createdAt: number;
  providerBatchId: string | null;
  state: SubmissionState;
  counts: SubmissionCounts;
  polledAt: number | null;
  failure: string | null;
}

/** How a store writes the lines of requests of `dialect` (see `framedRequests`); `before` ends with the custom_id's start. */
export interface StoreLineFrame {
  dialect: Dialect;
  before: string;
  middle: string;
  after: string;
  separator: string;
}

/** A request of a provider batch, with what its line is built from. */
export interface SubmissionRequest {
  key: number;
  params: string;
  dialect: Dialect;
}

/** A request's end as its provider batch reported it; `result` null for canceled and expired. */
export interface ProviderCompletion extends Pick<Completion, 'key' | 'usage' | 'reasoningTokens' | 'cost'> {
  type: 'succeeded' | 'errored' | 'canceled' | 'expired';
  result: string | null;
}

/** What one provider batch holds at most. */
export interface SubmissionLimits {
  maxRequests: number;
  maxBytes: number;
}

/**
 * What the provider-batch engine uses. A request routed to a provider-batch backend leaves the
 * queue and waits at the provider: it holds no lease, so lease expiry never reclaims it and it
 * never counts toward quarantine. Submissions are leased to one process at a time.
 */
export interface ProviderBatchStore {
  /** Hands requests still leased by `owner` to the provider-batch backend named for each. */
  routeToProvider(owner: string, routes: Array<{ key: number; backend: string }>): Promise<void>;
  /**
   * Hands up to `limit` queued requests straight to `backend`, unread and unleased, as a claim
   * would take them: those of active batches of Messages or of the OpenAI `endpoint`. Returns how many.
   */
  routeQueued(backend: string, endpoint: string, limit: number, now: number): Promise<number>;
  /** Requests routed to `backend` and in no provider batch yet. */
  routedCount(backend: string): Promise<number>;
  /**
   * Records the intent of one provider batch for `backend`, leased to `owner`: up to the limits'
   * requests routed to it (round-robin across batches, params bytes bounded) and the batch they
   * cover, in one transaction. Routed requests of batches being canceled or past expiry end
   * canceled or expired instead. Null when nothing is left to submit.
   */
  openSubmission(backend: string, owner: string, leaseUntil: number, limits: SubmissionLimits, now: number): Promise<SubmissionRecord | null>;
  /** A submission's requests still waiting for their result, in key order after `afterKey`, at most `limit`; with `except`, none of that dialect. */
  submissionRequests(id: number, afterKey: number, limit: number, except?: Dialect): Promise<SubmissionRequest[]>;
  /**
   * Where the store can write lines itself: a submission's requests of `frame.dialect` still
   * waiting, in key order after `afterKey`, at most `limit`, each written as
   * `${frame.before}${key}${frame.middle}${params}${frame.after}` and joined by `frame.separator`
   * into one text, with how many and the last key (null when none is left): a page costs one
   * string, not one a request.
   */
  framedRequests?(id: number, afterKey: number, limit: number, frame: StoreLineFrame): Promise<{ text: string; count: number; lastKey: number } | null>;
  /** Leases to `owner` the live submissions of `backend` that are free, lapsed or its own already. */
  takeSubmissions(backend: string, owner: string, leaseUntil: number, now: number): Promise<SubmissionRecord[]>;
  /** Records the provider's id and state, counts and failure for a submission `owner` holds. */
  recordSubmission(id: number, owner: string, update: Partial<Pick<SubmissionRecord, 'providerBatchId' | 'state' | 'counts' | 'polledAt' | 'failure'>>): Promise<void>;
  /** True when every request a live submission still waits for belongs to a batch being canceled. */
  onlyCanceling(id: number): Promise<boolean>;
  /**
   * Writes results of requests still waiting in submission `id`; others change nothing. A
   * `canceled` result ends only a request whose batch is being canceled: others wait to be sent again.
   */
  completeSubmitted(id: number, completions: ProviderCompletion[], now: number): Promise<void>;
  /** Closes a submission: the requests it still waits for are routed again, to be submitted anew. */
  closeSubmission(id: number, owner: string): Promise<number>;
  /** The provider batches that hold or held requests of a batch, oldest first, at most `MAX_LISTED` (`submission-row.ts`). */
  batchSubmissions(batchId: string): Promise<SubmissionRecord[]>;
}
