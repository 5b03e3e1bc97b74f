import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import { isObject } from '../../json.js';
import { OPENAI_ENDPOINTS, type OpenAIEndpoint } from '../../engine/openai-requests.js';
import type { Lanes } from '../../engine/lanes.js';
import { withPrefixKeys } from '../../engine/prefix-order.js';
import type { BatchIdGenerator } from '../../ids.js';
import { IdempotencyKeyReused } from '../../store/batch-creates.js';
import type { BatchRecord, BatchesStore, NewRequest } from '../../store/store.js';
import { invalidRequest, notFound } from '../api-error.js';
import { checkInputFile, inputRequests } from './batch-input.js';
import { withinQueueLimit } from '../queue-limit.js';
import { batchUsage } from '../../wire/batch-usage.js';
import { toOpenAIBatch, type ChatBatchAttributes, type ExpiresAfter } from '../../wire/openai-batch.js';
import { BATCH_PURPOSE, parseExpiresAfter, parseMetadata } from './openai-fields.js';
import { singleValues } from '../query-params.js';
import { idempotencyKeyOf, isSdkRetry } from '../repeat-headers.js';
import type { StorageReserve } from '../storage-reserve.js';

export interface OpenAIBatchRouteDeps {
  store: BatchesStore;
  clock: Clock;
  batchIds: BatchIdGenerator;
  batchTtlMs: number;
  resultsTtlMs: number;
  /** As in `BatchRouteDeps`: called after a batch is stored; `routed` when its requests went to a provider-batch backend. */
  onCreated: (routed: boolean) => void;
  /** As in `BatchRouteDeps`: the provider-batch backend a new batch's requests go to unread as it opens. */
  providerAtCreate?: (endpoint: string | null) => string | undefined;
  /** Called with the id of a batch the moment its cancel is stored. */
  onCanceled: (batchId: string) => void;
  workspaceOf: (request: FastifyRequest) => string;
  /** Who sent a request (the API key's id, or its hash when keys are not checked). */
  callerOf: (request: FastifyRequest) => string;
  maxQueuedRequests?: number;
  /** The backends: a create stores each request's prefix key for the lane that will serve it. */
  lanes: Lanes;
  /** The free space a create holds while it copies its input file's requests. */
  storage: StorageReserve;
}

type IdParams = { Params: { id: string } };

const COMPLETION_WINDOW = '24h';

interface CreateFields {
  inputFileId: string;
  endpoint: OpenAIEndpoint;
  metadata: Record<string, string> | null;
  outputExpiresAfter: ExpiresAfter | null;
}

/** The create body's fields, checked. */
function parseCreate(body: unknown): CreateFields {
  if (!isObject(body)) throw invalidRequest('The body must be a JSON object.');
  const { input_file_id: inputFileId, endpoint, completion_window: window } = body;
  if (typeof inputFileId !== 'string' || inputFileId === '') throw invalidRequest('input_file_id: a file id is required.');
  if (inputFileId.includes('\u0000')) throw invalidRequest('input_file_id: must not contain NUL characters.');
  if (!OPENAI_ENDPOINTS.includes(endpoint as OpenAIEndpoint)) {
    throw invalidRequest(`endpoint: batchd runs batches of ${OPENAI_ENDPOINTS.join(', ')}; got ${JSON.stringify(endpoint ?? null).slice(0, 200)}.`);
  }
  if (window !== COMPLETION_WINDOW) throw invalidRequest(`completion_window: must be "${COMPLETION_WINDOW}", got ${JSON.stringify(window ?? null)}.`);
  return { inputFileId, endpoint: endpoint as OpenAIEndpoint, metadata: parseMetadata(body.metadata), outputExpiresAfter: parseExpiresAfter('output_expires_after', body.output_expires_after) };
}

/**
 * How long after its creation a batch's results are kept: the results TTL, or less when the output
 * files expire sooner (counted from the batch's end, at most the batch TTL after its creation).
 */
function resultsKeptMs(deps: Pick<OpenAIBatchRouteDeps, 'batchTtlMs' | 'resultsTtlMs'>, outputExpiresAfter: ExpiresAfter | null): number {
  if (outputExpiresAfter === null) return deps.resultsTtlMs;
  return Math.min(deps.resultsTtlMs, deps.batchTtlMs + outputExpiresAfter.seconds * 1000);
}

/** A failed batch's requests: none, so it is stored ended. */
async function* noRequests(): AsyncGenerator<NewRequest[]> {}

function parseBatchLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 100) throw invalidRequest('limit: must be an integer between 1 and 100');
  return limit;
}

/**
 * The OpenAI Batch API over the same store and engine as message batches. Create reads the
 * input file twice, streamed: once to check every line, then to store the requests; a file with
 * bad lines makes a `failed` batch listing them, as OpenAI does.
 */
export function registerOpenAIBatchRoutes(app: FastifyInstance, deps: OpenAIBatchRouteDeps): void {
  const { store, clock } = deps;

  async function findBatch(request: FastifyRequest<IdParams>): Promise<BatchRecord> {
    const batch = await store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'chat') throw notFound(`No batch found with id '${request.params.id}'.`);
    return batch;
  }

  // Creates are made once, as message batch creates are: a repeated Idempotency-Key or an SDK
  // retry of the same body gets the first batch.
  app.post('/v1/batches', async (request, reply) => {
    const { inputFileId, endpoint, metadata, outputExpiresAfter } = parseCreate(request.body);
    const idempotencyKey = idempotencyKeyOf(request);
    const retried = isSdkRetry(request);
    const workspace = deps.workspaceOf(request);
    const file = await store.files.getFile(workspace, inputFileId, clock.now());
    if (!file || file.purpose !== BATCH_PURPOSE) throw notFound(`input_file_id: no file with id '${inputFileId}'.`);
    await deps.storage.hold(reply, file.bytes);
    const { errors, requests: count, model } = await checkInputFile(store.files.readFile(workspace, file.id), endpoint, request.ip);
    const attributes: ChatBatchAttributes = {
      input_file_id: inputFileId,
      endpoint,
      completion_window: COMPLETION_WINDOW,
      metadata,
      model,
      output_expires_after: outputExpiresAfter,
      errors: errors.length > 0 ? { object: 'list', data: errors } : null,
    };
    let requests = errors.length > 0 ? noRequests() : withPrefixKeys(inputRequests(store.files.readFile(workspace, file.id), endpoint, count, request.ip), deps.lanes, 'chat');
    if (deps.maxQueuedRequests !== undefined) {
      const room = deps.maxQueuedRequests - (await store.queuedRequests(workspace));
      requests = withinQueueLimit(requests, room, deps.maxQueuedRequests);
    }
    const now = clock.now();
    const id = deps.batchIds.next(now);
    const providerBackend = errors.length > 0 ? undefined : deps.providerAtCreate?.(endpoint);
    const batch = await store
      .createBatch(
        {
          id,
          workspaceId: workspace,
          createdAt: now,
          expiresAt: now + deps.batchTtlMs,
          archiveAt: now + resultsKeptMs(deps, outputExpiresAfter),
          dialect: 'chat',
          attributes: JSON.stringify(attributes),
          endpoint,
          providerBackend,
        },
        requests,
        {
          caller: deps.callerOf(request),
          bodyDigest: () => createHash('sha256').update(JSON.stringify(request.body)).digest('hex'),
          idempotencyKey,
          retried,
        },
      )
      .catch((error: unknown) => {
        throw error instanceof IdempotencyKeyReused ? invalidRequest(error.message) : error;
      });
    if (batch.id === id) deps.onCreated(providerBackend !== undefined);
    else reply.header('idempotent-replayed', 'true');
    return toOpenAIBatch(batch);
  });

  app.get<{ Querystring: Partial<Record<'after' | 'limit', unknown>> }>('/v1/batches', async (request) => {
    const { after, limit } = singleValues(request.query, ['after', 'limit']);
    const page = await store.listBatches(deps.workspaceOf(request), { limit: parseBatchLimit(limit), afterId: after, dialect: 'chat' });
    const data = page.batches.map(toOpenAIBatch);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: page.hasMore };
  });

  app.get<IdParams>('/v1/batches/:id', async (request) => toOpenAIBatch(await findBatch(request)));
  // batchd's usage report (tokens, cache hit rate, cost), answered in this scope's error envelope.
  app.get<IdParams>('/v1/batches/:id/usage', async (request) => batchUsage(await findBatch(request)));

  app.post<IdParams>('/v1/batches/:id/cancel', async (request) => {
    const batch = await findBatch(request);
    const outcome = await store.cancelBatch(batch.workspaceId, batch.id, clock.now());
    if (outcome.kind === 'not_found') throw notFound(`No batch found with id '${batch.id}'.`);
    if (outcome.kind === 'ended') throw invalidRequest(`Batch ${batch.id} is ${toOpenAIBatch(outcome.batch).status} and cannot be cancelled.`);
    deps.onCanceled(outcome.batch.id);
    return toOpenAIBatch(outcome.batch);
  });
}
