import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BatchIdGenerator } from '../../ids.js';
import type { FileRecord } from '../../store/file-store.js';
import { UPLOAD_PART_PURPOSE, type UploadRecord } from '../../store/upload-store.js';
import { toUploadObject, toUploadPartObject } from '../../wire/openai-batch.js';
import { invalidRequest, notFound, requestTooLarge } from '../api-error.js';
import { drainBody } from '../drain-body.js';
import { UPLOAD_IDLE_MS } from '../upload-watch.js';
import { checkedUpload, MAX_FILE_BYTES } from './batch-input.js';
import type { FileQuota } from './file-quota.js';
import type { FileRouteDeps } from './file-routes.js';
import { malformedAs400 } from './multipart-errors.js';
import { checkPurpose, MAX_EXPIRY_SECONDS, MAX_FILENAME_BYTES, parseExpiresAfter, quoted } from './openai-fields.js';

export interface UploadRouteDeps extends FileRouteDeps {
  /** The bound on each workspace's file storage, shared with uploads of whole files. */
  quota: FileQuota | null;
}

/** How long an upload takes parts, as OpenAI's do. */
const UPLOAD_LIFETIME_MS = 60 * 60 * 1000;
/** Most bytes of one part, as OpenAI's. */
const MAX_PART_BYTES = 64 * 1024 * 1024;
/** Most parts one completion names. */
const MAX_PARTS = 10_000;

type IdParams = { Params: { id: string } };

/** Passes `chunks` through, failing with 413 once they pass `max` bytes. */
async function* atMost(chunks: AsyncIterable<Buffer>, max: number, message: string): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (bytes > max) throw requestTooLarge(message);
    yield chunk;
  }
}

/** Passes `chunks` through, failing with 400 at their end when their MD5 (hex) is not `md5`. */
async function* md5Checked(chunks: AsyncIterable<Buffer>, md5: string): AsyncGenerator<Buffer> {
  const hash = createHash('md5');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  const digest = hash.digest('hex');
  if (digest !== md5.toLowerCase()) throw invalidRequest(`md5: the parts' MD5 is ${digest}, not ${md5}.`);
}

/**
 * OpenAI's Uploads API, for batch input files sent in parts (the SDKs' `upload_file_chunked`): an
 * upload is created with the file's length, takes parts of up to 64 MiB for an hour, and is
 * completed with its parts in order, which become one file with every check an uploaded file
 * gets (at most 200 MB and 50,000 lines; MD5 when given). Each part is kept as a file of the
 * workspace, counted against its storage, until its upload is completed or cancelled, or expires.
 */
export function registerUploadRoutes(app: FastifyInstance, deps: UploadRouteDeps): void {
  const { store, clock, quota, storage } = deps;
  const uploads = store.files.uploads;
  const partIds = new BatchIdGenerator('part_01');
  const uploadIds = new BatchIdGenerator('upload_01');

  /** The workspace's upload `id`, still taking parts and completion. */
  async function pendingUpload(request: FastifyRequest<IdParams>): Promise<UploadRecord> {
    const upload = await uploads.getUpload(deps.workspaceOf(request), request.params.id);
    if (!upload) throw notFound(`No such Upload object: ${request.params.id}`);
    if (upload.status !== 'pending') throw invalidRequest(`Upload ${upload.id} is ${upload.status}.`);
    if (upload.expiresAt <= clock.now()) throw invalidRequest(`Upload ${upload.id} expired at ${new Date(upload.expiresAt).toISOString()}.`);
    return upload;
  }

  /** Removes the stored parts of an upload that has ended: named in its file or not, none is needed again. */
  async function removeParts(workspace: string, uploadId: string): Promise<void> {
    for (const id of await uploads.partIds(workspace, uploadId)) await store.files.deleteFile(workspace, id);
  }

  app.post<{ Body: Record<string, unknown> | undefined }>('/v1/uploads', async (request) => {
    const { bytes, filename, mime_type: mimeType, purpose, expires_after: expiresAfter } = request.body ?? {};
    checkPurpose(purpose);
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1) throw invalidRequest(`bytes: must be a positive integer, got ${quoted(bytes)}.`);
    if (bytes > MAX_FILE_BYTES) throw invalidRequest(`bytes: a batch input file holds at most ${MAX_FILE_BYTES} bytes, got ${bytes}.`);
    if (typeof filename !== 'string' || filename === '' || filename.includes('\u0000') || Buffer.byteLength(filename) > MAX_FILENAME_BYTES) {
      throw invalidRequest(`filename: must be a name of 1 to ${MAX_FILENAME_BYTES} bytes without NUL characters.`);
    }
    if (typeof mimeType !== 'string' || mimeType === '' || mimeType.length > 255) throw invalidRequest('mime_type: must be a MIME type, such as "application/jsonl".');
    const now = clock.now();
    const upload: UploadRecord = {
      id: uploadIds.next(now),
      workspaceId: deps.workspaceOf(request),
      filename,
      purpose,
      mimeType,
      bytes,
      createdAt: now,
      expiresAt: now + UPLOAD_LIFETIME_MS,
      fileExpiresAfter: parseExpiresAfter('expires_after', expiresAfter)?.seconds ?? null,
      status: 'pending',
      fileId: null,
    };
    await uploads.createUpload(upload);
    return toUploadObject(upload, now);
  });

  app.post<IdParams>('/v1/uploads/:id/parts', async (request, reply) => {
    if (!request.isMultipart()) throw invalidRequest('Send the part as multipart/form-data with the field "data".');
    const upload = await pendingUpload(request);
    const workspace = deps.workspaceOf(request);
    const partBytes = Math.min(MAX_PART_BYTES, upload.bytes);
    let part: FileRecord | undefined;
    // As for a file: a client that stops sending loses its connection after the upload idle time.
    request.raw.socket.setTimeout(UPLOAD_IDLE_MS);
    try {
      const holdBytes = Math.min(Number(request.headers['content-length']) || partBytes, partBytes);
      await quota?.hold(reply, workspace, holdBytes, clock.now());
      await storage.hold(reply, holdBytes);
      for await (const field of malformedAs400(request.parts({ limits: { files: 1, fields: 1, fileSize: partBytes + 1 } }))) {
        if (field.type === 'field' || field.fieldname !== 'data') throw invalidRequest(`${field.fieldname}: unexpected field; send the part's bytes as "data".`);
        const now = clock.now();
        // A part expires with its upload, so one never named by a completion goes then.
        const record = { id: partIds.next(now), workspaceId: workspace, purpose: UPLOAD_PART_PURPOSE, filename: upload.id, createdAt: now, expiresAt: upload.expiresAt };
        part = await store.files.createFile(record, atMost(malformedAs400<Buffer>(field.file), partBytes, `data: a part holds at most ${partBytes} bytes (64 MiB, and no more than its upload).`));
      }
      if (!part) throw invalidRequest('data: a part needs its bytes, sent as "data".');
    } catch (error) {
      if (part) await store.files.deleteFile(workspace, part.id);
      request.raw.unpipe();
      await drainBody(request.raw, 2 * MAX_PART_BYTES, UPLOAD_IDLE_MS);
      throw error;
    } finally {
      request.raw.socket.setTimeout(0);
    }
    return toUploadPartObject(part, upload.id);
  });

  app.post<IdParams & { Body: Record<string, unknown> | undefined }>('/v1/uploads/:id/complete', async (request, reply) => {
    const upload = await pendingUpload(request);
    const workspace = deps.workspaceOf(request);
    const { part_ids: ids, md5 } = request.body ?? {};
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_PARTS || !ids.every((id) => typeof id === 'string')) {
      throw invalidRequest(`part_ids: must list 1 to ${MAX_PARTS} part ids, in order.`);
    }
    if (new Set(ids).size !== ids.length) throw invalidRequest('part_ids: a part may be listed once.');
    if (md5 !== undefined && (typeof md5 !== 'string' || !/^[0-9a-fA-F]{32}$/.test(md5))) throw invalidRequest('md5: must be 32 hexadecimal digits.');
    const parts: FileRecord[] = [];
    for (const [index, id] of (ids as string[]).entries()) {
      const part = await store.files.getFile(workspace, id, clock.now());
      if (!part || part.purpose !== UPLOAD_PART_PURPOSE || part.filename !== upload.id) throw invalidRequest(`part_ids.${index}: ${quoted(id, 80)} is no part of upload ${upload.id}.`);
      parts.push(part);
    }
    const sent = parts.reduce((sum, part) => sum + part.bytes, 0);
    if (sent !== upload.bytes) throw invalidRequest(`part_ids: the parts hold ${sent} bytes; the upload was created for ${upload.bytes}.`);
    // The parts already count against the workspace's storage, and go once the file is made: only the disk holds both meanwhile.
    await storage.hold(reply, upload.bytes);
    async function* content(): AsyncGenerator<Buffer> {
      for (const part of parts) yield* store.files.readFile(workspace, part.id);
    }
    const now = clock.now();
    // Without a policy a batch file expires after 30 days, as one sent whole does.
    const expiresAt = now + (upload.fileExpiresAfter ?? MAX_EXPIRY_SECONDS) * 1000;
    const record = { id: deps.fileIds.next(now), workspaceId: workspace, purpose: upload.purpose, filename: upload.filename, createdAt: now, expiresAt };
    const file = await store.files.createFile(record, checkedUpload(typeof md5 === 'string' ? md5Checked(content(), md5) : content()));
    if (!(await uploads.endUpload(workspace, upload.id, 'completed', file.id))) {
      // Completed or cancelled by another request meanwhile.
      await store.files.deleteFile(workspace, file.id);
      return toUploadObject((await uploads.getUpload(workspace, upload.id)) ?? upload, clock.now());
    }
    await removeParts(workspace, upload.id);
    return toUploadObject({ ...upload, status: 'completed', fileId: file.id }, clock.now(), file);
  });

  app.post<IdParams>('/v1/uploads/:id/cancel', async (request) => {
    const upload = await pendingUpload(request);
    const workspace = deps.workspaceOf(request);
    if (await uploads.endUpload(workspace, upload.id, 'cancelled', null)) await removeParts(workspace, upload.id);
    return toUploadObject((await uploads.getUpload(workspace, upload.id)) ?? upload, clock.now());
  });
}
