import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeResponse, fakeTextCompletion, providerEmbedding } from '../test-support/fakes/fake-openai-answers.js';
import { endpointBackends } from '../test-support/api/openai.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `embeddings.create`, `completions.create` and `responses.create` of the official `openai`
 * TypeScript SDK, one call each, against a real `batchd serve` whose models route to a fake
 * OpenAI-compatible server (`gpu-*`; `resp-*` on the same server configured as serving the
 * Responses API), a fake Anthropic API (`claude-*`) and the emulator (everything else): the
 * answers a batch line of the endpoint gets, without a batch.
 */

let server: ServerHandle;
let client: OpenAI;
let gpu: FakeProvider;
let hosted: FakeProvider;

beforeAll(async () => {
  gpu = await FakeProvider.start({ shape: 'openai' });
  hosted = await FakeProvider.start({ shape: 'anthropic' });
  const config = join(await makeTempDir('batchd-openai-direct-'), 'batchd.json');
  await writeFile(config, JSON.stringify({ backends: endpointBackends(gpu.url, hosted.url) }));
  server = await startServer({ flags: { config } });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
  await gpu?.close();
  await hosted?.close();
});

describe('one OpenAI call besides chat completions', () => {
  it("embeds through an OpenAI-compatible server as sent, on the emulator, and refuses a Messages backend naming it", async () => {
    const sent = { model: 'gpu-embed', input: ['a', 'bb'], encoding_format: 'float' as const };
    const embedded = await client.embeddings.create(sent);
    expect(embedded.data.map((item) => item.embedding)).toEqual([providerEmbedding('a'), providerEmbedding('bb')]);
    expect(gpu.requests.at(-1)).toMatchObject({ path: '/v1/embeddings', body: sent });
    const emulated = await client.embeddings.create({ model: 'emu-embed', input: 'same text', encoding_format: 'float' });
    expect(emulated.data[0]!.embedding).toHaveLength(8);
    expect(emulated.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    await expect(client.embeddings.create({ model: 'claude-embed', input: 'no' })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error', message: expect.stringMatching(/backend hosted serves the Messages API/) },
    });
  });

  it('completes a prompt through an OpenAI-compatible server as sent, and on the emulator through chat completions', async () => {
    const sent = { model: 'gpu-text', prompt: 'Once upon', max_tokens: 8 };
    expect(await client.completions.create(sent)).toEqual(fakeTextCompletion(sent));
    const emulated = await client.completions.create({ model: 'emu-text', prompt: 'Say this back', max_tokens: 64 });
    expect(emulated).toMatchObject({ object: 'text_completion', model: 'emu-text', choices: [{ index: 0, finish_reason: 'stop' }] });
    expect(emulated.choices[0]!.text).toContain('Say this back');
  });

  it('answers a response from a Responses server unchanged, and translated from the emulator and the Anthropic API', async () => {
    const native = { model: 'resp-r', input: 'Native', reasoning: { effort: 'low' as const } };
    expect(await client.responses.create(native)).toMatchObject(fakeResponse(native));
    const emulated = await client.responses.create({ model: 'emu-r', instructions: 'Be brief.', input: 'Hello there', max_output_tokens: 50 });
    expect(emulated).toMatchObject({ object: 'response', status: 'completed', model: 'emu-r' });
    expect(emulated.output_text).toContain('Hello there');
    const messages = await client.responses.create({ model: 'claude-r', input: [{ role: 'user', content: 'Bonjour' }] });
    expect(messages.output_text).toContain('Bonjour');
    expect(hosted.requests.at(-1)!.body).toMatchObject({ model: 'claude-r', messages: [{ role: 'user', content: 'Bonjour' }] });
  });

  it('refuses a streamed call, a call without its input or key, a malformed body, and a call no backend can translate, in OpenAI\'s envelope', async () => {
    await expect(client.responses.create({ model: 'emu-r', input: 'x', stream: true })).rejects.toMatchObject({ status: 400, error: { param: 'stream' } });
    await expect(client.embeddings.create({ model: 'emu-embed' } as OpenAI.EmbeddingCreateParams)).rejects.toMatchObject({ status: 400, error: { param: 'input' } });
    await expect(client.responses.create({ model: 'emu-r', input: 'x', reasoning: { effort: 'high' } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const post = (path: string, headers: Record<string, string>) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{' });
    const malformed = await post('/v1/%65mbeddings', { authorization: 'Bearer test-key' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const keyless = await post('/v1/completions', {});
    expect(keyless.status).toBe(401);
    expect(await keyless.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});
