import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { BatchdClient } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatLine, openAIClient, uploadLines, waitForBatch } from '../test-support/api/openai.js';
import { cacheUsageCompletion, cacheUsageMessage, pricedConfig } from '../test-support/fakes/cache-usage-answers.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { runCli } from '../test-support/process/run-cli.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';

/**
 * Each batch's cost and cache hit rate, from the usage real (fake) providers report and the prices
 * of the config file (Sonnet 4.5 at $3/$15, cache writes $3.75, reads $0.30; gpt-4.1 at $2/$8, cached
 * input $0.50, per million tokens): exact figures on the usage endpoint, in `batchd batches get`, and per
 * backend token counters in `/metrics`, on SQLite and PostgreSQL.
 */

let anthropic: FakeProvider;
let chat: FakeProvider;
let config: string;
const unavailable = postgresUnavailable();
let database: TestDatabase | undefined;

beforeAll(async () => {
  anthropic = await FakeProvider.start({ shape: 'anthropic', respond: cacheUsageMessage });
  chat = await FakeProvider.start({ shape: 'openai', respond: cacheUsageCompletion });
  config = join(await makeTempDir('batchd-cost-'), 'batchd.json');
  await writeFile(config, JSON.stringify(pricedConfig(anthropic.url, chat.url)));
});

afterAll(async () => {
  await anthropic.close();
  await chat.close();
  await database?.drop();
});

async function messageBatchCost(url: string) {
  const sdk = new Anthropic({ baseURL: url, apiKey: 'test-key' });
  const params = (model: string, text: string) => ({ model, max_tokens: 64, messages: [{ role: 'user' as const, content: text }] });
  const created = await sdk.messages.batches.create({
    requests: [
      { custom_id: 'writes', params: params('claude-sonnet-4-5', 'write') },
      { custom_id: 'reads', params: params('claude-sonnet-4-5', 'read') },
      // Priced as the model the answer names: the request's alias has no price of its own.
      { custom_id: 'alias', params: params('claude-alias', 'read') },
      { custom_id: 'unpriced', params: params('claude-opus-9', 'plain') },
    ],
  });
  const batchd = new BatchdClient({ baseURL: url, apiKey: 'test-key' });
  const ended = await batchd.messages.batches.wait(created.id, { pollInterval: 50 });
  expect(ended.request_counts).toMatchObject({ succeeded: 4, processing: 0 });
  // writes: 100×3 + 20×15 + 1000×3.75 = 4,350 µ$; reads and alias: 100×3 + 20×15 + 1000×0.3 = 900 µ$ each.
  expect(await batchd.messages.batches.usage(created.id)).toEqual({
    id: created.id,
    type: 'message_batch_usage',
    usage: { input_tokens: 400, output_tokens: 80, cache_creation_input_tokens: 1000, cache_read_input_tokens: 2000 },
    cache_hit_rate: 2000 / 3400,
    cost: { usd: 0.00615, direct_usd: 0.00615, saving_usd: 0, priced_requests: 3, unpriced_requests: 1 },
  });
  return created.id;
}

async function openAIBatchCost(url: string) {
  const client = openAIClient(url);
  const file = await uploadLines(client, [chatLine('one', 'first', { model: 'gpt-4.1' }), chatLine('two', 'second', { model: 'gpt-4.1-2025-04-14' })]);
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  expect((await waitForBatch(client, batch.id)).request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
  // Each: 200 uncached × 2 + 50 × 8 + 800 cached × 0.5 = 1,200 µ$.
  const response = await fetch(`${url}/v1/batches/${batch.id}/usage`, { headers: { authorization: 'Bearer test-key' } });
  expect(await response.json()).toEqual({
    id: batch.id,
    type: 'batch_usage',
    usage: { input_tokens: 400, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 1600 },
    cache_hit_rate: 0.8,
    cost: { usd: 0.0024, direct_usd: 0.0024, saving_usd: 0, priced_requests: 2, unpriced_requests: 0 },
  });
  return batch.id;
}

/** Each usage route serves its own kind of batch only, answering others as missing in its API's error envelope. */
async function expectUsageOfOwnKindOnly(url: string, messageBatch: string, openAIBatch: string) {
  const headers = { authorization: 'Bearer test-key' };
  const openAIRoute = await fetch(`${url}/v1/batches/${messageBatch}/usage`, { headers });
  expect(openAIRoute.status).toBe(404);
  expect(await openAIRoute.json()).toMatchObject({ error: { message: `No batch found with id '${messageBatch}'.` } });
  const messagesRoute = await fetch(`${url}/v1/messages/batches/${openAIBatch}/usage`, { headers });
  expect(messagesRoute.status).toBe(404);
  expect(await messagesRoute.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
}

async function metric(url: string, name: string, backend: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{backend="${backend}"} `));
  return Number(line?.split(' ')[1]);
}

describe.each([
  { store: 'SQLite', skip: null, db: async () => undefined },
  { store: 'PostgreSQL', skip: unavailable, db: async () => (database = await createTestDatabase()).url },
])('batch cost on $store', ({ skip, db }) => {
  it.skipIf(skip !== null)('answers the exact cost and cache hit rate of each kind of batch, shows them in the CLI and counts tokens per backend', async () => {
    const dbUrl = await db();
    const server = await startServer({ flags: { config, ...(dbUrl ? { db: dbUrl } : {}) } });
    const messageBatch = await messageBatchCost(server.url);
    const openAIBatch = await openAIBatchCost(server.url);
    await expectUsageOfOwnKindOnly(server.url, messageBatch, openAIBatch);

    const shown = await runCli(['batches', 'get', messageBatch, '--base-url', server.url, '--api-key', 'test-key']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/\ntokens\s+400 input, 80 output, 1000 cache write, 2000 cache read\n/);
    expect(shown.stdout).toMatch(/\ncache_hits\s+58\.8% of input read from cache\n/);
    expect(shown.stdout).toMatch(/\ncost\s+\$0\.00615 \(direct \$0\.00615, saving \$0\.00\); 1 request without a price, so the estimate is partial\n/);
    const json = JSON.parse((await runCli(['batches', 'get', messageBatch, '--json', '--base-url', server.url, '--api-key', 'test-key'])).stdout);
    expect(json).toMatchObject({ id: messageBatch, cache_hit_rate: 2000 / 3400, cost: { usd: 0.00615, unpriced_requests: 1 } });

    expect(await metric(server.url, 'batchd_backend_input_tokens_total', 'hosted')).toBe(400);
    expect(await metric(server.url, 'batchd_backend_cache_write_tokens_total', 'hosted')).toBe(1000);
    expect(await metric(server.url, 'batchd_backend_cache_read_tokens_total', 'hosted')).toBe(2000);
    expect(await metric(server.url, 'batchd_backend_output_tokens_total', 'hosted')).toBe(80);
    expect(await metric(server.url, 'batchd_backend_input_tokens_total', 'gpu')).toBe(400);
    expect(await metric(server.url, 'batchd_backend_cache_write_tokens_total', 'gpu')).toBe(0);
    expect(await metric(server.url, 'batchd_backend_cache_read_tokens_total', 'gpu')).toBe(1600);
  });
});
