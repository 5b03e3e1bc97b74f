import OpenAI, { toFile } from 'openai';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openAIClient } from '../../../test-support/api/openai.js';
import { buildTestApp } from '../../../test-support/api/test-app.js';
import { freshStores, type StoreKind } from '../../../test-support/stores/fresh-stores.js';
import { Maintenance } from '../../engine/maintenance.js';
import { DEFAULT_WORKSPACE } from '../authenticator.js';
import type { BatchStore } from '../../store/store.js';

/**
 * Files past their expiry over real HTTP, with the official `openai` SDK and a clock the test
 * moves: an upload's `expires_after` and a batch's `output_expires_after` end serving (404), and
 * maintenance removes expired uploads.
 */

const stores = freshStores('batchd-file-expiry-');
const HOUR_MS = 3_600_000;

/** batchd's API on `store` at loopback, its clock at `clock.now`, and an SDK client for it. */
async function serve(store: BatchStore, clock: { now: () => number }) {
  const app = buildTestApp(store, { clock, resultsTtlMs: 29 * 24 * HOUR_MS });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, client: openAIClient(url) };
}

const LINE = JSON.stringify({ custom_id: 'only', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } });
const input = async (name: string) => toFile(Buffer.from(`${LINE}\n`), name);

describe.each<{ kind: StoreKind }>([{ kind: 'SQLite' }, { kind: 'PostgreSQL' }])('expired files on $kind', ({ kind }) => {
  it.skipIf(stores.skipped(kind))('stops serving an upload past expires_after, and maintenance removes it', async () => {
    const store = await stores.open(kind);
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };
    const { app, client } = await serve(store, clock);
    try {
      const expiring = await client.files.create({ file: await input('expiring.jsonl'), purpose: 'batch', expires_after: { anchor: 'created_at', seconds: 3600 } });
      const kept = await client.files.create({ file: await input('kept.jsonl'), purpose: 'batch' });
      now += HOUR_MS - 1;
      expect(await (await client.files.content(expiring.id)).text()).toBe(`${LINE}\n`);
      now += 1;
      for (const call of [
        () => client.files.retrieve(expiring.id),
        () => client.files.content(expiring.id),
        () => client.files.delete(expiring.id),
        () => client.batches.create({ input_file_id: expiring.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      }
      expect((await client.files.list()).data.map((f) => f.id)).toEqual([kept.id]);

      await new Maintenance({ store, clock, logger: pino({ level: 'silent' }), intervalMs: 60_000, onRequeue: () => undefined }).tick();
      const parts = [];
      for await (const part of store.files.readFile(DEFAULT_WORKSPACE, expiring.id)) parts.push(part);
      expect(parts).toEqual([]);
      expect(await store.files.getFile(DEFAULT_WORKSPACE, kept.id, now)).toMatchObject({ id: kept.id });
    } finally {
      await app.close();
      await store.close();
    }
  });

  it.skipIf(stores.skipped(kind))('stops serving a batch’s output file output_expires_after its end', async () => {
    const store = await stores.open(kind);
    let now = Date.UTC(2026, 0, 1);
    const { app, client } = await serve(store, { now: () => now });
    try {
      const file = await client.files.create({ file: await input('in.jsonl'), purpose: 'batch' });
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        output_expires_after: { anchor: 'created_at', seconds: 7200 },
      });
      now += 60_000;
      const endedAt = now;
      const [request] = await store.claimRequests('owner', 10, now + 60_000, now);
      const response = '{"status_code":200,"request_id":"req_1","body":{"object":"chat.completion"}}';
      await store.completeRequests('owner', [{ key: request!.key, type: 'succeeded', result: response }], endedAt);

      const done = await client.batches.retrieve(batch.id);
      expect(done).toMatchObject({ status: 'completed', completed_at: endedAt / 1000 });
      expect(await client.files.retrieve(done.output_file_id!)).toMatchObject({ created_at: endedAt / 1000, expires_at: endedAt / 1000 + 7200 });
      now = endedAt + 2 * HOUR_MS - 1;
      expect(await (await client.files.content(done.output_file_id!)).text()).toContain('"custom_id":"only"');
      now += 1;
      await expect(client.files.retrieve(done.output_file_id!)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(client.files.content(done.output_file_id!)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      expect(await client.batches.retrieve(batch.id)).toMatchObject({ output_file_id: done.output_file_id });
    } finally {
      await app.close();
      await store.close();
    }
  });
});
