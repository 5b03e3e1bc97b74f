import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { BatchIdGenerator } from '../../ids.js';
import type { FileRecord } from '../../store/file-store.js';
import type { BatchRecord, BatchesStore } from '../../store/store.js';
import { invalidRequest, notFound } from '../api-error.js';
import { checkedUpload, MAX_FILE_BYTES } from './batch-input.js';
import { UPLOAD_IDLE_MS } from '../upload-watch.js';
import { drainBody } from '../drain-body.js';
import type { StreamSlots } from '../stream-slots.js';
import type { StorageReserve } from '../storage-reserve.js';
import { FileQuota } from './file-quota.js';
import { singleValues } from '../query-params.js';
import { parseResultFileId, resultFilesExpireAt, toFileObject, toOpenAIBatch, toResultFileObject, type ResultFilePart } from '../../wire/openai-batch.js';
import { BATCH_PURPOSE, checkPurpose, MAX_EXPIRY_SECONDS, MAX_FILENAME_BYTES, parseExpiresAfter } from './openai-fields.js';
import { resultFileBytes, resultFileContent } from './result-file.js';
import { wholeResults } from '../whole-results.js';
import { malformedAs400 } from './multipart-errors.js';
import { registerUploadRoutes } from './upload-routes.js';

export interface FileRouteDeps {
  store: BatchesStore;
  clock: Clock;
  fileIds: BatchIdGenerator;
  workspaceOf: (request: FastifyRequest) => string;
  /** The places of results streams, shared with the batches' results. */
  resultStreams: StreamSlots;
  /** The free space an upload holds while it is stored. */
  storage: StorageReserve;
  /** Most bytes of files a workspace may store; none when absent. */
  maxFileBytesPerWorkspace?: number;
}

type IdParams = { Params: { id: string } };
type ListQuery = { Querystring: Partial<Record<'after' | 'limit' | 'order' | 'purpose', unknown>> };

/** The multipart fields of an upload's expiry policy, as OpenAI's SDKs send it. */
const EXPIRES_AFTER_FIELDS: ReadonlySet<string> = new Set(['expires_after[anchor]', 'expires_after[seconds]']);

function parseFileLimit(raw: string | undefined): number {
  if (raw === undefined) return 10_000;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 10_000) throw invalidRequest('limit: must be an integer between 1 and 10000');
  return limit;
}

/**
 * The OpenAI Files API for batch input files: uploads stream into the store (multipart, 200 MB
 * and 50,000 lines at most, purpose `batch`, optionally expiring: `expires_after`; an expired
 * file is no longer served and maintenance removes it), and a chat batch's output and error files are
 * served from its stored results under the ids its batch object names.
 */
export function registerFileRoutes(app: FastifyInstance, deps: FileRouteDeps): void {
  const { store } = deps;
  const missing = (id: string) => notFound(`No such File object: ${id}`);
  const quota = deps.maxFileBytesPerWorkspace === undefined ? null : new FileQuota(store.files, deps.maxFileBytesPerWorkspace);

  /** The ended chat batch of the workspace whose output or error file `id` names, or null. */
  async function resultFile(request: FastifyRequest<IdParams>): Promise<{ batch: BatchRecord; part: ResultFilePart } | null> {
    const named = parseResultFileId(request.params.id);
    if (!named) return null;
    const batch = await store.getBatch(deps.workspaceOf(request), named.batchId);
    if (!batch || batch.dialect !== 'chat' || batch.archivedAt !== null || resultFilesExpireAt(batch) <= deps.clock.now()) throw missing(request.params.id);
    const wire = toOpenAIBatch(batch);
    if ((named.part === 'output' ? wire.output_file_id : wire.error_file_id) !== request.params.id) throw missing(request.params.id);
    return { batch, part: named.part };
  }

  /** The multipart reader's limits, said in the words of this route. */
  function formLimitError(error: unknown): unknown {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_FIELDS_LIMIT') return invalidRequest('The form has more than 8 fields: send "purpose" and "file", and optionally expires_after[anchor] and expires_after[seconds].');
    if (code === 'FST_FILES_LIMIT') return invalidRequest('file: send one file per upload.');
    return error;
  }

  async function uploadedFile(request: FastifyRequest<IdParams>): Promise<FileRecord> {
    const file = await store.files.getFile(deps.workspaceOf(request), request.params.id, deps.clock.now());
    // Parts of uploads are files of the store, not of the Files API.
    if (!file || file.purpose !== BATCH_PURPOSE) throw missing(request.params.id);
    return file;
  }

  app.post('/v1/files', async (request, reply) => {
    if (!request.isMultipart()) throw invalidRequest('Upload files as multipart/form-data with fields "file" and "purpose".');
    const workspace = deps.workspaceOf(request);
    let purpose: unknown;
    const expiresAfter: Record<string, string> = {};
    let file: FileRecord | undefined;
    // The upload is read here, in the handler: a client that stops sending loses its connection
    // after the upload idle time, which ends the upload and stores nothing.
    request.raw.socket.setTimeout(UPLOAD_IDLE_MS);
    try {
      const uploadBytes = Math.min(Number(request.headers['content-length']) || MAX_FILE_BYTES, MAX_FILE_BYTES);
      await quota?.hold(reply, workspace, uploadBytes, deps.clock.now());
      await deps.storage.hold(reply, uploadBytes);
      for await (const part of malformedAs400(request.parts({ limits: { files: 1, fields: 8, fileSize: MAX_FILE_BYTES + 1 } }))) {
        if (part.type === 'field') {
          if (part.fieldname === 'purpose') {
            purpose = part.value;
            checkPurpose(purpose);
          } else if (EXPIRES_AFTER_FIELDS.has(part.fieldname)) {
            expiresAfter[part.fieldname.slice('expires_after['.length, -1)] = String(part.value);
          }
          continue;
        }
        if (part.fieldname !== 'file') throw invalidRequest(`${part.fieldname}: unexpected file field; send the file as "file".`);
        if (part.filename.includes('\u0000')) throw invalidRequest('file: the file name must not contain NUL characters.');
        if (Buffer.byteLength(part.filename) > MAX_FILENAME_BYTES) throw invalidRequest(`file: the file name must be at most ${MAX_FILENAME_BYTES} bytes.`);
        const now = deps.clock.now();
        file = await store.files.createFile(
          { id: deps.fileIds.next(now), workspaceId: workspace, purpose: BATCH_PURPOSE, filename: part.filename || 'upload.jsonl', createdAt: now },
          checkedUpload(malformedAs400<Buffer>(part.file)),
        );
      }
      checkPurpose(purpose);
      if (!file) throw invalidRequest('file: a file is required.');
      // Without a policy a batch file expires after 30 days, as OpenAI's do. The policy may follow
      // the file in the form: the expiry is set once the whole form is read.
      const expiry = parseExpiresAfter('expires_after', Object.keys(expiresAfter).length === 0 ? null : expiresAfter);
      const expiresAt = file.createdAt + (expiry?.seconds ?? MAX_EXPIRY_SECONDS) * 1000;
      await store.files.setFileExpiry(workspace, file.id, expiresAt);
      file = { ...file, expiresAt };
    } catch (error) {
      if (file) await store.files.deleteFile(workspace, file.id);
      // The answer waits for the rest of the upload (read and dropped), so the client gets to read it.
      request.raw.unpipe();
      await drainBody(request.raw, 2 * MAX_FILE_BYTES, UPLOAD_IDLE_MS);
      throw formLimitError(error);
    } finally {
      request.raw.socket.setTimeout(0);
    }
    return toFileObject(file);
  });

  app.get<ListQuery>('/v1/files', async (request) => {
    const { after, limit: rawLimit, order = 'desc', purpose } = singleValues(request.query, ['after', 'limit', 'order', 'purpose']);
    if (order !== 'asc' && order !== 'desc') throw invalidRequest('order: must be "asc" or "desc"');
    // Every file listed is a batch file: asked for another purpose, the list is empty.
    if (purpose !== undefined && purpose !== BATCH_PURPOSE) return { object: 'list', data: [], first_id: null, last_id: null, has_more: false };
    const page = await store.files.listFiles(deps.workspaceOf(request), { limit: parseFileLimit(rawLimit), after, order, purpose: BATCH_PURPOSE, now: deps.clock.now() });
    const data = page.files.map(toFileObject);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: page.hasMore };
  });

  app.get<IdParams>('/v1/files/:id', async (request) => {
    const result = await resultFile(request);
    if (result) return toResultFileObject(result.batch, result.part, await resultFileBytes(store.files, result.batch.id, result.part));
    return toFileObject(await uploadedFile(request));
  });

  app.get<IdParams>('/v1/files/:id/content', async (request, reply) => {
    const result = await resultFile(request);
    const content = result
      ? wholeResults(resultFileContent(store.files, result.batch.id, result.part), store, result.batch)
      : store.files.readFile(deps.workspaceOf(request), (await uploadedFile(request)).id);
    await deps.resultStreams.hold(reply, deps.workspaceOf(request));
    reply.header('content-type', 'application/octet-stream');
    return reply.send(Readable.from(content, { highWaterMark: 1 }));
  });

  app.delete<IdParams>('/v1/files/:id', async (request) => {
    if (await resultFile(request)) throw invalidRequest(`File ${request.params.id} holds a batch's results; it is removed with the batch's results.`);
    if (!(await store.files.deleteFile(deps.workspaceOf(request), (await uploadedFile(request)).id))) throw missing(request.params.id);
    return { id: request.params.id, object: 'file', deleted: true };
  });

  registerUploadRoutes(app, { ...deps, quota });
}
