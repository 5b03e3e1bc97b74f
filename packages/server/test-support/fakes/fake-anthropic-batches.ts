import type { Server } from 'node:http';
import { anthropicMessage } from './fake-answers.js';
import { FakeBatch, type FakeRequest } from './fake-batch-model.js';
import { FakeBatchServer, FakeHttpError, writeLines, type FakeAnswer, type FakeBatchesOptions, type FakeCall, type FakeRoute } from './fake-batch-server.js';

/**
 * A fake Anthropic Message Batches API: a real HTTP server on 127.0.0.1 serving create, retrieve,
 * list (newest first, `limit`, `after_id`), cancel and results (JSONL at `results_url`) under
 * `/v1/messages/batches`, and `POST /v1/messages` (counted in `directCalls`). Batches live as
 * `fake-batch-model.ts` describes; `request_counts` stay all `processing` until a batch ends, as
 * the hosted API's do. Faults and the record are `fake-batch-server.ts`'s.
 */

export interface FakeAnthropicBatchesOptions extends FakeBatchesOptions {
  /** Most requests per create; more answer 400. Defaults to 100,000. */
  maxRequests?: number;
  /** Most bytes per create body; more answer 413. Defaults to 256 MB. */
  maxBytes?: number;
  /** The origin `results_url` names, such as a CDN's. Defaults to the fake's own. */
  resultsOrigin?: string;
}

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new FakeHttpError(400, 'body is not JSON');
  }
}

export class FakeAnthropicBatches extends FakeBatchServer {
  /** Every batch, in creation order. */
  readonly batches = new Map<string, FakeBatch>();
  readonly #limits: { maxRequests: number; maxBytes: number; resultsOrigin?: string };

  private constructor(server: Server, options: FakeAnthropicBatchesOptions) {
    super(server, 'anthropic', options);
    this.#limits = { maxRequests: options.maxRequests ?? 100_000, maxBytes: options.maxBytes ?? 256_000_000, resultsOrigin: options.resultsOrigin };
  }

  /** Starts a fake listening on 127.0.0.1 on a free port. */
  static async start(options: FakeAnthropicBatchesOptions = {}): Promise<FakeAnthropicBatches> {
    return new FakeAnthropicBatches(await FakeBatchServer.listen(), options);
  }

  protected route(call: FakeCall): FakeRoute | undefined {
    const { method, path } = call;
    if (method === 'POST' && path === '/v1/messages') {
      return { route: 'direct', run: () => ((this.directCalls += 1), { status: 200, json: anthropicMessage(parseJson(call.body)) }) };
    }
    if (path === '/v1/messages/batches') {
      if (method === 'POST') return { route: 'create', run: () => this.#create(call.body) };
      if (method === 'GET') return { route: 'list', run: () => this.#list(call.query) };
      return undefined;
    }
    const match = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path);
    if (match === null) return undefined;
    const [, id = '', action] = match;
    if (method === 'GET' && action === undefined) return { route: 'retrieve', run: () => ({ status: 200, json: this.#view(this.#batch(id)) }) };
    if (method === 'POST' && action === '/cancel') return { route: 'cancel', run: () => this.#cancel(this.#batch(id)) };
    if (method === 'GET' && action === '/results') return { route: 'results', run: () => this.#results(this.#batch(id)) };
    return undefined;
  }

  #batch(id: string): FakeBatch {
    const batch = this.batches.get(id);
    if (batch === undefined) throw new FakeHttpError(404, `no message batch ${id}`);
    return batch;
  }

  #create(body: Buffer): FakeAnswer {
    if (body.length > this.#limits.maxBytes) throw new FakeHttpError(413, 'Request exceeds the maximum size');
    const parsed = parseJson(body) as { requests?: unknown };
    const requests = parsed?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw new FakeHttpError(400, 'requests: expected a non-empty list');
    if (requests.length > this.#limits.maxRequests) throw new FakeHttpError(400, `requests: at most ${this.#limits.maxRequests}`);
    const seen = new Set<string>();
    const entries = requests.map((request: { custom_id?: unknown; params?: unknown }) => {
      const customId = request?.custom_id;
      if (typeof customId !== 'string' || !CUSTOM_ID.test(customId) || seen.has(customId)) throw new FakeHttpError(400, `invalid custom_id ${String(customId)}`);
      seen.add(customId);
      return { customId, body: request.params, script: this.scriptOf(customId, request.params) };
    });
    const id = `msgbatch_fake${String(this.batches.size + 1).padStart(12, '0')}`;
    const batch = new FakeBatch(id, this.now(), entries, this.timing);
    this.batches.set(id, batch);
    this.submissions.push({ id, customIds: [...seen] });
    return { status: 200, json: this.#view(batch) };
  }

  #list(query: URLSearchParams): FakeAnswer {
    const limit = Number(query.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FakeHttpError(400, 'limit: 1 to 1000');
    const newestFirst = [...this.batches.values()].reverse();
    const after = query.get('after_id');
    const start = after === null ? 0 : newestFirst.findIndex((batch) => batch.id === after) + 1;
    const page = newestFirst.slice(start, start + limit);
    const json = { data: page.map((batch) => this.#view(batch)), has_more: start + limit < newestFirst.length, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
    return { status: 200, json };
  }

  #cancel(batch: FakeBatch): FakeAnswer {
    const now = this.now();
    if (batch.ended(now)) throw new FakeHttpError(400, `message batch ${batch.id} has ended and cannot be canceled`);
    batch.cancel(now);
    return { status: 200, json: this.#view(batch) };
  }

  #results(batch: FakeBatch): FakeAnswer {
    const now = this.now();
    if (!batch.ended(now)) throw new FakeHttpError(400, `message batch ${batch.id} has not ended`);
    const lines = (function* (fake: FakeAnthropicBatches): Generator<string> {
      for (const request of batch.requests) yield `${JSON.stringify({ custom_id: request.customId, result: fake.#result(batch, request, now) })}\n`;
    })(this);
    return { status: 200, contentType: 'application/x-jsonl', write: (response, cut) => writeLines(response, lines, batch.requests.length, cut) };
  }

  #result(batch: FakeBatch, request: FakeRequest, now: number): unknown {
    const state = batch.stateOf(request, now);
    if (state === 'succeeded') return { type: 'succeeded', message: this.options.answer?.(request.body) ?? anthropicMessage(request.body) };
    if (state !== 'errored' || typeof request.script !== 'object') return { type: state };
    const { type, message } = request.script;
    return { type: 'errored', error: { type: 'error', error: { type, message }, request_id: null } };
  }

  #view(batch: FakeBatch): unknown {
    const now = this.now();
    const ended = batch.ended(now);
    const counts = ended ? batch.counts(now) : { processing: batch.requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    const origin = this.#limits.resultsOrigin ?? this.url;
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: ended ? 'ended' : batch.cancelAtMs === undefined ? 'in_progress' : 'canceling',
      request_counts: counts,
      ended_at: ended ? iso(batch.endsAtMs) : null,
      created_at: iso(batch.createdAtMs),
      expires_at: iso(batch.expiresAtMs),
      archived_at: null,
      cancel_initiated_at: batch.cancelAtMs === undefined ? null : iso(batch.cancelAtMs),
      results_url: ended ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
    };
  }
}
