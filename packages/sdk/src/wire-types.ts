/**
 * Wire types of the Message Batches API, named and shaped like the official SDK's
 * (`@anthropic-ai/sdk` `resources/messages/batches.ts`). Field names stay snake_case as on the wire.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export interface ErrorObject {
  type: ErrorType | (string & {});
  message: string;
}

export interface ErrorResponse {
  type: 'error';
  error: ErrorObject;
  request_id: string | null;
}

export interface MessageBatchRequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export type MessageBatchProcessingStatus = 'in_progress' | 'canceling' | 'ended';

export interface MessageBatch {
  id: string;
  type: 'message_batch';
  processing_status: MessageBatchProcessingStatus;
  request_counts: MessageBatchRequestCounts;
  ended_at: string | null;
  created_at: string;
  expires_at: string;
  archived_at: string | null;
  cancel_initiated_at: string | null;
  results_url: string | null;
}

export interface DeletedMessageBatch {
  id: string;
  type: 'message_batch_deleted';
}

export interface MessageBatchesPage {
  data: MessageBatch[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export interface TextBlock {
  type: 'text';
  text: string;
  citations: unknown[] | null;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

/** Response content blocks; other block types pass through from real providers. */
export type ContentBlock = TextBlock | ToolUseBlock | { type: string; [key: string]: unknown };

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } | null;
  server_tool_use: { web_search_requests: number; web_fetch_requests?: number } | null;
  service_tier: 'standard' | 'priority' | 'batch' | null;
  inference_geo?: string | null;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  content: ContentBlock[];
  model: string;
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  stop_details?: unknown | null;
  container?: unknown | null;
  usage: Usage;
}

export interface MessageBatchSucceededResult {
  type: 'succeeded';
  message: Message;
}

export interface MessageBatchErroredResult {
  type: 'errored';
  /** batchd adds `message`, a copy of `error.error.message`; results stored by earlier versions lack it. */
  error: ErrorResponse & { message?: string };
}

export interface MessageBatchCanceledResult {
  type: 'canceled';
}

export interface MessageBatchExpiredResult {
  type: 'expired';
}

export type MessageBatchResult =
  | MessageBatchSucceededResult
  | MessageBatchErroredResult
  | MessageBatchCanceledResult
  | MessageBatchExpiredResult;

export interface MessageBatchIndividualResponse {
  custom_id: string;
  result: MessageBatchResult;
}

/** The body of `POST /v1/messages`, as sent in each batched request. Checked when processed. */
export interface MessageCreateParams {
  model: string;
  max_tokens: number;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, unknown>> }>;
  system?: string | Array<Record<string, unknown>>;
  metadata?: { user_id?: string | null };
  stop_sequences?: string[];
  stream?: false;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: Array<Record<string, unknown>>;
  tool_choice?: Record<string, unknown>;
  thinking?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface BatchCreateRequest {
  custom_id: string;
  params: MessageCreateParams;
}

export interface BatchCreateParams {
  requests: BatchCreateRequest[];
}

export interface BatchListParams {
  before_id?: string;
  after_id?: string;
  limit?: number;
}

/** What `results` reads; a batchd extension of the Message Batches API. */
export interface BatchResultsParams {
  /** Stream the results finished so far, also while the batch is still running (`?partial=true`). */
  partial?: boolean;
  /** With `partial`, keep the stream open and receive each result as it finishes, until the batch ends (`&follow=true`). */
  follow?: boolean;
}

/** The pattern every `custom_id` must match. */
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** The most requests one batch may hold. */
export const MAX_BATCH_REQUESTS = 100_000;

/** The largest create body accepted, in bytes (256 MB). */
export const MAX_BATCH_BYTES = 256 * 1024 * 1024;

/** Token totals of a batch's results. */
export interface BatchUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/**
 * What a batch's answered requests cost in USD, estimated from the prices in the server's config
 * file (batchd never fetches prices).
 */
export interface BatchCost {
  /** At the prices of the calls as made: batch prices through a provider's batch API, direct prices otherwise. */
  usd: number;
  /** The same requests at direct prices. */
  direct_usd: number;
  /** `direct_usd - usd`: what sending them as batches saved. */
  saving_usd: number;
  /** Answered requests whose model has a price for the call made. */
  priced_requests: number;
  /** Answered requests whose model has no price for the call made: while above 0, the estimate is partial. */
  unpriced_requests: number;
}

/** `GET /v1/messages/batches/{id}/usage` (and `GET /v1/batches/{id}/usage`), a batchd extension. */
export interface MessageBatchUsage {
  id: string;
  type: 'message_batch_usage';
  usage: BatchUsage;
  /**
   * Cache reads over all input: `cache_read_input_tokens / (cache_read_input_tokens +
   * cache_creation_input_tokens + input_tokens)`; null before any input is counted.
   */
  cache_hit_rate: number | null;
  cost: BatchCost;
}

/** One provider batch holding requests of a batch, as `GET /v1/messages/batches/{id}/provider_batches` reports it (a batchd extension; the oldest 1,000). */
export interface ProviderBatch {
  /** The provider's id; null until the provider has answered the create. */
  provider_batch_id: string | null;
  /** The configured backend (of kind `anthropic-batch` or `openai-batch`) it went to. */
  backend: string;
  /** `submitting` until the provider's id is known, then as the provider reports it; `closed` once its results are written. */
  state: 'submitting' | 'in_progress' | 'canceling' | 'ended' | 'closed';
  /** Requests it was sent with, of this batch and any other. */
  request_count: number;
  /** Counts as the provider last reported them. */
  request_counts: MessageBatchRequestCounts;
  /** RFC 3339 datetimes: when batchd recorded it, and when it last asked the provider. */
  created_at: string;
  polled_at: string | null;
  /** Why the provider failed it as a whole, when it did. */
  failure: string | null;
}

/** One backend lane as `GET /v1/batchd/backends` reports it. */
export interface BackendStatus {
  name: string;
  type: string;
  concurrency_limit: number;
  in_flight: number;
  paused: boolean;
  calls: number;
  succeeded: number;
  rateLimited: number;
  overloaded: number;
  serverErrors: number;
  authFailures: number;
  /** The backend's replicas, when its config lists several `urls`. */
  replicas?: BackendReplicaStatus[];
}

/** One replica of a backend: its URL (without credentials), calls in flight, and whether it is taking calls. */
export interface BackendReplicaStatus {
  url: string;
  in_flight: number;
  /** False while the replica is skipped after failing (5xx or unreachable). */
  up: boolean;
  calls: number;
  failures: number;
}
