import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeResponse, fakeTextCompletion, providerEmbedding } from '../test-support/fakes/fake-openai-answers.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';
import { endpointBackends, expectResponse, fileLines, openAIClient, uploadLines, waitForBatch } from '../test-support/api/openai.js';

/**
 * OpenAI batches of `/v1/embeddings`, `/v1/responses` and `/v1/completions`, driven with the
 * official `openai` SDK against a real batchd on SQLite and on PostgreSQL, whose models route to a
 * fake OpenAI-compatible server (`gpu-*`; `resp-*` on the same server configured as serving the
 * Responses API), a fake Anthropic server (`claude-*`) and the emulator (everything else).
 */

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
const providers: FakeProvider[] = [];
afterAll(async () => {
  for (const provider of providers) await provider.close();
  for (const database of databases) await database.drop();
});

interface Setup {
  client: OpenAI;
  gpu: FakeProvider;
  hosted: FakeProvider;
}

async function setUp(store: string): Promise<Setup> {
  const gpu = await FakeProvider.start({ shape: 'openai' });
  const hosted = await FakeProvider.start({ shape: 'anthropic' });
  providers.push(gpu, hosted);
  const config = join(await makeTempDir('batchd-openai-endpoints-'), 'batchd.json');
  await writeFile(config, JSON.stringify({ backends: endpointBackends(gpu.url, hosted.url) }));
  let db: string | undefined;
  if (store === 'PostgreSQL') {
    const database = await createTestDatabase();
    databases.push(database);
    db = database.url;
  }
  const server = await startServer({ flags: { config, 'log-level': 'error', ...(db ? { db } : {}) } });
  return { client: openAIClient(server.url), gpu, hosted };
}

const line = (customId: string, url: string, body: Record<string, unknown>) => ({ custom_id: customId, method: 'POST', url, body });

/** Runs a batch of `lines` for `endpoint`; answers the ended batch and each request's response body by custom_id. */
async function run(client: OpenAI, endpoint: '/v1/embeddings' | '/v1/responses' | '/v1/completions', lines: Array<{ custom_id: string; body: Record<string, unknown> }>) {
  const file = await uploadLines(client, lines.map((entry) => line(entry.custom_id, endpoint, entry.body)));
  const created = await client.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' });
  expect(created.endpoint).toBe(endpoint);
  const batch = await waitForBatch(client, created.id);
  const bodies = new Map<string, { status: number; body: any }>();
  for (const fileId of [batch.output_file_id, batch.error_file_id]) {
    for (const result of fileId ? await fileLines(client, fileId) : []) {
      const status = (result.response as { status_code: number }).status_code;
      bodies.set(result.custom_id as string, { status, body: expectResponse(result, result.custom_id as string, status) });
    }
  }
  return { batch, bodies };
}

/** The batch's usage is `input` and `output` tokens. */
function expectUsage(batch: OpenAI.Batches.Batch, input: number, output: number): void {
  expect(batch.usage).toMatchObject({ input_tokens: input, output_tokens: output, total_tokens: input + output });
}

/** The batch's usage is the sum of its succeeded answers' usage, read under the endpoint's names. */
function expectUsageSummed(batch: OpenAI.Batches.Batch, answers: Map<string, { status: number; body: any }>, input: string, output: string): void {
  const usages = [...answers.values()].filter((answer) => answer.status === 200).map((answer) => answer.body.usage);
  const sum = (key: string) => usages.reduce((total, usage) => total + usage[key], 0);
  expectUsage(batch, sum(input), sum(output));
}

describe.each(['SQLite', 'PostgreSQL'])('OpenAI batches of every endpoint on %s', (store) => {
  const skip = store === 'PostgreSQL' && unavailable !== null;
  let setup: Setup;
  beforeAll(async () => {
    if (!skip) setup = await setUp(store);
  }, 60_000);

  it.skipIf(skip)('embeds through an OpenAI-compatible server unchanged, on the emulator, and refuses on a Messages backend', async () => {
    const { client, gpu } = setup;
    const bodies = {
      one: { model: 'gpu-embed', input: 'hello' },
      several: { model: 'gpu-embed', input: ['a', 'bb', 'ccc'], encoding_format: 'float' },
      tokens: { model: 'gpu-embed', input: [[5, 6, 7]] },
      emulated: { model: 'emu-embed', input: ['same text', 'other'] },
      again: { model: 'emu-embed', input: 'same text' },
      hosted: { model: 'claude-embed', input: 'no' },
    };
    const { batch, bodies: answers } = await run(client, '/v1/embeddings', Object.entries(bodies).map(([custom_id, body]) => ({ custom_id, body })));
    expect(batch).toMatchObject({ status: 'completed', endpoint: '/v1/embeddings', request_counts: { total: 6, completed: 5, failed: 1 } });

    const received = gpu.requests.filter((request) => request.path === '/v1/embeddings');
    expect(received.map((request) => request.body)).toEqual(expect.arrayContaining([bodies.one, bodies.several, bodies.tokens]));
    expect(received).toHaveLength(3);
    const vectors = (custom: string) => (answers.get(custom)!.body.data as Array<{ index: number; embedding: number[] }>).map((item) => [item.index, item.embedding]);
    expect(vectors('one')).toEqual([[0, providerEmbedding('hello')]]);
    expect(vectors('several')).toEqual(['a', 'bb', 'ccc'].map((input, index) => [index, providerEmbedding(input)]));
    expect(vectors('tokens')).toEqual([[0, providerEmbedding([5, 6, 7])]]);

    const emulated = vectors('emulated');
    expect(emulated.map(([index, vector]) => [index, (vector as number[]).length])).toEqual([[0, 8], [1, 8]]);
    expect(Math.hypot(...(emulated[0]![1] as number[]))).toBeCloseTo(1, 6);
    expect(emulated[0]![1]).not.toEqual(emulated[1]![1]);
    expect(vectors('again')).toEqual([[0, emulated[0]![1]]]);
    expect(answers.get('again')!.body).toMatchObject({ object: 'list', model: 'emu-embed', usage: { prompt_tokens: 3, total_tokens: 3 } });

    expect(answers.get('hosted')).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error' } } });
    expect(answers.get('hosted')!.body.error.message).toMatch(/\/v1\/embeddings: backend hosted serves the Messages API/);
    // The provider counts 3 tokens an input, the emulator 3 for 'same text', 2 for 'other' and 3 again.
    expectUsage(batch, 3 * 5 + 3 + 2 + 3, 0);
  }, 60_000);

  it.skipIf(skip)('answers responses requests on the emulator, translated for chat and Messages servers, unchanged for a Responses server', async () => {
    const { client, gpu, hosted } = setup;
    const weather = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } };
    const bodies = {
      emulated: { model: 'emu-r', instructions: 'Be brief.', input: 'Hello there', max_output_tokens: 50 },
      tool: {
        model: 'emu-r',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] }],
        tools: [weather],
        tool_choice: { type: 'function', name: 'get_weather' },
      },
      chat: { model: 'gpu-r', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 30, temperature: 0.2 },
      native: { model: 'resp-r', input: 'Native', reasoning: { effort: 'low' } },
      messages: { model: 'claude-r', input: [{ role: 'user', content: 'Bonjour' }], top_p: 0.9 },
      refused: { model: 'emu-r', input: 'x', reasoning: { effort: 'high' } },
    };
    const { batch, bodies: answers } = await run(client, '/v1/responses', Object.entries(bodies).map(([custom_id, body]) => ({ custom_id, body })));
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 6, completed: 5, failed: 1 } });

    const emulated = answers.get('emulated')!.body;
    expect(emulated).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'emu-r',
      instructions: 'Be brief.',
      max_output_tokens: 50,
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '[emulator] Hello there', annotations: [] }] }],
    });
    expect(emulated.id).toMatch(/^resp_/);
    expect(emulated.usage.total_tokens).toBe(emulated.usage.input_tokens + emulated.usage.output_tokens);
    expect(answers.get('tool')!.body.output).toEqual([
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: expect.any(String), name: 'get_weather', arguments: '{}', status: 'completed' },
    ]);

    expect(gpu.requests.find((request) => (request.body as { model?: string }).model === 'gpu-r')).toMatchObject({
      path: '/v1/chat/completions',
      body: { model: 'gpu-r', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 30, temperature: 0.2 },
    });
    expect(answers.get('chat')!.body).toMatchObject({ object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: 'echo: Hi' }] }] });

    expect(gpu.requests.find((request) => request.path === '/v1/responses')!.body).toEqual(bodies.native);
    expect(answers.get('native')!.body).toEqual(fakeResponse(bodies.native));

    expect(hosted.requests.find((request) => (request.body as { model?: string }).model === 'claude-r')!.body).toEqual({
      model: 'claude-r',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'Bonjour' }],
      top_p: 0.9,
    });
    expect(answers.get('messages')!.body).toMatchObject({ status: 'completed', output: [{ content: [{ text: 'echo: Bonjour' }] }] });

    expect(answers.get('refused')).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error' } } });
    expect(answers.get('refused')!.body.error.message).toMatch(/^reasoning: not supported/);

    expectUsageSummed(batch, answers, 'input_tokens', 'output_tokens');
    expect(batch.usage!.input_tokens_details.cached_tokens).toBe(2);
  }, 60_000);

  it.skipIf(skip)('answers completions on the emulator, unchanged through an OpenAI-compatible server, translated for Messages', async () => {
    const { client, gpu, hosted } = setup;
    const bodies = {
      emulated: { model: 'emu-c', prompt: 'Say hi', max_tokens: 10 },
      server: { model: 'gpu-c', prompt: 'Once upon', max_tokens: 5, logprobs: 2 },
      messages: { model: 'claude-c', prompt: ['Write'], stop: '\n' },
      refused: { model: 'emu-c', prompt: 'x', echo: true },
    };
    const { batch, bodies: answers } = await run(client, '/v1/completions', Object.entries(bodies).map(([custom_id, body]) => ({ custom_id, body })));
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 4, completed: 3, failed: 1 } });

    expect(answers.get('emulated')!.body).toMatchObject({
      object: 'text_completion',
      model: 'emu-c',
      choices: [{ index: 0, text: '[emulator] Say hi', finish_reason: 'stop', logprobs: null }],
    });
    expect(gpu.requests.find((request) => request.path === '/v1/completions')!.body).toEqual(bodies.server);
    expect(answers.get('server')!.body).toEqual(fakeTextCompletion(bodies.server));
    expect(hosted.requests.find((request) => (request.body as { model?: string }).model === 'claude-c')!.body).toEqual({
      model: 'claude-c',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'Write' }],
      stop_sequences: ['\n'],
    });
    expect(answers.get('messages')!.body).toMatchObject({ object: 'text_completion', choices: [{ text: 'echo: Write' }] });
    expect(answers.get('refused')!.body.error.message).toBe('echo: not supported by the Messages backend');

    expectUsageSummed(batch, answers, 'prompt_tokens', 'completion_tokens');
  }, 60_000);

  it.skipIf(skip)('refuses an endpoint batchd cannot serve at create, naming it and those it can', async () => {
    const { client } = setup;
    const file = await uploadLines(client, [line('m', '/v1/moderations', { model: 'omni-moderation-latest', input: 'x' })]);
    const create = client.batches.create({ input_file_id: file.id, endpoint: '/v1/moderations' as '/v1/embeddings', completion_window: '24h' });
    const refused = (await create.catch((error: unknown) => error)) as { status: number; message: string };
    expect(refused).toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: 'endpoint' } });
    expect(refused.message).toContain('got "/v1/moderations"');
    expect(refused.message).toContain('/v1/chat/completions, /v1/embeddings, /v1/responses, /v1/completions');
    expect((await client.batches.list()).data.map((listed) => listed.endpoint)).not.toContain('/v1/moderations');
  }, 60_000);
});
