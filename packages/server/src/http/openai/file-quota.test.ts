import { EventEmitter } from 'node:events';
import OpenAI, { toFile } from 'openai';
import type { FastifyReply } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { openAIClient } from '../../../test-support/api/openai.js';
import { buildTestApp } from '../../../test-support/api/test-app.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { FileQuota } from './file-quota.js';

/** A reply whose response closes when the test says. */
function reply(): FastifyReply & { close: () => void } {
  const raw = new EventEmitter();
  return { raw, close: () => raw.emit('close') } as unknown as FastifyReply & { close: () => void };
}

describe('FileQuota', () => {
  it('counts the uploads under way beside the stored files, per workspace, until their responses close', async () => {
    const stored = new Map([['w1', 600]]);
    const quota = new FileQuota({ storedBytes: async (workspace) => stored.get(workspace) ?? 0 }, 1000);
    const first = reply();
    await quota.hold(first, 'w1', 300, 0);
    await expect(quota.hold(reply(), 'w1', 200, 0)).rejects.toMatchObject({ status: 400, message: expect.stringContaining('its uploads under way 300') });
    await quota.hold(reply(), 'w2', 1000, 0);
    first.close();
    await quota.hold(reply(), 'w1', 400, 0);
    // An upload whose client is gone while the stored bytes were read holds nothing.
    const gone = reply();
    const held = quota.hold(gone, 'w3', 600, 0);
    gone.close();
    await held;
    await quota.hold(reply(), 'w3', 1000, 0);
  });
});

describe('file storage per workspace, over HTTP with the official SDK', () => {
  const store = new SqliteStore(':memory:');
  const app = buildTestApp(store, { maxFileBytesPerWorkspace: 10_000 });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('refuses an upload that would pass the bound with 400, stores nothing of it, and takes it once files are deleted', async () => {
    const client = openAIClient(await app.listen({ host: '127.0.0.1', port: 0 }));
    const lines = (customId: string) => `${JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } })}\n`.padEnd(4000, ' ');
    const upload = async (name: string) => client.files.create({ file: await toFile(Buffer.from(lines(name)), `${name}.jsonl`), purpose: 'batch' });
    const first = await upload('first');
    await upload('second');
    const refused = await upload('third').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toMatch(/files take 8000 bytes; this upload of up to \d+ bytes would pass its storage limit of 10000 bytes/);
    expect((await client.files.list()).data.map((file) => file.filename).sort()).toEqual(['first.jsonl', 'second.jsonl']);
    await client.files.delete(first.id);
    expect(await upload('third')).toMatchObject({ filename: 'third.jsonl', bytes: 4000 });
  });
});
