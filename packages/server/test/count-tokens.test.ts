import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTS_IN_FLIGHT } from '../src/backends/token-counters.js';
import { anthropicTokenCount } from '../test-support/fakes/fake-answers.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `client.messages.countTokens` of the official TypeScript SDK against a real `batchd serve` whose
 * config routes models to an Anthropic provider, an `anthropic-batch` provider, an
 * OpenAI-compatible server and the emulator: each model is counted by the backend serving it.
 */

const UPSTREAM_KEY = 'sk-upstream-count-0123456789';
const messages = [{ role: 'user' as const, content: 'How many tokens do these words take?' }];
let direct: FakeProvider;
let batchApi: FakeProvider;
let local: FakeProvider;
let slow: FakeProvider;
let server: ServerHandle;
let client: Anthropic;

beforeAll(async () => {
  direct = await FakeProvider.start({ shape: 'anthropic', apiKey: UPSTREAM_KEY });
  batchApi = await FakeProvider.start({ shape: 'anthropic', apiKey: UPSTREAM_KEY });
  local = await FakeProvider.start({ shape: 'openai' });
  slow = await FakeProvider.start({ shape: 'anthropic', apiKey: UPSTREAM_KEY, latencyMs: 100 });
  const configFile = join(mkdtempSync(join(tmpdir(), 'batchd-count-')), 'batchd.json');
  writeFileSync(configFile, JSON.stringify({
    backends: [
      { name: 'hosted', type: 'anthropic', url: direct.url, api_key_env: 'UPSTREAM_KEY', models: ['claude-*'] },
      { name: 'half-price', type: 'anthropic-batch', url: batchApi.url, api_key_env: 'UPSTREAM_KEY', models: ['batch-*'] },
      { name: 'gpu', type: 'openai', url: local.url, models: ['llama-*'] },
      { name: 'dev', type: 'emulator', models: ['emu-*'] },
      { name: 'slow', type: 'anthropic', url: slow.url, api_key_env: 'UPSTREAM_KEY', models: ['slow-*'] },
    ],
  }));
  server = await startServer({ flags: { config: configFile }, env: { UPSTREAM_KEY } });
  client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([direct, batchApi, local, slow].map((fake) => fake?.close()));
});

describe('POST /v1/messages/count_tokens', () => {
  it("answers the Anthropic provider's own count, the params sent as the client wrote them", async () => {
    const params = { model: 'claude-sonnet-4-6', system: 'Be brief.', messages, tools: [{ name: 'lookup', input_schema: { type: 'object' as const } }] };
    expect(await client.messages.countTokens(params)).toEqual(anthropicTokenCount(params));
    expect(direct.requests.map((request) => request.path)).toEqual(['/v1/messages/count_tokens']);
    expect(direct.requests[0]!.body).toEqual(params);
    expect(direct.requests[0]!.headers['x-api-key']).toBe(UPSTREAM_KEY);
  });

  it('counts for an anthropic-batch backend through the Anthropic API behind it, with no message call', async () => {
    const params = { model: 'batch-haiku', messages };
    expect(await client.messages.countTokens(params)).toEqual(anthropicTokenCount(params));
    expect(batchApi.requests.map((request) => request.path)).toEqual(['/v1/messages/count_tokens']);
  });

  it('counts on the emulator as its messages report their input tokens, on the beta client too', async () => {
    const params = { model: 'emu-small', system: 'Answer in one word.', messages };
    const created = await client.messages.create({ ...params, max_tokens: 16 });
    expect(await client.messages.countTokens(params)).toEqual({ input_tokens: created.usage.input_tokens });
    expect(await client.beta.messages.countTokens({ ...params, betas: ['token-counting-2024-11-01'] })).toEqual({ input_tokens: created.usage.input_tokens });
  });

  it('refuses models whose backend cannot count or call, models no backend serves, and invalid params, in the error envelope', async () => {
    await expect(client.messages.countTokens({ model: 'llama-3.1-8b', messages })).rejects.toMatchObject({
      status: 400,
      error: { type: 'error', error: { type: 'invalid_request_error', message: 'model: llama-3.1-8b is served by the gpu backend, which does not count tokens' } },
    });
    expect(local.requests).toHaveLength(0);
    // An interactive call for a model only a provider-batch backend serves is refused the same way, naming it.
    await expect(client.messages.create({ model: 'batch-haiku', max_tokens: 16, messages })).rejects.toMatchObject({
      status: 400,
      error: { error: { type: 'invalid_request_error', message: 'model: batch-haiku is served by the half-price backend, which runs batches only; send the request in a batch' } },
    });
    expect(batchApi.requests.map((request) => request.path)).toEqual(['/v1/messages/count_tokens']);
    await expect(client.messages.countTokens({ model: 'gpt-5', messages })).rejects.toMatchObject({ status: 404, error: { error: { type: 'not_found_error' } } });
    await expect(client.messages.countTokens({ model: 'emu-small', messages: [] })).rejects.toMatchObject({
      status: 400,
      error: { error: { type: 'invalid_request_error', message: 'messages: List should have at least 1 item after validation, not 0' } },
    });
    await expect(client.messages.countTokens({ model: 'emu-small' } as never)).rejects.toMatchObject({ status: 400, error: { error: { message: 'messages: Field required' } } });
  });

  it(`keeps at most ${COUNTS_IN_FLIGHT} counts in flight to a provider however many clients ask at once`, async () => {
    const params = { model: 'slow-haiku', messages };
    const counts = await Promise.all(Array.from({ length: 3 * COUNTS_IN_FLIGHT }, () => client.messages.countTokens(params)));
    expect(counts).toEqual(Array.from({ length: 3 * COUNTS_IN_FLIGHT }, () => anthropicTokenCount(params)));
    expect(slow.requests).toHaveLength(3 * COUNTS_IN_FLIGHT);
    expect(slow.maxInFlight).toBe(COUNTS_IN_FLIGHT);
  });

  it("passes a provider's refusal on with its status and type", async () => {
    direct.inject(529);
    await expect(client.messages.countTokens({ model: 'claude-sonnet-4-6', messages })).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
  });
});
