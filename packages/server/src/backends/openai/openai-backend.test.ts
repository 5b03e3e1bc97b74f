import { describe, expect, it } from 'vitest';
import { backendAgainstFake } from '../../../test-support/fakes/backend-against-fake.js';
import { openAICompletion } from '../../../test-support/fakes/fake-answers.js';
import { fakeEmbeddings } from '../../../test-support/fakes/fake-openai-answers.js';
import { OpenAIBackend, type OpenAIBackendOptions } from './openai-backend.js';

const API_KEY = 'sk-openai-test-abcdef';

const setup = backendAgainstFake('openai', API_KEY, (options: OpenAIBackendOptions) => new OpenAIBackend(options));

describe('OpenAIBackend.sendChat', () => {
  const body = { model: 'gpt-small', messages: [{ role: 'user', content: 'Hi' }], seed: 3, logprobs: true };
  const sendChat = (backend: OpenAIBackend) => backend.sendChat({ params: body, signal: new AbortController().signal });

  it('posts a chat completions body as given, its model mapped, and answers the completion as given', async () => {
    const { fake, backend: openai } = await setup({}, { modelMap: { 'gpt-small': 'llama-3.1-8b' } });
    const outcome = await sendChat(openai);
    const sent = { ...body, model: 'llama-3.1-8b' };
    expect(fake.requests[0]!.body).toEqual(sent);
    expect(outcome).toEqual({ kind: 'completion', completion: openAICompletion(sent) });
  });

  it('sends the stored body text with its model mapped, its numbers as written', async () => {
    const { fake, backend: openai } = await setup({}, { modelMap: { 'gpt-small': 'llama-3.1-8b' } });
    const paramsText = '{"model":"gpt-small","messages":[{"role":"user","content":"Hi"}],"seed":9223372036854775807}';
    await openai.sendChat({ params: JSON.parse(paramsText) as Record<string, unknown>, paramsText, signal: new AbortController().signal });
    expect(fake.requests[0]!.text).toBe(paramsText.replace('gpt-small', 'llama-3.1-8b'));
  });

  it('classifies failures as send does, and a 2xx without choices as an invalid response body', async () => {
    const { fake, backend: openai } = await setup();
    fake.inject(429, 'garbage');
    expect(await sendChat(openai)).toMatchObject({ kind: 'error', retryable: true, status: 429, errorType: 'rate_limit_error' });
    expect(await sendChat(openai)).toMatchObject({ kind: 'error', retryable: true, status: 200, message: 'invalid response body: not a chat completion' });
  });
});

describe('OpenAIBackend.post', () => {
  it("posts to the endpoint named under the server's base URL, the model mapped, and answers the body parsed", async () => {
    const { fake, backend: openai } = await setup({}, { modelMap: { embed: 'bge-small' } });
    const body = { model: 'embed', input: ['a', 'bc'] };
    const answer = await openai.post('/embeddings', body, new AbortController().signal);
    const sent = { ...body, model: 'bge-small' };
    expect(fake.requests.map((request) => [request.path, request.body])).toEqual([['/v1/embeddings', sent]]);
    expect(answer).toEqual({ kind: 'answer', status: 200, json: fakeEmbeddings(sent) });
    expect(openai.responsesApi).toBe(false);
    expect((await setup({}, { responsesApi: true })).backend.responsesApi).toBe(true);
  });
});
