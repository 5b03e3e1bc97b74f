/** Wire types of the OpenAI Batch API (`/v1/batches`), shaped as OpenAI's reference documents them. */

import type { OpenAIExpiresAfter } from './openai-file-types.js';
import type { MessageBatchUsage } from './wire-types.js';

/** The usage of a batch made through the OpenAI Batch API: the same report under its own type. */
export interface OpenAIBatchUsage extends Omit<MessageBatchUsage, 'type'> {
  type: 'batch_usage';
}

export type OpenAIBatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** A batch made through the OpenAI Batch API (`/v1/batches`), every key present. */
export interface OpenAIBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: Array<{ code: string; message: string; param: string | null; line: number | null }> } | null;
  input_file_id: string;
  completion_window: string;
  status: OpenAIBatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  /** The model the input file's first request names; null when it was not recorded. */
  model: string | null;
  /** When the output and error files expire, counted from the batch's end; null for the server's results TTL. */
  output_expires_after: OpenAIExpiresAfter | null;
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
}

/** A page of `GET /v1/batches`, newest first. */
export interface OpenAIBatchList {
  object: 'list';
  data: OpenAIBatch[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface OpenAIBatchListParams {
  /** The id of the last batch of the previous page. */
  after?: string;
  limit?: number;
}
