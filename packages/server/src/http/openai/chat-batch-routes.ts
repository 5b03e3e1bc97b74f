import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import { isObject } from '../../json.js';
import type { Lanes } from '../../engine/lanes.js';
import { withPrefixKeys } from '../../engine/prefix-order.js';
import type { BatchIdGenerator } from '../../ids.js';
import { IdempotencyKeyReused } from '../../store/batch-creates.js';
import type { BatchRecord, BatchesStore, NewRequest } from '../../store/store.js';
import { invalidRequest, notFound } from '../api-error.js';
import { checkInputFile, inputRequests } from './batch-input.js';
import { withinQueueLimit } from '../queue-limit.js';
import { toOpenAIBatch, type ChatBatchAttributes } from '../../wire/openai-batch.js';
import { singleValues } from '../query-params.js';
import { idempotencyKeyOf, isSdkRetry } from '../repeat-headers.js';

export interface ChatBatchRouteDeps {
  store: BatchesStore;
  clock: Clock;
  batchIds: BatchIdGenerator;
  batchTtlMs: number;
  resultsTtlMs: number;
  onCreated: () => void;
  /** Called with the id of a batch the moment its cancel is stored. */
  onCanceled: (batchId: string) => void;
  workspaceOf: (request: FastifyRequest) => string;
  /** Who sent a request (the API key's id, or its hash when keys are not checked). */
  callerOf: (request: FastifyRequest) => string;
  maxQueuedRequests?: number;
  /** The backends: a create stores each request's prefix key for the lane that will serve it. */
  lanes: Lanes;
}

type IdParams = { Params: { id: string } };

const ENDPOINT = '/v1/chat/completions';
const COMPLETION_WINDOW = '24h';
const METADATA_PAIRS = 16;

/** The create body's fields, checked: OpenAI's limits on metadata (16 pairs, keys of 64 and values of 512 characters). */
function parseCreate(body: unknown): { inputFileId: string; metadata: Record<string, string> | null } {
  if (!isObject(body)) throw invalidRequest('The body must be a JSON object.');
  const { input_file_id: inputFileId, endpoint, completion_window: window, metadata } = body;
  if (typeof inputFileId !== 'string' || inputFileId === '') throw invalidRequest('input_file_id: a file id is required.');
  if (inputFileId.includes('\u0000')) throw invalidRequest('input_file_id: must not contain NUL characters.');
  if (endpoint !== ENDPOINT) throw invalidRequest(`endpoint: batchd runs batches of ${ENDPOINT} only, got ${JSON.stringify(endpoint ?? null)}.`);
  if (window !== COMPLETION_WINDOW) throw invalidRequest(`completion_window: must be "${COMPLETION_WINDOW}", got ${JSON.stringify(window ?? null)}.`);
  if (metadata === undefined || metadata === null) return { inputFileId, metadata: null };
  if (!isObject(metadata)) throw invalidRequest('metadata: must be an object of string values.');
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_PAIRS) throw invalidRequest(`metadata: at most ${METADATA_PAIRS} keys.`);
  for (const [key, value] of entries) {
    if (key.length > 64) throw invalidRequest(`metadata: key ${JSON.stringify(key.slice(0, 16))}… is longer than 64 characters.`);
    if (typeof value !== 'string' || value.length > 512) throw invalidRequest(`metadata: the value of ${JSON.stringify(key)} must be a string of at most 512 characters.`);
  }
  return { inputFileId, metadata: metadata as Record<string, string> };
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
export function registerChatBatchRoutes(app: FastifyInstance, deps: ChatBatchRouteDeps): void {
  const { store, clock } = deps;

  async function findBatch(request: FastifyRequest<IdParams>): Promise<BatchRecord> {
    const batch = await store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'chat') throw notFound(`No batch found with id '${request.params.id}'.`);
    return batch;
  }

  // Creates are made once, as message batch creates are: a repeated Idempotency-Key or an SDK
  // retry of the same body gets the first batch.
  app.post('/v1/batches', async (request, reply) => {
    const { inputFileId, metadata } = parseCreate(request.body);
    const idempotencyKey = idempotencyKeyOf(request);
    const retried = isSdkRetry(request);
    const workspace = deps.workspaceOf(request);
    const file = await store.files.getFile(workspace, inputFileId);
    if (!file) throw notFound(`input_file_id: no file with id '${inputFileId}'.`);
    const { errors, requests: count } = await checkInputFile(store.files.readFile(workspace, file.id), ENDPOINT);
    const attributes: ChatBatchAttributes = {
      input_file_id: inputFileId,
      endpoint: ENDPOINT,
      completion_window: COMPLETION_WINDOW,
      metadata,
      errors: errors.length > 0 ? { object: 'list', data: errors } : null,
    };
    let requests = errors.length > 0 ? noRequests() : withPrefixKeys(inputRequests(store.files.readFile(workspace, file.id), ENDPOINT, count), deps.lanes, 'chat');
    if (deps.maxQueuedRequests !== undefined) {
      const room = deps.maxQueuedRequests - (await store.queuedRequests(workspace));
      requests = withinQueueLimit(requests, room, deps.maxQueuedRequests);
    }
    const now = clock.now();
    const id = deps.batchIds.next(now);
    const batch = await store
      .createBatch(
        {
          id,
          workspaceId: workspace,
          createdAt: now,
          expiresAt: now + deps.batchTtlMs,
          archiveAt: now + deps.resultsTtlMs,
          dialect: 'chat',
          attributes: JSON.stringify(attributes),
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
    if (batch.id === id) deps.onCreated();
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

  app.post<IdParams>('/v1/batches/:id/cancel', async (request) => {
    const batch = await findBatch(request);
    const outcome = await store.cancelBatch(batch.workspaceId, batch.id, clock.now());
    if (outcome.kind === 'not_found') throw notFound(`No batch found with id '${batch.id}'.`);
    if (outcome.kind === 'ended') throw invalidRequest(`Batch ${batch.id} is ${toOpenAIBatch(outcome.batch).status} and cannot be cancelled.`);
    deps.onCanceled(outcome.batch.id);
    return toOpenAIBatch(outcome.batch);
  });
}
