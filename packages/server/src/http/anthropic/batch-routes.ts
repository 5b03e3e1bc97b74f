import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_BATCH_BYTES, MAX_BATCH_REQUESTS, type BatchListParams, type MessageBatchesPage } from '@batchd/sdk';
import type { Clock } from '../../clock.js';
import type { Lanes } from '../../engine/lanes.js';
import { withPrefixKeys } from '../../engine/prefix-order.js';
import type { BatchIdGenerator } from '../../ids.js';
import { IdempotencyKeyReused } from '../../store/batch-creates.js';
import type { BatchRecord, BatchesStore } from '../../store/store.js';
import { ApiError, invalidRequest, notFound, requestTooLarge } from '../api-error.js';
import { parseCreateBody } from './create-body.js';
import { drainBody } from '../drain-body.js';
import { FollowStreams } from '../follow-streams.js';
import { SharedFollowReads } from '../shared-follow-reads.js';
import type { StreamSlots } from '../stream-slots.js';
import type { StorageReserve } from '../storage-reserve.js';
import { PARAMS_LIMITS } from '../json-bounds.js';
import { withinQueueLimit } from '../queue-limit.js';
import { idempotencyKeyOf, isSdkRetry } from '../repeat-headers.js';
import { UPLOAD_IDLE_MS } from '../upload-watch.js';
import { resultsSoFar } from './results-so-far.js';
import { wholeResults, writeResultsFile } from '../whole-results.js';
import { answerRaw } from '../raw-response.js';
import { writeChunks } from '../write-chunks.js';
import { toMessageBatch } from '../../wire/message-batch.js';

export interface BatchRouteDeps {
  store: BatchesStore;
  clock: Clock;
  ids: BatchIdGenerator;
  batchTtlMs: number;
  resultsTtlMs: number;
  /** Base of `results_url`, known once the server listens. */
  publicUrl: () => string;
  /** Called after a batch is stored, so the engine starts on it at once; `routed` when its requests went to a provider-batch backend as it opened. */
  onCreated: (routed: boolean) => void;
  /**
   * The provider-batch backend a new batch's requests go to unread as it opens, by the batch's
   * OpenAI endpoint (null for Messages); undefined leaves them queued for the engine.
   */
  providerAtCreate?: (endpoint: string | null) => string | undefined;
  /** Called with the id of a batch the moment its cancel is stored. */
  onCanceled: (batchId: string) => void;
  /** The workspace a request acts in. */
  workspaceOf: (request: FastifyRequest) => string;
  /** Who sent a request (the API key's id, or its hash when keys are not checked). */
  callerOf: (request: FastifyRequest) => string;
  /** Whether the request's key still opens the workspace it opened (false once revoked). */
  keyStillOpens: (request: FastifyRequest) => Promise<boolean>;
  /** Most requests a workspace may have waiting or running; none when absent. */
  maxQueuedRequests?: number;
  /** Most follow streams a workspace may hold open on this node. */
  maxFollowsPerWorkspace: number;
  /** The places of results streams other than follow streams, shared with OpenAI's file contents. */
  resultStreams: StreamSlots;
  /** The free space a create holds while it stores its requests. */
  storage: StorageReserve;
  /** The backends: a create stores each request's prefix key for the lane that will serve it. */
  lanes: Lanes;
}

type IdParams = { Params: { id: string } };

const RESULTS_PAGE_LINES = 1000;
/**
 * Lines per page of an ended batch's results read from rows (PostgreSQL, or SQLite before its
 * results file): about 750 KB at 3 KB a line, so the pages held at once stay small.
 */
const WHOLE_RESULTS_PAGE_LINES = 250;
/** How often a follow stream looks for results written by other processes (workers on PostgreSQL). */
const FOLLOW_POLL_MS = 250;
/** Time between two wake-ups of the follow streams on this node, for each stream open (see `SharedFollowReads`). */
const FOLLOW_TICK_PER_STREAM_MS = 5;

/** A `true`/`false` query flag; absent is false. */
function parseFlag(name: string, raw: unknown): boolean {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw invalidRequest(`${name}: Input should be true or false`);
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000) throw invalidRequest('limit: Input should be an integer between 1 and 1000');
  return limit;
}

/** The six Message Batches operations. */
export function registerBatchRoutes(app: FastifyInstance, deps: BatchRouteDeps): void {
  const { store, clock } = deps;
  const wire = (batch: BatchRecord) => toMessageBatch(batch, deps.publicUrl());
  const missing = (id: string) => notFound(`No message batch with id ${JSON.stringify(id)}.`);

  async function findBatch(request: FastifyRequest<IdParams>): Promise<BatchRecord> {
    const batch = await store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'messages') throw missing(request.params.id);
    return batch;
  }

  // Create reads its body as a stream: the default JSON parser would hold 256 MB in memory.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.post('/v1/messages/batches', async (request, reply) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      const body = request.raw;
      try {
        if (declared > MAX_BATCH_BYTES) throw requestTooLarge(`Request of ${declared} bytes exceeds the maximum size of ${MAX_BATCH_BYTES} bytes`);
        await deps.storage.hold(reply, declared || MAX_BATCH_BYTES);
        const now = clock.now();
        const workspace = deps.workspaceOf(request);
        const idempotencyKey = idempotencyKeyOf(request);
        const retried = isSdkRetry(request);
        const digest = createHash('sha256');
        const limits = { maxBytes: MAX_BATCH_BYTES, maxRequests: MAX_BATCH_REQUESTS, params: PARAMS_LIMITS, idleMs: UPLOAD_IDLE_MS };
        let requests = withPrefixKeys(parseCreateBody(body, limits, { digest, address: request.ip }), deps.lanes, 'messages');
        // A create that may repeat an earlier one is refused over the queue limit only if it turns out to make a new batch.
        let overLimit: ApiError | null = null;
        if (deps.maxQueuedRequests !== undefined) {
          const room = deps.maxQueuedRequests - (await store.queuedRequests(workspace));
          const mayRepeat = idempotencyKey !== undefined || retried;
          requests = withinQueueLimit(requests, room, deps.maxQueuedRequests, mayRepeat ? (error) => (overLimit = error) : undefined);
        }
        const id = deps.ids.next(now);
        const providerBackend = deps.providerAtCreate?.(null);
        const batch = await store
          .createBatch({ id, workspaceId: workspace, createdAt: now, expiresAt: now + deps.batchTtlMs, archiveAt: now + deps.resultsTtlMs, providerBackend }, requests, {
            caller: deps.callerOf(request),
            bodyDigest: () => digest.digest('hex'),
            idempotencyKey,
            retried,
            refuseNew: () => overLimit,
          })
          .catch((error: unknown) => {
            throw error instanceof IdempotencyKeyReused ? invalidRequest(error.message) : error;
          });
        if (batch.id === id) deps.onCreated(providerBackend !== undefined);
        else reply.header('idempotent-replayed', 'true');
        return wire(batch);
      } catch (error) {
        // A stalled client is answered at once and its connection closed; others may still be sending.
        if (error instanceof ApiError && error.status === 408) reply.header('connection', 'close');
        else await drainBody(body, 2 * MAX_BATCH_BYTES, UPLOAD_IDLE_MS);
        throw error;
      }
    });
  });

  app.get<{ Querystring: Record<keyof BatchListParams, string | undefined> }>('/v1/messages/batches', async (request) => {
    const { limit: rawLimit, after_id: afterId, before_id: beforeId } = request.query;
    for (const [name, value] of Object.entries({ limit: rawLimit, after_id: afterId, before_id: beforeId })) {
      if (value !== undefined && typeof value !== 'string') throw invalidRequest(`${name}: give it once`);
    }
    const limit = parseLimit(rawLimit);
    if (afterId !== undefined && beforeId !== undefined) throw invalidRequest('before_id and after_id cannot be used together');
    const page = await store.listBatches(deps.workspaceOf(request), { limit, afterId, beforeId });
    const data = page.batches.map(wire);
    const body: MessageBatchesPage = {
      data,
      has_more: page.hasMore,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
    };
    return body;
  });

  app.get<IdParams>('/v1/messages/batches/:id', async (request) => wire(await findBatch(request)));

  app.post<IdParams>('/v1/messages/batches/:id/cancel', async (request) => {
    await findBatch(request);
    const outcome = await store.cancelBatch(deps.workspaceOf(request), request.params.id, clock.now());
    if (outcome.kind === 'not_found') throw missing(request.params.id);
    if (outcome.kind === 'ended') throw invalidRequest(`Message batch ${request.params.id} has already ended and cannot be canceled.`);
    deps.onCanceled(outcome.batch.id);
    return wire(outcome.batch);
  });

  app.delete<IdParams>('/v1/messages/batches/:id', async (request) => {
    await findBatch(request);
    const outcome = await store.deleteBatch(deps.workspaceOf(request), request.params.id);
    if (outcome === 'not_found') throw missing(request.params.id);
    if (outcome === 'not_ended') {
      throw invalidRequest(`Message batch ${request.params.id} is still processing; cancel it and wait for it to end before deleting it.`);
    }
    return { id: request.params.id, type: 'message_batch_deleted' };
  });

  const followers = new FollowStreams(deps.keyStillOpens, deps.maxFollowsPerWorkspace);
  const shared = new SharedFollowReads(store, FOLLOW_TICK_PER_STREAM_MS);
  app.addHook('preClose', async () => followers.cutAll());

  app.get<IdParams & { Querystring: Record<string, unknown> }>('/v1/messages/batches/:id/results', async (request, reply) => {
    const partial = parseFlag('partial', request.query.partial);
    const following = parseFlag('follow', request.query.follow);
    if (following && !partial) throw invalidRequest('follow: Input is allowed only with partial=true');
    const batch = await findBatch(request);
    if (batch.status !== 'ended' && !partial) {
      throw invalidRequest(`Message batch ${batch.id} is still processing; results are available once processing_status is "ended".`);
    }
    if (batch.archivedAt !== null) throw notFound(`The results of message batch ${batch.id} were archived and are no longer available.`);
    if (!following) await deps.resultStreams.hold(reply, batch.workspaceId);
    reply.header('content-type', 'application/x-jsonl');
    // One page read ahead at most: memory stays at a page or two whatever the batch's size.
    if (batch.status === 'ended') {
      const file = await store.openResultsFile?.(batch.id);
      if (!file) return reply.send(Readable.from(wholeResults(store.readResults(batch.id, WHOLE_RESULTS_PAGE_LINES), store, batch), { highWaterMark: 1 }));
      reply.header('content-length', file.size);
      const stop = new AbortController();
      try {
        // A HEAD asks for the headers alone: the file is not read.
        const body = request.method === 'HEAD' ? async (response: ServerResponse) => void response.end() : (response: ServerResponse) => writeResultsFile(file, response, stop.signal, store, batch);
        return await answerRaw(request, reply, stop, body);
      } finally {
        await file.close();
      }
    }
    const stop = new AbortController();
    const lines = resultsSoFar(store, batch.workspaceId, batch.id, {
      pageSize: RESULTS_PAGE_LINES,
      follow: following,
      signal: stop.signal,
      pollMs: FOLLOW_POLL_MS,
      shared,
    });
    if (!following) return reply.send(Readable.from(lines, { highWaterMark: 1 }));
    const response = reply.raw;
    const cut = () => {
      stop.abort();
      response.destroy();
    };
    const release = followers.admit(request, batch.workspaceId, cut);
    // A follow stream may wait long for its first line: the headers go out at once.
    try {
      await answerRaw(request, reply, stop, async (raw) => {
        raw.flushHeaders();
        await writeChunks(lines, raw, stop.signal);
      });
    } finally {
      release();
    }
  });
}
