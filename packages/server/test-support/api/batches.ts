import type { MessageBatch, MessageBatchIndividualResponse, MessageBatchesPage } from '@batchd/sdk';
import { expect } from 'vitest';
import { TEST_API_KEY, type Api, type ApiResponse } from './api.js';
import { expectSchema } from './openapi.js';

/** Shared steps of the black-box tests: batch requests, polling, and checked responses. */

export const MODEL = 'claude-sonnet-4-5';

/** What the emulator answers to a valid request whose last user turn is `text` (see backends/emulator). */
export function emulatorReply(text: string): string {
  return `[emulator] ${[...text].slice(0, 200).join('')}`;
}

export interface BatchRequest {
  custom_id: string;
  params: Record<string, unknown>;
}

/** A valid request: one user turn saying `text` (by default, a sentence naming the custom_id). */
export function userRequest(customId: string, text = `Say hello to ${customId}.`, extra: Record<string, unknown> = {}): BatchRequest {
  return { custom_id: customId, params: { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra } };
}

/** `count` valid requests with custom_ids `<prefix>-0` … `<prefix>-<count-1>`. */
export function userRequests(count: number, prefix = 'req'): BatchRequest[] {
  return Array.from({ length: count }, (_, i) => userRequest(`${prefix}-${i}`));
}

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/** Calls `read` every `intervalMs` until `done` holds for its value, which it returns. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, options: PollOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 50, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Checks the `request-id` header every batchd response carries. */
export function expectRequestId(response: ApiResponse): string {
  expect(response.requestId, 'request-id header').toMatch(/^req_\w+$/);
  return response.requestId!;
}

/** Checks an error response: status, `request-id` header, envelope schema, error type, request_id echo. */
export function expectApiError(response: ApiResponse, status: number, type: string, schema = 'ErrorResponse'): { type: string; message: string } {
  const context = `${response.status} ${response.text.slice(0, 500)}`;
  expect(response.status, context).toBe(status);
  const requestId = expectRequestId(response);
  expect(response.contentType ?? '', context).toMatch(/^application\/json/);
  const body = expectSchema<{ type: string; error: { type: string; message: string }; request_id: string | null }>(schema, response.body);
  expect(body.type).toBe('error');
  expect(body.error.type, context).toBe(type);
  expect(body.error.message.length, 'error message is not empty').toBeGreaterThan(0);
  expect(body.request_id).toBe(requestId);
  return body.error;
}

/** Checks a 200 JSON response against a schema and returns its body. */
export function expectOk<T>(response: ApiResponse, schema: string): T {
  expect(response.status, `${response.status} ${response.text.slice(0, 500)}`).toBe(200);
  expectRequestId(response);
  expect(response.contentType ?? '').toMatch(/^application\/json/);
  return expectSchema<T>(schema, response.body);
}

export function countsTotal(batch: MessageBatch): number {
  const c = batch.request_counts;
  return c.processing + c.succeeded + c.errored + c.canceled + c.expired;
}

/** Checks the invariants every MessageBatch holds, whatever its state, for a batch of `n` requests. */
export function expectBatchInvariants(batch: MessageBatch, n: number): void {
  expect(countsTotal(batch), `request_counts sum to ${n}: ${JSON.stringify(batch.request_counts)}`).toBe(n);
  expect(batch.id).toMatch(/^msgbatch_/);
  if (batch.processing_status === 'ended') {
    expect(batch.request_counts.processing).toBe(0);
    expect(batch.ended_at).not.toBeNull();
    expect(batch.results_url).not.toBeNull();
  } else {
    expect(batch.ended_at).toBeNull();
    expect(batch.results_url).toBeNull();
  }
  if (batch.processing_status === 'canceling') expect(batch.cancel_initiated_at).not.toBeNull();
}

export async function createBatch(client: Api, requests: BatchRequest[]): Promise<MessageBatch> {
  const batch = expectOk<MessageBatch>(await client.post('/v1/messages/batches', { requests }), 'MessageBatch');
  expect(batch.processing_status).toBe('in_progress');
  expect(batch.request_counts).toEqual({ processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
  return batch;
}

export async function retrieveBatch(client: Api, id: string): Promise<MessageBatch> {
  return expectOk<MessageBatch>(await client.get(`/v1/messages/batches/${id}`), 'MessageBatch');
}

/** Polls retrieve until the batch has ended, checking the invariants on every observation. */
export async function waitUntilEnded(client: Api, id: string, n: number, options: PollOptions = {}): Promise<MessageBatch> {
  return pollUntil(
    async () => {
      const batch = await retrieveBatch(client, id);
      expectBatchInvariants(batch, n);
      return batch;
    },
    (batch) => batch.processing_status === 'ended',
    { what: `batch ${id} to end`, ...options },
  );
}

export async function listBatches(client: Api, query = ''): Promise<MessageBatchesPage> {
  return expectOk<MessageBatchesPage>(await client.get(`/v1/messages/batches${query}`), 'ListResponse_MessageBatch_');
}

/**
 * Reads a results stream and checks its framing: `application/x-jsonl`, one compact JSON object
 * per line, each line ending in `\n`, no blank lines. Every line is checked against the schema.
 */
export function parseResults(response: ApiResponse): MessageBatchIndividualResponse[] {
  expect(response.status, `${response.status} ${response.text.slice(0, 500)}`).toBe(200);
  expectRequestId(response);
  expect(response.contentType ?? '').toMatch(/^application\/x-jsonl/);
  const text = response.text;
  expect(text.endsWith('\n'), 'results end with a newline').toBe(true);
  expect(text.includes('\r'), 'results use LF line ends only').toBe(false);
  const lines = text.slice(0, -1).split('\n');
  return lines.map((line, index) => {
    expect(line.length, `line ${index + 1} is blank`).toBeGreaterThan(0);
    const value: unknown = JSON.parse(line);
    expect(JSON.stringify(value), `line ${index + 1} is compact JSON`).toBe(line);
    return expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', value);
  });
}

/** GETs the batch's `results_url` (absolute) and returns the checked lines. */
export async function fetchResults(client: Api, batch: MessageBatch): Promise<MessageBatchIndividualResponse[]> {
  expect(batch.results_url).toBe(`${new URL(batch.results_url!).origin}/v1/messages/batches/${batch.id}/results`);
  return parseResults(await client.get(batch.results_url!));
}

/**
 * Follows a batch's results (`?partial=true&follow=true` on `baseUrl`), checking every line as it
 * arrives and calling `onLine` before reading on; resolves once the server ends the stream.
 */
export async function followResults(
  baseUrl: string,
  id: string,
  onLine: (line: MessageBatchIndividualResponse, index: number) => Promise<void> = async () => undefined,
): Promise<MessageBatchIndividualResponse[]> {
  const response = await fetch(`${baseUrl}/v1/messages/batches/${id}/results?partial=true&follow=true`, { headers: { 'x-api-key': TEST_API_KEY } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/x-jsonl/);
  expect(response.headers.get('request-id'), 'request-id header').toMatch(/^req_\w+$/);
  const lines: MessageBatchIndividualResponse[] = [];
  let pending = '';
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      lines.push(expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', JSON.parse(text)));
      await onLine(lines.at(-1)!, lines.length - 1);
    }
  }
  expect(pending, 'the stream ends with a complete line').toBe('');
  return lines;
}

/** Results keyed by custom_id, failing if any custom_id appears twice or any expected one is missing. */
export function resultsById(lines: MessageBatchIndividualResponse[], expectedIds?: Iterable<string>): Map<string, MessageBatchIndividualResponse> {
  const byId = new Map<string, MessageBatchIndividualResponse>();
  const duplicates: string[] = [];
  for (const line of lines) {
    if (byId.has(line.custom_id)) duplicates.push(line.custom_id);
    byId.set(line.custom_id, line);
  }
  expect(duplicates, 'custom_ids that appear more than once').toEqual([]);
  if (expectedIds) {
    const expected = new Set(expectedIds);
    const missing = [...expected].filter((id) => !byId.has(id));
    const unexpected = [...byId.keys()].filter((id) => !expected.has(id));
    expect(missing.slice(0, 20), `${missing.length} custom_ids missing from results`).toEqual([]);
    expect(unexpected.slice(0, 20), `${unexpected.length} unexpected custom_ids in results`).toEqual([]);
  }
  return byId;
}

/** Tallies result types, to compare with `request_counts`. */
export function tally(lines: MessageBatchIndividualResponse[]): Record<'succeeded' | 'errored' | 'canceled' | 'expired', number> {
  const counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const line of lines) counts[line.result.type] += 1;
  return counts;
}

/** An RFC 3339 timestamp as microseconds since the epoch, keeping the fraction `Date.parse` drops. */
export function timestampMicros(value: string): number {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!match) throw new Error(`not an RFC 3339 timestamp: ${value}`);
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  const fraction = (match[2] ?? '').padEnd(6, '0').slice(0, 6);
  return seconds * 1000 + Number(fraction);
}
