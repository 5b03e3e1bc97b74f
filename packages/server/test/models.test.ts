import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `models.list` and `models.retrieve` of the official TypeScript SDKs (`openai`, `@anthropic-ai/sdk`)
 * against a real `batchd serve` whose backends are a fake Anthropic API listing its models, a fake
 * OpenAI-compatible server listing its own (one renamed by `model_map`), and the emulator serving
 * one model by name and others by pattern.
 */

const CLAUDE_MODELS = [
  { type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
  { type: 'model', id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z' },
  { type: 'model', id: 'gemma-2', display_name: 'Not routed here', created_at: '2025-01-01T00:00:00Z' },
];
const GPU_MODELS = [{ id: 'meta/llama-3-8b', object: 'model', created: 1_713_000_000, owned_by: 'vllm' }];
const LISTED = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'meta/llama-3-8b', 'llama-chat', 'gpt-4o-mini'];

let server: ServerHandle;
let claude: FakeProvider;
let gpu: FakeProvider;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  claude = await FakeProvider.start({ shape: 'anthropic', models: CLAUDE_MODELS });
  gpu = await FakeProvider.start({ shape: 'openai', models: GPU_MODELS });
  const config = join(await makeTempDir('batchd-models-'), 'batchd.json');
  const backends = [
    { name: 'claude', type: 'anthropic', url: claude.url, models: ['claude-*'] },
    { name: 'gpu', type: 'openai', url: gpu.url, models: ['meta/*', 'llama-*'], model_map: { 'llama-chat': 'meta/llama-3-8b' } },
    { name: 'dev', type: 'emulator', models: ['gpt-4o-mini', 'gpt-*'] },
  ];
  await writeFile(config, JSON.stringify({ backends }));
  server = await startServer({ flags: { config } });
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
  await claude?.close();
  await gpu?.close();
});

describe('GET /v1/models', () => {
  it('lists, to the OpenAI SDK, the models each backend serves by name and its upstream lists, with the backend that serves each', async () => {
    const models: OpenAI.Model[] = [];
    for await (const model of openai.models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(LISTED);
    expect(models.map((model) => model.owned_by)).toEqual(['claude', 'claude', 'gpu', 'gpu', 'dev']);
    expect(models[2]).toMatchObject({ object: 'model', created: 1_713_000_000 });
  });

  it('pages the same list to the Anthropic SDK, with the names and dates the upstream gives', async () => {
    const models: Anthropic.ModelInfo[] = [];
    for await (const model of anthropic.models.list({ limit: 2 })) models.push(model);
    expect(models.map((model) => model.id)).toEqual(LISTED);
    expect(models[0]).toMatchObject({ type: 'model', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00.000Z' });
    const before = await anthropic.models.list({ limit: 2, before_id: 'gpt-4o-mini' });
    expect(before.data.map((model) => model.id)).toEqual(['meta/llama-3-8b', 'llama-chat']);
    expect(before.has_more).toBe(true);
  });

  it('retrieves a listed model, one a pattern serves, and answers 404 for one no backend serves', async () => {
    expect(await anthropic.models.retrieve('claude-haiku-4-5')).toMatchObject({ id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5' });
    expect(await openai.models.retrieve('meta/llama-3-8b')).toMatchObject({ id: 'meta/llama-3-8b', owned_by: 'gpu' });
    expect(await openai.models.retrieve('gpt-5')).toMatchObject({ id: 'gpt-5', object: 'model', owned_by: 'dev' });
    await expect(openai.models.retrieve('mistral-large')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(anthropic.models.retrieve('gemma-2')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('asks each upstream for its list once for many lists, and refuses a bad limit', async () => {
    const asked = () => claude.requests.filter((request) => request.path.startsWith('/v1/models')).length;
    const before = asked();
    await Promise.all(Array.from({ length: 20 }, () => openai.models.list()));
    expect(asked()).toBe(before);
    await expect(anthropic.models.list({ limit: 0 })).rejects.toMatchObject({ status: 400 });
  });
});
