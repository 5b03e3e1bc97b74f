import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { FastifyReply } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { chatLine, openAIClient, uploadLines } from '../../test-support/api/openai.js';
import { buildTestApp } from '../../test-support/api/test-app.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ApiError } from './api-error.js';
import { StorageReserve } from './storage-reserve.js';

const MB = 1024 * 1024;

/** A reply whose response closes when the test says. */
function reply(): FastifyReply & { close: () => void } {
  const raw = new EventEmitter();
  return { raw, close: () => raw.emit('close') } as unknown as FastifyReply & { close: () => void };
}

describe('StorageReserve', () => {
  it('holds what writes in flight take, refuses what would go under the reserve, and gives it back when they end', async () => {
    let free = 100 * MB;
    const reserve = new StorageReserve(async () => free, 60 * MB);
    const first = reply();
    await reserve.hold(first, 30 * MB);
    // 100 free, 30 held: another 30 would leave 40, under the reserve of 60.
    const refused = await reserve.hold(reply(), 30 * MB).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 507, type: 'api_error', headers: { 'x-should-retry': 'false' } });
    await reserve.hold(reply(), 10 * MB);
    first.close();
    await reserve.hold(reply(), 20 * MB);
    // Space freed by deletes is room again.
    free = 40 * MB;
    await expect(reserve.hold(reply(), 1)).rejects.toMatchObject({ status: 507 });
    free = 200 * MB;
    await reserve.hold(reply(), 100 * MB);
  });

  it('holds nothing for a client gone while the free space was read', async () => {
    const reserve = new StorageReserve(async () => 100 * MB, 60 * MB);
    const gone = reply();
    const held = reserve.hold(gone, 30 * MB);
    gone.close();
    await held;
    // Had the 30 been held, with no close left to give them back, this would not fit.
    await reserve.hold(reply(), 40 * MB);
  });

  it('refuses nothing when the store cannot tell its free space, or with no reserve', async () => {
    await new StorageReserve(async () => null, 60 * MB).hold(reply(), 10_000 * MB);
    await new StorageReserve(async () => 0, 0).hold(reply(), 10_000 * MB);
  });
});

describe('a store short of space, over HTTP with the official SDKs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchd-storage-reserve-'));
  const store = new SqliteStore(join(dir, 'db.sqlite'));
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers creates and uploads 507 in each API envelope, stores nothing, and still serves reads and deletes', async () => {
    // One app with room, one whose reserve is more than the disk has: the same store behind both.
    const roomy = buildTestApp(store);
    const full = buildTestApp(store, { minFreeDiskBytes: (await store.freeBytes())! + 1024 * MB });
    const calls: string[] = [];
    full.addHook('onRequest', async (request) => void calls.push(`${request.method} ${request.url}`));
    const roomyUrl = await roomy.listen({ host: '127.0.0.1', port: 0 });
    const fullUrl = await full.listen({ host: '127.0.0.1', port: 0 });
    try {
      const message = { custom_id: 'a', params: { model: 'claude-x', max_tokens: 8, messages: [{ role: 'user' as const, content: 'hi' }] } };
      const kept = await new Anthropic({ baseURL: roomyUrl, apiKey: 'k' }).messages.batches.create({ requests: [message] });
      const input = await uploadLines(openAIClient(roomyUrl), [chatLine('a', 'hi')]);

      // The SDKs' default retries are on: x-should-retry: false stops them after one call each.
      const anthropic = new Anthropic({ baseURL: fullUrl, apiKey: 'k' });
      const openai = new OpenAI({ baseURL: `${fullUrl}/v1`, apiKey: 'k' });
      const refusedCreate = await anthropic.messages.batches.create({ requests: [message] }).catch((error: unknown) => error);
      expect(refusedCreate).toBeInstanceOf(Anthropic.InternalServerError);
      expect((refusedCreate as InstanceType<typeof Anthropic.APIError>).status).toBe(507);
      expect((refusedCreate as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('short of storage') } });
      const refusedUpload = await uploadLines(openai, [chatLine('b', 'hi')]).catch((error: unknown) => error);
      expect(refusedUpload).toBeInstanceOf(OpenAI.InternalServerError);
      expect(refusedUpload).toMatchObject({ status: 507, type: 'server_error', message: expect.stringContaining('short of storage') });
      const refusedBatch = await openai.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((error: unknown) => error);
      expect(refusedBatch).toMatchObject({ status: 507 });
      expect(calls.filter((call) => call.startsWith('POST'))).toEqual(['POST /v1/messages/batches', 'POST /v1/files', 'POST /v1/batches']);

      // Nothing was stored; what was stored before is read, and deleted, as usual.
      expect((await anthropic.messages.batches.list()).data.map((batch) => batch.id)).toEqual([kept.id]);
      expect((await openai.files.list()).data.map((file) => file.id)).toEqual([input.id]);
      expect((await openai.batches.list()).data).toEqual([]);
      expect(await openai.files.delete(input.id)).toMatchObject({ id: input.id, deleted: true });
      // Operators see the free space the reserve is held against.
      const metrics = await (await fetch(`${fullUrl}/metrics`)).text();
      expect(Number(/^batchd_store_free_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await roomy.close();
      await full.close();
    }
  });

  it('counts the pages a delete frees as free space', async () => {
    const file = await store.files.createFile(
      { id: 'file-01freed', workspaceId: 'w', purpose: 'batch', filename: 'big.jsonl', createdAt: Date.now() },
      (async function* () {
        for (let part = 0; part < 8; part += 1) yield Buffer.alloc(MB, 0x61 + part);
      })(),
    );
    expect(await store.files.deleteFile('w', file.id)).toBe(true);
    const free = (await store.freeBytes())!;
    // The disk's own free space, read after: other writers on the machine can only have made it smaller.
    const disk = await statfs(dir);
    expect(free - disk.bavail * disk.bsize).toBeGreaterThanOrEqual(7 * MB);
  });
});
