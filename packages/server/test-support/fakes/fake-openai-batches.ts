import type { Server } from 'node:http';
import { isObject, type Json } from '../../src/json.js';
import { openAICompletion } from './fake-answers.js';
import { FakeBatch, type FakeRequest } from './fake-batch-model.js';
import { FakeBatchServer, FakeHttpError, writeLines, type FakeAnswer, type FakeBatchesOptions, type FakeCall, type FakeRoute } from './fake-batch-server.js';
import { parseMultipart } from './fake-multipart.js';

/**
 * A fake OpenAI Batch API: a real HTTP server on 127.0.0.1 serving `POST /v1/files` (multipart,
 * `purpose=batch`), `GET /v1/files/{id}/content`, and create, retrieve, list (`after`, `limit`)
 * and cancel under `/v1/batches`, plus `POST /v1/chat/completions` (counted in `directCalls`).
 *
 * A create checks the input file as OpenAI does (JSON lines with a unique `custom_id`, method
 * `POST`, `url` equal to the batch's endpoint, a `body` with the same `model` on every line); a
 * file that fails makes a `failed` batch with `errors.data`. Batches live as `fake-batch-model.ts`
 * describes; `request_counts` move live. Answered requests go to the output file, errored ones
 * (status and error body) to the error file, and unfinished requests of an expired or cancelled
 * batch to the error file as `batch_expired` / `batch_cancelled`, or to neither file with
 * `omitUnfinished`.
 */

export interface FakeOpenAIBatchesOptions extends FakeBatchesOptions {
  /** Unfinished requests of an expired or cancelled batch are left out of both files. */
  omitUnfinished?: boolean;
}

interface OpenAIBatch {
  batch: FakeBatch;
  endpoint: string;
  inputFileId: string;
  metadata: unknown;
  /** Why the input file failed, line by line; undefined when it passed. */
  errors?: { code: string; message: string; line: number }[];
}

const STATUS_BY_END = { completed: 'completed', canceled: 'cancelled', expired: 'expired' } as const;

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export class FakeOpenAIBatches extends FakeBatchServer {
  /** Every batch, in creation order. */
  readonly batches = new Map<string, OpenAIBatch>();
  /** Uploaded files, by id. */
  readonly files = new Map<string, { filename: string; purpose: string; content: Buffer }>();

  private constructor(server: Server, options: FakeOpenAIBatchesOptions) {
    super(server, 'openai', options);
  }

  /** Starts a fake listening on 127.0.0.1 on a free port. */
  static async start(options: FakeOpenAIBatchesOptions = {}): Promise<FakeOpenAIBatches> {
    return new FakeOpenAIBatches(await FakeBatchServer.listen(), options);
  }

  protected route(call: FakeCall): FakeRoute | undefined {
    const { method, path } = call;
    if (method === 'POST' && path === '/v1/chat/completions') {
      return { route: 'direct', run: () => ((this.directCalls += 1), { status: 200, json: openAICompletion(JSON.parse(call.body.toString('utf8'))) }) };
    }
    if (method === 'POST' && path === '/v1/files') return { route: 'upload', run: () => this.#upload(call) };
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (method === 'GET' && content !== null) return { route: 'content', run: () => this.#content(content[1] ?? '') };
    if (path === '/v1/batches') {
      if (method === 'POST') return { route: 'create', run: () => this.#create(call.body) };
      if (method === 'GET') return { route: 'list', run: () => this.#list(call.query) };
      return undefined;
    }
    const match = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (match === null) return undefined;
    const [, id = '', cancel] = match;
    if (method === 'GET' && cancel === undefined) return { route: 'retrieve', run: () => ({ status: 200, json: this.#view(this.#batch(id)) }) };
    if (method === 'POST' && cancel !== undefined) return { route: 'cancel', run: () => this.#cancel(this.#batch(id)) };
    return undefined;
  }

  #batch(id: string): OpenAIBatch {
    const batch = this.batches.get(id);
    if (batch === undefined) throw new FakeHttpError(404, `No batch found with id '${id}'.`);
    return batch;
  }

  #upload(call: FakeCall): FakeAnswer {
    const parts = parseMultipart(call.headers['content-type'], call.body);
    const purpose = parts?.find((part) => part.name === 'purpose')?.content.toString('utf8');
    const file = parts?.find((part) => part.name === 'file' && part.filename !== undefined);
    if (purpose !== 'batch' || file === undefined) throw new FakeHttpError(400, 'expected a multipart form with purpose=batch and a file');
    const id = `file-fake${String(this.files.size + 1).padStart(8, '0')}`;
    this.files.set(id, { filename: file.filename ?? '', purpose, content: file.content });
    const json = { id, object: 'file', bytes: file.content.length, created_at: seconds(this.now()), filename: file.filename, purpose, status: 'processed' };
    return { status: 200, json };
  }

  #create(body: Buffer): FakeAnswer {
    const create = JSON.parse(body.toString('utf8')) as { input_file_id?: unknown; endpoint?: unknown; completion_window?: unknown; metadata?: unknown };
    const file = typeof create.input_file_id === 'string' ? this.files.get(create.input_file_id) : undefined;
    if (file === undefined) throw new FakeHttpError(400, 'input_file_id: no such file');
    if (typeof create.endpoint !== 'string' || !create.endpoint.startsWith('/v1/')) throw new FakeHttpError(400, 'endpoint: unsupported');
    if (create.completion_window !== '24h') throw new FakeHttpError(400, 'completion_window: must be 24h');
    const { requests, errors } = this.#check(file.content, create.endpoint);
    const id = `batch_fake${String(this.batches.size + 1).padStart(8, '0')}`;
    const batch = new FakeBatch(id, this.now(), errors.length > 0 ? [] : requests, this.timing);
    const entry: OpenAIBatch = { batch, endpoint: create.endpoint, inputFileId: String(create.input_file_id), metadata: create.metadata ?? null };
    if (errors.length > 0) entry.errors = errors;
    this.batches.set(id, entry);
    const tag = isObject(create.metadata) && typeof create.metadata.batchd_submission === 'string' ? create.metadata.batchd_submission : undefined;
    this.submissions.push({ id, customIds: requests.map((request) => request.customId), tag, ...(errors.length > 0 && { failed: true }) });
    return { status: 200, json: this.#view(entry) };
  }

  /** The input file's requests, and what is wrong with its lines. */
  #check(content: Buffer, endpoint: string): { requests: Pick<FakeRequest, 'customId' | 'body' | 'script'>[]; errors: NonNullable<OpenAIBatch['errors']> } {
    const requests: Pick<FakeRequest, 'customId' | 'body' | 'script'>[] = [];
    const errors: NonNullable<OpenAIBatch['errors']> = [];
    const seen = new Set<string>();
    let model: unknown;
    content.toString('utf8').split('\n').forEach((text, index) => {
      if (text.trim() === '') return;
      const fail = (message: string): void => void errors.push({ code: 'invalid_request', message, line: index + 1 });
      let line: Json;
      try {
        line = JSON.parse(text) as Json;
      } catch {
        return fail('line is not valid JSON');
      }
      const body = line.body;
      if (typeof line.custom_id !== 'string' || seen.has(line.custom_id)) return fail('custom_id must be a unique string');
      if (line.method !== 'POST' || line.url !== endpoint) return fail(`method must be POST and url must be ${endpoint}`);
      if (!isObject(body) || typeof body.model !== 'string') return fail('body must be an object with a model');
      if ((model ??= body.model) !== body.model) return fail('every line must use the same model');
      seen.add(line.custom_id);
      requests.push({ customId: line.custom_id, body, script: this.scriptOf(line.custom_id, body) });
    });
    if (requests.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'the input file has no requests', line: 1 });
    return { requests, errors };
  }

  #list(query: URLSearchParams): FakeAnswer {
    const limit = Number(query.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new FakeHttpError(400, 'limit: 1 to 100');
    const newestFirst = [...this.batches.values()].reverse();
    const after = query.get('after');
    const start = after === null ? 0 : newestFirst.findIndex((entry) => entry.batch.id === after) + 1;
    const page = newestFirst.slice(start, start + limit);
    const json = { object: 'list', data: page.map((entry) => this.#view(entry)), first_id: page[0]?.batch.id ?? null, last_id: page.at(-1)?.batch.id ?? null, has_more: start + limit < newestFirst.length };
    return { status: 200, json };
  }

  #cancel(entry: OpenAIBatch): FakeAnswer {
    const now = this.now();
    if (entry.errors !== undefined || entry.batch.ended(now)) throw new FakeHttpError(400, `Cannot cancel a batch with status ${String(this.#status(entry))}.`);
    entry.batch.cancel(now);
    return { status: 200, json: this.#view(entry) };
  }

  /** An output (`file-out-…`) or error (`file-err-…`) file of an ended batch, or an uploaded file. */
  #content(fileId: string): FakeAnswer {
    const uploaded = this.files.get(fileId);
    if (uploaded !== undefined) return { status: 200, contentType: 'application/octet-stream', write: async (response) => void response.end(uploaded.content) };
    const match = /^file-(out|err)-(.+)$/.exec(fileId);
    const entry = match === null ? undefined : this.batches.get(match[2] ?? '');
    if (entry === undefined || !entry.batch.ended(this.now())) throw new FakeHttpError(404, `No such File object: ${fileId}`);
    const output = match?.[1] === 'out';
    const counts = entry.batch.counts(this.now());
    const total = output ? counts.succeeded : counts.errored + counts.canceled + counts.expired;
    return { status: 200, contentType: 'application/octet-stream', write: (response, cut) => writeLines(response, this.#fileLines(entry, output), total, cut) };
  }

  /** The lines of a batch's output file (`output`) or error file, made as they are written. */
  *#fileLines(entry: OpenAIBatch, output: boolean): Generator<string> {
    const now = this.now();
    for (const [index, request] of entry.batch.requests.entries()) {
      const state = entry.batch.stateOf(request, now);
      if ((state === 'succeeded') !== output || ((state === 'canceled' || state === 'expired') && this.#omitUnfinished)) continue;
      yield `${JSON.stringify({ id: `batch_req_${entry.batch.id}_${index}`, custom_id: request.customId, ...this.#outcome(request, state) })}\n`;
    }
  }

  get #omitUnfinished(): boolean {
    return (this.options as FakeOpenAIBatchesOptions).omitUnfinished === true;
  }

  #outcome(request: FakeRequest, state: string): { response: Json | null; error: Json | null } {
    if (state === 'canceled') return { response: null, error: { code: 'batch_cancelled', message: 'This request was cancelled before it was executed.' } };
    if (state === 'expired') return { response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } };
    const script = request.script;
    if (typeof script === 'object') {
      const body = { error: { message: script.message, type: script.type, param: null, code: null } };
      return { response: { status_code: script.status, request_id: 'req_fake', body }, error: null };
    }
    const body = this.options.answer?.(request.body) ?? openAICompletion(request.body);
    return { response: { status_code: 200, request_id: 'req_fake', body: body as Json }, error: null };
  }

  #status(entry: OpenAIBatch): string {
    const { batch } = entry;
    const now = this.now();
    if (entry.errors !== undefined) return 'failed';
    if (batch.ended(now)) return STATUS_BY_END[batch.endReason];
    return batch.cancelAtMs === undefined ? 'in_progress' : 'cancelling';
  }

  #view(entry: OpenAIBatch): Json {
    const { batch } = entry;
    const now = this.now();
    const status = this.#status(entry);
    const counts = batch.counts(now);
    const ended = status !== 'in_progress' && status !== 'cancelling';
    const unfinished = this.#omitUnfinished ? 0 : counts.canceled + counts.expired;
    const files = ended && status !== 'failed' ? { output: counts.succeeded > 0, error: counts.errored + unfinished > 0 } : { output: false, error: false };
    const at = (when: boolean, ms: number): number | null => (when ? seconds(ms) : null);
    return {
      id: batch.id,
      object: 'batch',
      endpoint: entry.endpoint,
      errors: entry.errors === undefined ? null : { object: 'list', data: entry.errors.map((error) => ({ ...error, param: null })) },
      input_file_id: entry.inputFileId,
      completion_window: '24h',
      status,
      output_file_id: files.output ? `file-out-${batch.id}` : null,
      error_file_id: files.error ? `file-err-${batch.id}` : null,
      created_at: seconds(batch.createdAtMs),
      in_progress_at: status === 'failed' ? null : seconds(batch.createdAtMs),
      expires_at: seconds(batch.expiresAtMs),
      completed_at: at(status === 'completed', batch.endsAtMs),
      failed_at: at(status === 'failed', batch.createdAtMs),
      expired_at: at(status === 'expired', batch.endsAtMs),
      cancelling_at: at(batch.cancelAtMs !== undefined, batch.cancelAtMs ?? 0),
      cancelled_at: at(status === 'cancelled', batch.endsAtMs),
      request_counts: { total: batch.requests.length, completed: counts.succeeded, failed: counts.errored },
      metadata: entry.metadata,
    };
  }
}
