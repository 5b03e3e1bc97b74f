export * from './wire-types.js';
export * from './openai-file-types.js';
export * from './openai-batch-types.js';
export {
  BatchdClient,
  ANTHROPIC_VERSION,
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type APIRequest,
  type ClientOptions,
  type Fetch,
  type RequestOptions,
} from './client.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  BatchdError,
  ConflictError,
  InternalServerError,
  JSONLDecodeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTooLargeError,
  SubmitError,
  UnprocessableEntityError,
  WaitTimeoutError,
  type APIErrorBody,
} from './core/error.js';
export { Page, PagePromise, type PageParams, type PageResponse } from './core/pagination.js';
export { JSONLStream } from './internal/jsonl.js';
export type { Sleep } from './internal/backoff.js';
export { Backends } from './resources/backends.js';
export { Batches } from './resources/batches.js';
export { OpenAIBatches } from './resources/openai-batches.js';
export { OpenAIFiles } from './resources/openai-files.js';
export { Webhooks } from './resources/webhooks.js';
export * from './webhook-types.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeaders,
} from './webhooks/verify-webhook.js';
export {
  BatchSubmission,
  type RequestSource,
  type RetryFailedOptions,
  type SubmitOptions,
  type WaitOptions,
} from './resources/batch-helpers.js';
export { BatchdClient as default } from './client.js';
