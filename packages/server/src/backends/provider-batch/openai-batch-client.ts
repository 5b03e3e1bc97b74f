import { isObject } from '../../json.js';
import { cancelUnlessEnded, findInPages } from './batch-calls.js';
import { withFramedBody } from './framed-body.js';
import { inputFileFraming, openAIBatchStatus, openAILineResult } from './openai-batch-lines.js';
import {
  ProviderBatchError,
  type ProviderBatchClient,
  type ProviderBatchLimits,
  type ProviderBatchLines,
  type ProviderBatchStatus,
  type ProviderLineResult,
} from './provider-batch-client.js';
import { jsonBody, ProviderHttp } from './provider-http.js';

/**
 * The OpenAI Batch API (`{url}/files`, `{url}/batches`, with `url` the `/v1` base) as a provider
 * batch client.
 *
 * Submit uploads the lines as a JSONL input file (multipart, `purpose=batch`, streamed, each line
 * `{custom_id, method:"POST", url: endpoint, body}` with the body spliced in as it is), then
 * creates the batch (`completion_window: "24h"`, `metadata: {batchd_submission: tag}`). `find`
 * pages through the provider's batches, newest first, for that tag, back to ten minutes before
 * `createdAfterMs` (the provider's clock may differ from ours). Results are the output file, then
 * the error file (`/files/{id}/content`); see `openai-batch-lines.ts` for how lines and statuses map.
 */

export interface OpenAIBatchClientOptions {
  /** Base URL with `/v1`, such as `https://api.openai.com/v1`. */
  url: string;
  /** Sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Longest a call may take (the upload included). Defaults to 600,000 ms. */
  timeoutMs?: number;
  /** Defaults to 50,000 requests and 200 MB of input file. */
  limits?: Partial<ProviderBatchLimits>;
  /** The current time in epoch milliseconds, for `retry-after` dates. Defaults to `Date.now`. */
  now?: () => number;
}

export const OPENAI_BATCH_LIMITS: ProviderBatchLimits = { maxRequests: 50_000, maxBytes: 200_000_000 };

/** The `metadata` key holding batchd's submission id. */
export const SUBMISSION_METADATA_KEY = 'batchd_submission';

const PAGE_SIZE = 100;
const FIND_SKEW_MS = 10 * 60_000;
const MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024;

function idOf(value: unknown, what: string): string {
  if (!isObject(value) || typeof value.id !== 'string') throw ProviderBatchError.invalidAnswer(`not ${what}`);
  return value.id;
}

export class OpenAIBatchClient implements ProviderBatchClient {
  readonly kind = 'openai-batch' as const;
  readonly limits: ProviderBatchLimits;
  readonly #http: ProviderHttp;

  constructor(options: OpenAIBatchClientOptions) {
    this.limits = { ...OPENAI_BATCH_LIMITS, ...options.limits };
    this.#http = new ProviderHttp({
      baseUrl: options.url,
      headers: { authorization: `Bearer ${options.apiKey}` },
      secret: options.apiKey,
      timeoutMs: options.timeoutMs,
      now: options.now ?? Date.now,
    });
  }

  async submit(submission: { tag: string; endpoint: string; lines: ProviderBatchLines }, signal: AbortSignal): Promise<{ providerBatchId: string }> {
    const { tag, endpoint, lines } = submission;
    const uploaded = await withFramedBody(lines, inputFileFraming(tag, endpoint), this.limits, (upload) => this.#http.json('POST', '/files', upload, signal));
    const fileId = idOf(uploaded, 'a file');
    const create = { input_file_id: fileId, endpoint, completion_window: '24h', metadata: { [SUBMISSION_METADATA_KEY]: tag } };
    return { providerBatchId: idOf(await this.#http.json('POST', '/batches', jsonBody(create), signal), 'a batch') };
  }

  async find(intent: { tag: string; createdAfterMs: number; requestCount: number; exclude: string[] }, signal: AbortSignal): Promise<string | undefined> {
    const exclude = new Set(intent.exclude);
    let oldest: string | undefined;
    await findInPages(async (after) => {
      const query = `?limit=${PAGE_SIZE}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
      const page = await this.#http.json('GET', `/batches${query}`, undefined, signal);
      if (!isObject(page) || !Array.isArray(page.data)) throw ProviderBatchError.invalidAnswer('not a list of batches');
      for (const batch of page.data) {
        const id = idOf(batch, 'a batch');
        const created = (batch as { created_at?: unknown }).created_at;
        if (typeof created === 'number' && created * 1000 < intent.createdAfterMs - FIND_SKEW_MS) return { done: true };
        const metadata = (batch as { metadata?: unknown }).metadata;
        if (isObject(metadata) && metadata[SUBMISSION_METADATA_KEY] === intent.tag && !exclude.has(id)) oldest = id;
      }
      return { done: page.has_more !== true, next: typeof page.last_id === 'string' ? page.last_id : undefined };
    });
    return oldest;
  }

  async retrieve(providerBatchId: string, signal: AbortSignal): Promise<ProviderBatchStatus> {
    return this.#status(await this.#http.json('GET', this.#path(providerBatchId), undefined, signal));
  }

  async cancel(providerBatchId: string, signal: AbortSignal): Promise<void> {
    await cancelUnlessEnded(
      async () => openAIBatchStatus(await this.#http.json('POST', `${this.#path(providerBatchId)}/cancel`, undefined, signal)),
      () => this.retrieve(providerBatchId, signal),
    );
  }

  async *results(providerBatchId: string, signal: AbortSignal, ended?: ProviderBatchStatus): AsyncIterable<ProviderLineResult[]> {
    const urls = ended?.results ?? (await this.retrieve(providerBatchId, signal)).results;
    if (urls === undefined) throw new ProviderBatchError(`provider batch ${providerBatchId} has no results yet`, { status: 0, retryable: true });
    for (const url of urls) {
      for await (const lines of this.#http.linePages(url, MAX_RESULT_LINE_BYTES, signal)) yield lines.map(openAILineResult);
    }
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  /** A batch's status; once ended, the content of its output file, then of its error file, as far as it has them. */
  #status(batch: unknown): ProviderBatchStatus {
    const status = openAIBatchStatus(batch);
    if (status.state !== 'ended') return status;
    const { output_file_id: output, error_file_id: errors } = batch as { output_file_id?: unknown; error_file_id?: unknown };
    const files = [output, errors].filter((fileId): fileId is string => typeof fileId === 'string' && fileId !== '');
    status.results = files.map((fileId) => this.#http.url(`/files/${encodeURIComponent(fileId)}/content`));
    return status;
  }

  #path(providerBatchId: string): string {
    return `/batches/${encodeURIComponent(providerBatchId)}`;
  }
}
