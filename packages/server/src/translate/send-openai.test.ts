import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicBackend } from '../backends/anthropic/anthropic-backend.js';
import { EmulatorBackend } from '../backends/emulator/emulator-backend.js';
import { OpenAIBackend } from '../backends/openai/openai-backend.js';
import { FakeProvider } from '../../test-support/fakes/fake-provider.js';
import { sendCompletions, sendEmbeddings, sendResponses } from './send-openai.js';

let providers: FakeProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.map((provider) => provider.close()));
  providers = [];
});

async function openAIServer(respond?: (body: unknown) => unknown): Promise<{ fake: FakeProvider; url: string }> {
  const fake = await FakeProvider.start({ shape: 'openai', respond });
  providers.push(fake);
  return { fake, url: fake.url };
}

const call = (params: Record<string, unknown>) => ({ params, signal: new AbortController().signal });
const created = () => 1_700_000_000;

describe('sending the OpenAI endpoints besides chat completions', () => {
  it('takes a 2xx that is not the endpoint’s object from a server as a retryable invalid response body', async () => {
    const { url } = await openAIServer(() => ({ object: 'chat.completion' }));
    const backend = new OpenAIBackend({ url, responsesApi: true });
    const invalid = (path: string) => ({ kind: 'error', retryable: true, status: 200, errorType: 'api_error', message: `invalid response body: not the object ${path} answers` });
    expect(await sendEmbeddings(backend, call({ model: 'e', input: 'x' }))).toEqual(invalid('/embeddings'));
    expect(await sendCompletions(backend, call({ model: 'c', prompt: 'x' }), created)).toEqual(invalid('/completions'));
    expect(await sendResponses(backend, call({ model: 'r', input: 'x' }), created)).toEqual(invalid('/responses'));
    await backend.close();
  });

  it('sends a responses request to a chat server translated, and its refusals untranslated, without a call', async () => {
    const { fake, url } = await openAIServer();
    const backend = new OpenAIBackend({ url });
    const answer = await sendResponses(backend, call({ model: 'r', input: 'Hi' }), created);
    expect(answer).toMatchObject({ kind: 'answer', status: 200, json: { object: 'response', output: [{ type: 'message', content: [{ text: 'echo: Hi' }] }] } });
    expect(fake.requests.map((request) => request.path)).toEqual(['/v1/chat/completions']);
    const refused = await sendResponses(backend, call({ model: 'r', input: 'Hi', conversation: 'c' }), created);
    expect(refused).toMatchObject({ kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: expect.stringMatching(/^conversation: not supported/) });
    expect(fake.requests).toHaveLength(1);
    await backend.close();
  });

  it('ends embeddings for a Messages backend with a 400 naming it, and embeds on the emulator', async () => {
    const hosted = new AnthropicBackend({ name: 'hosted', url: 'http://127.0.0.1:9', apiKey: 'k' });
    expect(await sendEmbeddings(hosted, call({ model: 'e', input: 'x' }))).toMatchObject({ kind: 'error', status: 400, retryable: false, message: expect.stringContaining('backend hosted serves the Messages API') });
    await hosted.close();
    expect(await sendEmbeddings(new EmulatorBackend(), call({ model: 'e', input: ['a', 'b'] }))).toMatchObject({ kind: 'answer', json: { object: 'list', data: [{ index: 0 }, { index: 1 }] } });
  });
});
