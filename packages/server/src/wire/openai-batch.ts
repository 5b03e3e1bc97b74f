import type { FileRecord } from '../store/file-store.js';
import type { BatchRecord } from '../store/store.js';
import type { UploadRecord } from '../store/upload-store.js';

/** One problem found in a batch's input file, as OpenAI lists them in `errors.data`. */
export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** What a chat batch keeps besides the stored batch itself (`BatchRecord.attributes`). */
export interface ChatBatchAttributes {
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  metadata: Record<string, string> | null;
  /** The model the input file's first request names; absent on batches stored before it was kept. */
  model?: string;
  /** How long after they are made the output and error files expire; absent or null for the results TTL. */
  output_expires_after?: ExpiresAfter | null;
  /** Set when the input file was rejected: the batch is then `failed` and has no requests. */
  errors: { object: 'list'; data: BatchLineError[] } | null;
}

/** OpenAI's expiry policy of a file: `seconds` after its creation. */
export interface ExpiresAfter {
  anchor: 'created_at';
  seconds: number;
}

export type OpenAIBatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** Files a chat batch's results are read from: `output` holds the succeeded requests, `errors` the others. */
export type ResultFilePart = 'output' | 'errors';

const RESULT_FILE_ID = /^file-(batch_[0-9A-Za-z]+)-(output|errors)$/;

/** The id of a batch's output or error file. */
export const resultFileId = (batchId: string, part: ResultFilePart) => `file-${batchId}-${part}`;

/** The batch and part a result file id names, or null for any other id. */
export function parseResultFileId(id: string): { batchId: string; part: ResultFilePart } | null {
  const match = RESULT_FILE_ID.exec(id);
  return match ? { batchId: match[1]!, part: match[2] as ResultFilePart } : null;
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const secondsOrNull = (ms: number | null) => (ms === null ? null : seconds(ms));

export function chatAttributes(batch: BatchRecord): ChatBatchAttributes {
  return JSON.parse(batch.attributes ?? '{}') as ChatBatchAttributes;
}

/**
 * When a chat batch's output and error files stop being served, in milliseconds: when its results
 * are archived, or earlier when `output_expires_after` counts from the batch's end (the files'
 * creation).
 */
export function resultFilesExpireAt(batch: BatchRecord): number {
  const policy = chatAttributes(batch).output_expires_after;
  if (!policy || batch.endedAt === null) return batch.archiveAt;
  return Math.min(batch.archiveAt, batch.endedAt + policy.seconds * 1000);
}

/** Where a chat batch is, in OpenAI's status set, from its stored state (finalizing never shows: results are written as they finish). */
export function openAIStatus(batch: BatchRecord): OpenAIBatchStatus {
  if (chatAttributes(batch).errors !== null) return 'failed';
  if (batch.status === 'in_progress') return 'in_progress';
  if (batch.status === 'canceling') return 'cancelling';
  if (batch.cancelInitiatedAt !== null) return 'cancelled';
  return batch.counts.expired > 0 ? 'expired' : 'completed';
}

/** A chat batch as OpenAI's batch object, every key present. */
export function toOpenAIBatch(batch: BatchRecord) {
  const attributes = chatAttributes(batch);
  const status = openAIStatus(batch);
  const { succeeded, errored, canceled, expired, processing } = batch.counts;
  const failed = errored + canceled + expired;
  const ended = batch.status === 'ended' && status !== 'failed';
  const at = (when: OpenAIBatchStatus) => (status === when ? secondsOrNull(batch.endedAt) : null);
  const usage = batch.usage;
  const input = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
  return {
    id: batch.id,
    object: 'batch' as const,
    endpoint: attributes.endpoint,
    errors: attributes.errors,
    input_file_id: attributes.input_file_id,
    completion_window: attributes.completion_window,
    status,
    output_file_id: ended && succeeded > 0 ? resultFileId(batch.id, 'output') : null,
    error_file_id: ended && failed > 0 ? resultFileId(batch.id, 'errors') : null,
    created_at: seconds(batch.createdAt),
    in_progress_at: status === 'failed' ? null : seconds(batch.createdAt),
    expires_at: seconds(batch.expiresAt),
    finalizing_at: at('completed'),
    completed_at: at('completed'),
    failed_at: status === 'failed' ? seconds(batch.createdAt) : null,
    expired_at: at('expired'),
    cancelling_at: secondsOrNull(batch.cancelInitiatedAt),
    cancelled_at: at('cancelled'),
    request_counts: { total: processing + succeeded + failed, completed: succeeded, failed },
    metadata: attributes.metadata,
    model: attributes.model ?? null,
    output_expires_after: attributes.output_expires_after ?? null,
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: usage.cache_read_input_tokens },
      output_tokens: usage.output_tokens,
      output_tokens_details: { reasoning_tokens: batch.reasoningTokens },
      total_tokens: input + usage.output_tokens,
    },
  };
}

/** An uploaded file as OpenAI's file object. */
export function toFileObject(file: FileRecord) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.bytes,
    created_at: seconds(file.createdAt),
    expires_at: secondsOrNull(file.expiresAt),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    status_details: null,
  };
}

/** A batch's output or error file as OpenAI's file object, `bytes` counted from its content. */
export function toResultFileObject(batch: BatchRecord, part: ResultFilePart, bytes: number) {
  return {
    id: resultFileId(batch.id, part),
    object: 'file' as const,
    bytes,
    created_at: seconds(batch.endedAt ?? batch.createdAt),
    expires_at: seconds(resultFilesExpireAt(batch)),
    filename: `${batch.id}_${part}.jsonl`,
    purpose: 'batch_output',
    status: 'processed' as const,
    status_details: null,
  };
}

/** An upload as OpenAI's `upload` object, `expired` once past its expiry while pending, with its file once completed. */
export function toUploadObject(upload: UploadRecord, now: number, file: FileRecord | null = null) {
  return {
    id: upload.id,
    object: 'upload' as const,
    bytes: upload.bytes,
    created_at: seconds(upload.createdAt),
    expires_at: seconds(upload.expiresAt),
    filename: upload.filename,
    purpose: upload.purpose,
    status: upload.status === 'pending' && upload.expiresAt <= now ? ('expired' as const) : upload.status,
    file: file && toFileObject(file),
  };
}

/** A part of an upload (a file of the store) as OpenAI's `upload.part` object. */
export function toUploadPartObject(part: FileRecord, uploadId: string) {
  return { id: part.id, object: 'upload.part' as const, created_at: seconds(part.createdAt), upload_id: uploadId };
}
