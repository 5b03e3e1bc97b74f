import type { ErrorOutcome } from '../backend.js';
import { invalidResponseBody } from '../classify.js';

/**
 * What batchd needs from a provider's own batch API (Anthropic Message Batches, OpenAI Batch):
 * submit a provider batch, find one whose create answer was lost, poll it, cancel it, and stream
 * its results. The clients never retry: every failure reaches the caller as a `ProviderBatchError`
 * saying whether and when to try again.
 */

/** One request of a provider batch: batchd's custom_id and the provider's per-request body as JSON text. */
export interface ProviderBatchLine {
  customId: string;
  body: string;
}

/** Lines already written as the client writes them (`ProviderBatchClient.lineTemplate`) and joined by its separator. */
export interface FramedLines {
  text: string;
  count: number;
}

/** A submission's lines: all at once, or pages of them as they are read (lines, or lines framed already), streamed to the provider as they come. */
export type ProviderBatchLines = readonly ProviderBatchLine[] | AsyncIterable<readonly ProviderBatchLine[] | FramedLines>;

/**
 * How a client writes a line whose body goes unchanged, for a store that writes lines itself:
 * `${before}${customId}${middle}${body}${after}`, lines joined by `separator`. The custom_id must
 * need no escaping in a JSON string.
 */
export interface LineTemplate {
  before: string;
  middle: string;
  after: string;
  separator: string;
}

/** The most requests, and bytes of create body, one provider batch may hold. */
export interface ProviderBatchLimits {
  maxRequests: number;
  maxBytes: number;
}

export type ProviderBatchState = 'in_progress' | 'canceling' | 'ended';

export interface ProviderBatchStatus {
  state: ProviderBatchState;
  /** Counts as the provider reports them (missing ones 0). */
  counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  /** When the whole batch failed at the provider (OpenAI `failed`, e.g. a bad input file): why. */
  failure?: string;
  /** Where an ended batch's results are read, in order (Anthropic: its results; OpenAI: its output file, then its error file). */
  results?: readonly URL[];
}

/**
 * One request's outcome as the provider reported it. `body` is the provider's answer JSON,
 * unchanged; `resultText`, when the client has it, is Anthropic's whole `result` object
 * (`{"type":"succeeded","message":…}`) exactly as the provider wrote it.
 */
export type ProviderLineOutcome =
  | { type: 'succeeded'; body: Record<string, unknown>; resultText?: string }
  | { type: 'errored'; status: number; errorType: string; message: string }
  | { type: 'canceled' }
  | { type: 'expired' };

export interface ProviderLineResult {
  customId: string;
  outcome: ProviderLineOutcome;
}

/** A failure talking to the provider (not a request's error): retry later unless `retryable` is false. */
export class ProviderBatchError extends Error {
  /** The HTTP status the provider answered, or 0 when no answer arrived. */
  status: number;
  retryable: boolean;
  /** How long the provider asked to wait before the next call, when it said. */
  retryAfterMs?: number;
  /** The error type the provider's answer implies, such as `rate_limit_error`. */
  errorType?: string;

  constructor(message: string, fields: { status: number; retryable: boolean; retryAfterMs?: number; errorType?: string }) {
    super(message);
    this.name = 'ProviderBatchError';
    this.status = fields.status;
    this.retryable = fields.retryable;
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
    if (fields.errorType !== undefined) this.errorType = fields.errorType;
  }

  /** The error for a classified failure (see `backends/classify.ts`). */
  static from(outcome: ErrorOutcome): ProviderBatchError {
    const { message, status, retryable, retryAfterMs, errorType } = outcome;
    return new ProviderBatchError(message, { status, retryable, retryAfterMs, errorType });
  }

  /** The error for a 2xx answer that is not what the API documents (retryable: the provider misbehaved). */
  static invalidAnswer(detail: string): ProviderBatchError {
    return ProviderBatchError.from(invalidResponseBody(200, detail));
  }
}

export interface ProviderBatchClient {
  readonly kind: 'anthropic-batch' | 'openai-batch';
  readonly limits: ProviderBatchLimits;
  /**
   * Submits lines as one provider batch. `tag` is batchd's submission id (OpenAI: in `metadata`).
   * `endpoint` is the OpenAI line url (e.g. `/v1/chat/completions`); ignored by Anthropic.
   * The body streams as the lines come; lines over `limits` are refused (not retryable) and the
   * body cut off before its end, so the provider never holds them.
   */
  submit(submission: { tag: string; endpoint: string; lines: ProviderBatchLines }, signal: AbortSignal): Promise<{ providerBatchId: string }>;
  /**
   * Finds a submission whose answer was lost: OpenAI by `metadata` tag (listing batches, paging);
   * Anthropic (no metadata) the oldest batch created at or after `createdAfterMs` with
   * `requestCount` requests and not in `exclude`. `createdAfterMs` is compared with the provider's
   * clock: the caller allows for skew.
   */
  find(intent: { tag: string; createdAfterMs: number; requestCount: number; exclude: string[] }, signal: AbortSignal): Promise<string | undefined>;
  retrieve(providerBatchId: string, signal: AbortSignal): Promise<ProviderBatchStatus>;
  /** Cancels a provider batch; a batch that has already ended is left as it is. */
  cancel(providerBatchId: string, signal: AbortSignal): Promise<void>;
  /**
   * Streams an ended batch's results (never buffering the whole file), a page of lines per chunk
   * read: Anthropic `results_url` JSONL; OpenAI output file then error file
   * (`/v1/files/{id}/content`). A download cut short throws a retryable `ProviderBatchError`; the
   * caller starts it again. `ended`, the status a poll has just read, says where they are without
   * asking for the batch again.
   */
  results(providerBatchId: string, signal: AbortSignal, ended?: ProviderBatchStatus): AsyncIterable<ProviderLineResult[]>;
  /** How it writes a line of `endpoint` whose body goes unchanged, when a store may write such lines itself. */
  lineTemplate?(endpoint: string): LineTemplate;
  /** Closes the client's connections. */
  close?(): Promise<void>;
}
