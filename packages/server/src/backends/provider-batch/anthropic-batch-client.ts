import { isObject, type Json } from '../../json.js';
import { withFramedBody, type Framing } from './framed-body.js';
import { parseResultLine } from './jsonl-lines.js';
import {
  ProviderBatchError,
  type ProviderBatchClient,
  type ProviderBatchLimits,
  type ProviderBatchLine,
  type LineTemplate,
  type ProviderBatchLines,
  type ProviderBatchStatus,
  type ProviderLineOutcome,
  type ProviderLineResult,
} from './provider-batch-client.js';
import { ProviderHttp } from './provider-http.js';
import { cancelUnlessEnded, findInPages } from './batch-calls.js';

/**
 * The Anthropic Message Batches API (`{url}/v1/messages/batches`) as a provider batch client.
 *
 * Submit POSTs `{requests:[{custom_id, params}]}` with each line's body spliced in as `params`,
 * exactly as given, streamed. Results come from the batch's `results_url` when it is on the
 * configured origin (the key is never sent elsewhere), else from the literal results path; each
 * line maps `succeeded` to the `message` unchanged, `errored` to the error's type and message
 * (status 400 for `invalid_request_error`, 500 otherwise), `canceled` and `expired` as they are,
 * and a result type this client does not know to `errored` (500 `api_error`) rather than a failure
 * that would repeat on every download.
 * `find` pages through the provider's batches, newest first, back to `createdAfterMs`.
 */

export interface AnthropicBatchClientOptions {
  /** Base URL of the API without `/v1`, such as `https://api.anthropic.com`. */
  url: string;
  /** Sent as `x-api-key`. */
  apiKey: string;
  /** Sent as `anthropic-version`. Defaults to `2023-06-01`. */
  anthropicVersion?: string;
  /** Longest a call may take. Defaults to 600,000 ms. */
  timeoutMs?: number;
  /** Defaults to 100,000 requests and 256 MB. */
  limits?: Partial<ProviderBatchLimits>;
  /** The current time in epoch milliseconds, for `retry-after` dates. Defaults to `Date.now`. */
  now?: () => number;
}

export const ANTHROPIC_BATCH_LIMITS: ProviderBatchLimits = { maxRequests: 100_000, maxBytes: 256_000_000 };

const BATCHES_PATH = '/v1/messages/batches';
const PAGE_SIZE = 100;
const MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024;
const STATES = new Set(['in_progress', 'canceling', 'ended']);
const COUNT_NAMES = ['processing', 'succeeded', 'errored', 'canceled', 'expired'] as const;

const FRAMING: Framing = {
  contentType: 'application/json',
  head: '{"requests":[',
  separator: ',',
  tail: ']}',
  frame: (line: ProviderBatchLine) => `{"custom_id":${JSON.stringify(line.customId)},"params":${line.body}}`,
};

/** `FRAMING.frame` of a line whose custom_id needs no escaping, for a store to write itself. */
export const ANTHROPIC_LINE_TEMPLATE: LineTemplate = { before: '{"custom_id":"', middle: '","params":', after: '}', separator: FRAMING.separator };

/** A `MessageBatch` answer, checked for the fields the client reads. */
function asBatch(value: unknown): Json & { id: string; processing_status: string } {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.processing_status !== 'string' || !STATES.has(value.processing_status)) {
    throw ProviderBatchError.invalidAnswer('not a message batch');
  }
  return value as Json & { id: string; processing_status: string };
}

function countsOf(batch: Json): ProviderBatchStatus['counts'] {
  const reported = isObject(batch.request_counts) ? batch.request_counts : {};
  const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const name of COUNT_NAMES) {
    const value = reported[name];
    if (typeof value === 'number' && Number.isFinite(value)) counts[name] = value;
  }
  return counts;
}

/** The start of a results line as the provider writes it, up to its `result` value, with a plain `custom_id`. */
const FRAMED_LINE = /^\{"custom_id":"([A-Za-z0-9_-]{1,64})","result":(?=\{)/;

/**
 * The `result` object of a line framed as the provider writes it, as its own text and parsed: the
 * text between the frame and the line's last `}` parses as one object, so the line holds nothing
 * else. Undefined for any other line, which is parsed whole.
 */
function framedResult(line: string): { customId: string; text: string; result: Json } | undefined {
  const frame = FRAMED_LINE.exec(line);
  if (!frame || line.charCodeAt(line.length - 1) !== 0x7d) return undefined;
  const text = line.slice(frame[0].length, -1);
  try {
    return { customId: frame[1]!, text, result: JSON.parse(text) as Json };
  } catch {
    return undefined;
  }
}

/**
 * One results line's outcome; a succeeded one keeps the provider's `result` object whole as text:
 * as written when the line is framed as usual, else serialized again.
 */
export function anthropicLineResult(line: string): ProviderLineResult {
  const framed = framedResult(line);
  if (framed) return { customId: framed.customId, outcome: outcomeOf(framed.result, () => framed.text) };
  const parsed = parseResultLine(line);
  const result = parsed.result;
  if (!isObject(result)) throw ProviderBatchError.invalidAnswer('a results line has no result');
  return { customId: parsed.custom_id, outcome: outcomeOf(result, () => JSON.stringify(result)) };
}

function outcomeOf(result: Json, text: () => string): ProviderLineOutcome {
  switch (result.type) {
    case 'succeeded':
      if (!isObject(result.message)) throw ProviderBatchError.invalidAnswer('a succeeded result has no message');
      return { type: 'succeeded', body: result.message, resultText: text() };
    case 'canceled':
    case 'expired':
      return { type: result.type };
    case 'errored': {
      const envelope = isObject(result.error) ? result.error : {};
      const error = isObject(envelope.error) ? envelope.error : envelope;
      const errorType = typeof error.type === 'string' && error.type !== 'error' ? error.type : 'api_error';
      const message = typeof error.message === 'string' ? error.message : 'the provider reported an error';
      return { type: 'errored', status: errorType === 'invalid_request_error' ? 400 : 500, errorType, message };
    }
    default:
      return { type: 'errored', status: 500, errorType: 'api_error', message: `the provider reported an unknown result type ${JSON.stringify(result.type)}` };
  }
}

export class AnthropicBatchClient implements ProviderBatchClient {
  readonly kind = 'anthropic-batch' as const;
  readonly limits: ProviderBatchLimits;
  readonly #http: ProviderHttp;

  constructor(options: AnthropicBatchClientOptions) {
    this.limits = { ...ANTHROPIC_BATCH_LIMITS, ...options.limits };
    this.#http = new ProviderHttp({
      baseUrl: options.url,
      headers: { 'x-api-key': options.apiKey, 'anthropic-version': options.anthropicVersion ?? '2023-06-01' },
      secret: options.apiKey,
      timeoutMs: options.timeoutMs,
      now: options.now ?? Date.now,
    });
  }

  async submit(submission: { tag: string; endpoint: string; lines: ProviderBatchLines }, signal: AbortSignal): Promise<{ providerBatchId: string }> {
    const batch = asBatch(await withFramedBody(submission.lines, FRAMING, this.limits, (body) => this.#http.json('POST', BATCHES_PATH, body, signal)));
    return { providerBatchId: batch.id };
  }

  async find(intent: { tag: string; createdAfterMs: number; requestCount: number; exclude: string[] }, signal: AbortSignal): Promise<string | undefined> {
    const exclude = new Set(intent.exclude);
    let oldest: string | undefined;
    await findInPages(async (after) => {
      const query = `?limit=${PAGE_SIZE}${after === undefined ? '' : `&after_id=${encodeURIComponent(after)}`}`;
      const page = await this.#http.json('GET', `${BATCHES_PATH}${query}`, undefined, signal);
      if (!isObject(page) || !Array.isArray(page.data)) throw ProviderBatchError.invalidAnswer('not a list of message batches');
      for (const item of page.data) {
        const batch = asBatch(item);
        const createdMs = typeof batch.created_at === 'string' ? Date.parse(batch.created_at) : Number.NaN;
        if (!(createdMs >= intent.createdAfterMs)) return { done: true };
        const counts = countsOf(batch);
        const requests = COUNT_NAMES.reduce((sum, name) => sum + counts[name], 0);
        if (requests === intent.requestCount && !exclude.has(batch.id)) oldest = batch.id;
      }
      return { done: page.has_more !== true, next: typeof page.last_id === 'string' ? page.last_id : undefined };
    });
    return oldest;
  }

  async retrieve(providerBatchId: string, signal: AbortSignal): Promise<ProviderBatchStatus> {
    return this.#status(await this.#batch(providerBatchId, signal));
  }

  async cancel(providerBatchId: string, signal: AbortSignal): Promise<void> {
    await cancelUnlessEnded(
      async () => asBatch(await this.#http.json('POST', `${this.#path(providerBatchId)}/cancel`, undefined, signal)),
      () => this.retrieve(providerBatchId, signal),
    );
  }

  async *results(providerBatchId: string, signal: AbortSignal, ended?: ProviderBatchStatus): AsyncIterable<ProviderLineResult[]> {
    const [url] = ended?.results ?? this.#status(await this.#batch(providerBatchId, signal)).results ?? [];
    if (url === undefined) throw new ProviderBatchError(`provider batch ${providerBatchId} has no results yet`, { status: 0, retryable: true });
    for await (const lines of this.#http.linePages(url, MAX_RESULT_LINE_BYTES, signal)) yield lines.map(anthropicLineResult);
  }

  lineTemplate(): LineTemplate {
    return ANTHROPIC_LINE_TEMPLATE;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  /** A batch's state and counts; once ended, its `results_url` when on the configured origin (the key is never sent elsewhere), else the literal results path. */
  #status(batch: Json & { id: string; processing_status: string }): ProviderBatchStatus {
    const status: ProviderBatchStatus = { state: batch.processing_status as ProviderBatchStatus['state'], counts: countsOf(batch) };
    if (status.state !== 'ended' || typeof batch.results_url !== 'string') return status;
    const given = URL.canParse(batch.results_url) ? new URL(batch.results_url) : undefined;
    status.results = [given !== undefined && this.#http.sameOrigin(given) ? given : this.#http.url(`${this.#path(batch.id)}/results`)];
    return status;
  }

  #path(providerBatchId: string): string {
    return `${BATCHES_PATH}/${encodeURIComponent(providerBatchId)}`;
  }

  async #batch(providerBatchId: string, signal: AbortSignal): Promise<Json & { id: string; processing_status: string }> {
    return asBatch(await this.#http.json('GET', this.#path(providerBatchId), undefined, signal));
  }
}
