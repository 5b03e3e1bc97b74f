import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineCacheModel } from '../test-support/fakes/engine-cache-model.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { PromptCacheModel } from '../test-support/fakes/prompt-cache-model.js';
import { sharedPrefixRequests, type SharedPrefixRequest } from '../test-support/fakes/shared-prefix-requests.js';
import { MODEL } from '../test-support/api/batches.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { startServer, type ServerFlags } from '../test-support/process/server-process.js';

/**
 * Cache-aware scheduling through the batchd process, against fake providers that model a
 * provider's prompt cache and an engine's prefix cache as real HTTP servers on loopback, on
 * SQLite and on PostgreSQL.
 */

const unavailable = postgresUnavailable();
const providers: FakeProvider[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close();
});
afterAll(async () => {
  for (const database of databases) await database.drop();
});

const STORES = [{ store: 'SQLite', skip: false }, { store: 'PostgreSQL', skip: unavailable !== null }];

async function dbFlag(store: string): Promise<ServerFlags> {
  if (store === 'SQLite') return {};
  const database = await createTestDatabase();
  databases.push(database);
  return { db: database.url };
}

/** Runs `requests` as one batch through a fresh batchd in front of `provider`, with the official SDK; returns the cache read tokens its results report. */
async function runBatch(provider: FakeProvider, requests: SharedPrefixRequest[], flags: ServerFlags): Promise<number> {
  const server = await startServer({ flags: { backend: provider.url.endsWith('/v1') ? 'openai' : 'anthropic', 'backend-url': provider.url, ...flags } });
  const client = new Anthropic({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
  const batch = await client.messages.batches.create({ requests: requests as unknown as Anthropic.Messages.Batches.BatchCreateParams['requests'] });
  let ended = batch;
  while (ended.processing_status !== 'ended') {
    await new Promise((resolve) => setTimeout(resolve, 100));
    ended = await client.messages.batches.retrieve(batch.id);
  }
  expect(ended.request_counts.succeeded).toBe(requests.length);
  let cacheReads = 0;
  for await (const line of await client.messages.batches.results(batch.id)) {
    if (line.result.type === 'succeeded') cacheReads += line.result.message.usage.cache_read_input_tokens ?? 0;
  }
  await server.stop();
  return cacheReads;
}

async function promptCacheProvider(): Promise<{ provider: FakeProvider; model: PromptCacheModel }> {
  const model = new PromptCacheModel({ latencyMs: 20 });
  const provider = await FakeProvider.start({ shape: 'anthropic', serve: model.serve, record: false });
  providers.push(provider);
  return { provider, model };
}

/** An engine whose cache holds six of the thirty system prompts of {@link engineBatch}. */
async function engineProvider(record = false): Promise<{ provider: FakeProvider; model: EngineCacheModel }> {
  const model = new EngineCacheModel({ cacheTokens: 6 * 2_050, prefillTokensPerMs: 4_000, decodeMs: 5 });
  const provider = await FakeProvider.start({ shape: 'openai', serve: model.serve, record });
  providers.push(provider);
  return { provider, model };
}

const engineBatch = () => sharedPrefixRequests({ prefixes: 30, perPrefix: 20, prefixChars: 8_000, cacheControl: false, model: MODEL, seed: 11 });

describe('cache-aware scheduling', () => {
  for (const { store, skip } of STORES) {
    it.skipIf(skip)(`primes each cached document once: 400 documents × 5 questions write about 400 times and read about 1,600 (${store})`, async () => {
      const { provider, model } = await promptCacheProvider();
      const requests = sharedPrefixRequests({ prefixes: 400, perPrefix: 5, prefixChars: 4_400, cacheControl: true, model: MODEL, seed: 5 });
      const cacheReads = await runBatch(provider, requests, { concurrency: 64, ...(await dbFlag(store)) });
      expect(model.counts.writes + model.counts.reads).toBe(2_000);
      expect(cacheReads).toBeGreaterThan(1_580 * 1_100);
      expect(model.counts.writes).toBeLessThanOrEqual(420);
      expect(model.counts.reads).toBeGreaterThanOrEqual(1_580);
    });

    it.skipIf(skip)(`keeps an engine's prefix cache hot: hit rate high with cache-aware scheduling (${store})`, async () => {
      const { provider, model } = await engineProvider();
      const cacheReads = await runBatch(provider, engineBatch(), { concurrency: 16, ...(await dbFlag(store)) });
      expect(model.counts.requests).toBe(600);
      expect(cacheReads).toBe(model.counts.cachedTokens);
      expect(model.hitRate).toBeGreaterThanOrEqual(0.85);
    });
  }

  it('with --cache-aware off, sends together requests that share a document and all write the cache', async () => {
    const { provider, model } = await promptCacheProvider();
    const requests = sharedPrefixRequests({ prefixes: 100, perPrefix: 5, prefixChars: 4_400, cacheControl: true, model: MODEL });
    await runBatch(provider, requests, { concurrency: 64, 'cache-aware': 'off' });
    expect(model.counts.writes).toBeGreaterThan(400);
  });

  it('is told the size of an engine cache; off, the hit rate is what arrival order gives', async () => {
    const off = await engineProvider();
    await runBatch(off.provider, engineBatch(), { concurrency: 16, 'cache-aware': 'off' });
    expect(off.model.hitRate).toBeLessThan(0.5);
    const told = await engineProvider();
    await runBatch(told.provider, engineBatch(), { concurrency: 16, 'prefix-cache-tokens': 6 * 2_050 });
    expect(told.model.hitRate).toBeGreaterThanOrEqual(0.9);
  });

  it('with --cache-aware off, sends requests in the order they were created', async () => {
    const { provider } = await engineProvider(true);
    const requests = sharedPrefixRequests({ prefixes: 3, perPrefix: 4, prefixChars: 400, cacheControl: false, model: MODEL, seed: 3 });
    const question = (body: unknown) => JSON.stringify((body as { messages: unknown[] }).messages.at(-1));
    const asked = requests.map((r) => JSON.stringify({ role: 'user', content: (r.params.messages as Array<{ content: string }>)[0]!.content }));
    await runBatch(provider, requests, { concurrency: 1, 'cache-aware': 'off' });
    expect(provider.requests.map((r) => question(r.body))).toEqual(asked);
    provider.requests.length = 0;
    await runBatch(provider, requests, { concurrency: 1 });
    // On, each document's questions go one after another.
    const documents = provider.requests.map((r) => JSON.stringify((r.body as { messages: unknown[] }).messages[0]));
    expect(documents.filter((d, i) => i > 0 && d !== documents[i - 1])).toHaveLength(2);
  });
});
