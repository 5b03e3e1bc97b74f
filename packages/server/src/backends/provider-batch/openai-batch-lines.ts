import { randomUUID } from 'node:crypto';
import { isObject, type Json } from '../../json.js';
import type { Framing } from './framed-body.js';
import { parseResultLine } from './jsonl-lines.js';
import { ProviderBatchError, type ProviderBatchLine, type ProviderBatchStatus, type ProviderLineOutcome, type ProviderLineResult } from './provider-batch-client.js';

/**
 * The OpenAI Batch API's shapes, both ways: the multipart upload of a submission's JSONL input
 * file, a batch object read as a `ProviderBatchStatus`, and a line of an output or error file read
 * as a `ProviderLineResult`.
 *
 * Lines: a `response` with a 2xx `status_code` succeeded with its `body`; another status errored
 * with the body's `error.type` and `error.message`; an `error` object means expired
 * (`batch_expired`), canceled (`batch_cancelled`) or, any other code, errored (status 500, the
 * code as its type). A request of an expired or cancelled batch may be in neither file: finding
 * those is the caller's part.
 */

/** The multipart form uploading `lines` as the input file (`purpose=batch`) of a batch for `endpoint`. */
export function inputFileFraming(tag: string, endpoint: string): Framing {
  const boundary = `batchd-${randomUUID()}`;
  const filename = `batchd-${tag.replace(/[^a-zA-Z0-9_-]/g, '_')}.jsonl`;
  const url = JSON.stringify(endpoint);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head:
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/jsonl\r\n\r\n`,
    separator: '',
    tail: `\r\n--${boundary}--\r\n`,
    frame: (line: ProviderBatchLine) => `{"custom_id":${JSON.stringify(line.customId)},"method":"POST","url":${url},"body":${line.body}}\n`,
  };
}

const STATE_BY_STATUS: Readonly<Record<string, ProviderBatchStatus['state']>> = {
  validating: 'in_progress',
  in_progress: 'in_progress',
  finalizing: 'in_progress',
  cancelling: 'canceling',
  completed: 'ended',
  expired: 'ended',
  cancelled: 'ended',
  failed: 'ended',
};

/** Where the requests neither completed nor failed are counted, by batch status. */
const REST_BY_STATUS: Readonly<Record<string, keyof ProviderBatchStatus['counts']>> = {
  expired: 'expired',
  cancelled: 'canceled',
  completed: 'errored',
  failed: 'errored',
};

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Why a failed batch failed, from its `errors.data`. */
function failureOf(batch: Json): string {
  const data = isObject(batch.errors) && Array.isArray(batch.errors.data) ? batch.errors.data : [];
  const reasons = data.filter(isObject).map((error) => {
    const message = typeof error.message === 'string' ? error.message : String(error.code ?? 'error');
    return typeof error.line === 'number' ? `line ${error.line}: ${message}` : message;
  });
  return reasons.length === 0 ? 'the provider failed the batch' : reasons.join('; ');
}

/** A batch object as a status; throws a retryable error when it is not one. */
export function openAIBatchStatus(batch: unknown): ProviderBatchStatus {
  if (!isObject(batch) || typeof batch.status !== 'string' || STATE_BY_STATUS[batch.status] === undefined) throw ProviderBatchError.invalidAnswer('not a batch');
  const reported = isObject(batch.request_counts) ? batch.request_counts : {};
  const succeeded = count(reported.completed);
  const errored = count(reported.failed);
  const rest = Math.max(0, count(reported.total) - succeeded - errored);
  const counts = { processing: 0, succeeded, errored, canceled: 0, expired: 0 };
  counts[REST_BY_STATUS[batch.status] ?? 'processing'] += rest;
  const status: ProviderBatchStatus = { state: STATE_BY_STATUS[batch.status]!, counts };
  if (batch.status === 'failed') status.failure = failureOf(batch);
  return status;
}

function responseOutcome(response: Json): ProviderLineOutcome {
  const status = typeof response.status_code === 'number' ? response.status_code : 0;
  const body = isObject(response.body) ? response.body : undefined;
  if (status >= 200 && status < 300) {
    if (body === undefined) throw ProviderBatchError.invalidAnswer('a response line has no body');
    return { type: 'succeeded', body };
  }
  const error = body !== undefined && isObject(body.error) ? body.error : {};
  const errorType = typeof error.type === 'string' && error.type !== '' ? error.type : 'api_error';
  const message = typeof error.message === 'string' ? error.message : `the provider answered HTTP ${status}`;
  return { type: 'errored', status, errorType, message };
}

function errorOutcome(error: Json): ProviderLineOutcome {
  if (error.code === 'batch_expired') return { type: 'expired' };
  if (error.code === 'batch_cancelled') return { type: 'canceled' };
  const errorType = typeof error.code === 'string' && error.code !== '' ? error.code : 'api_error';
  const message = typeof error.message === 'string' ? error.message : 'the provider reported an error';
  return { type: 'errored', status: 500, errorType, message };
}

/** One line of an output or error file. */
export function openAILineResult(line: string): ProviderLineResult {
  const parsed = parseResultLine(line);
  if (isObject(parsed.error)) return { customId: parsed.custom_id, outcome: errorOutcome(parsed.error) };
  if (isObject(parsed.response)) return { customId: parsed.custom_id, outcome: responseOutcome(parsed.response) };
  throw ProviderBatchError.invalidAnswer('a results line has neither response nor error');
}
