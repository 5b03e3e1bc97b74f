import { describe, expect, it } from 'vitest';
import type { BackendOutcome } from '../backends/backend.js';
import { OpenAIBackend, type OpenAIBackendOptions } from '../backends/openai/openai-backend.js';
import { backendAgainstFake } from '../../test-support/fakes/backend-against-fake.js';
import { openAICompletion } from '../../test-support/fakes/fake-answers.js';
import type { FakeFault } from '../../test-support/fakes/fake-provider.js';
import { fromOpenAI } from './from-openai.js';
import { sendMessages } from './send-messages.js';
import { toOpenAI } from './to-openai.js';

const API_KEY = 'sk-openai-test-abcdef';

const params = {
  model: 'claude-compatible',
  max_tokens: 128,
  system: 'You are a weather bot.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo? ☂' }, { type: 'image', source: { type: 'url', url: 'https://example.com/sky.png' } }] },
  ],
  tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  tool_choice: { type: 'auto' },
  temperature: 0,
  top_p: 1,
  stop_sequences: ['Oslo'],
  metadata: { user_id: 'u-9' },
};

const setup = backendAgainstFake('openai', API_KEY, (options: OpenAIBackendOptions) => new OpenAIBackend(options));

function send(backend: OpenAIBackend, callParams: Record<string, unknown> = params): Promise<BackendOutcome> {
  return sendMessages(backend, { params: callParams, signal: new AbortController().signal });
}

function translated(callParams: Record<string, unknown>): Record<string, unknown> {
  const result = toOpenAI(callParams);
  if ('error' in result) throw new Error(result.error);
  return { ...result.body };
}

describe('sendMessages to an OpenAI-compatible backend', () => {
  it('POSTs the translated params to {url}/chat/completions with a bearer key', async () => {
    const { fake, backend: openai } = await setup();
    await send(openai);
    const [received] = fake.requests;
    expect(received?.path).toBe('/v1/chat/completions');
    expect(received?.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' });
    expect(received?.body).toEqual(translated(params));
  });

  it('sends mapped model names and no authorization without a key', async () => {
    const { fake, backend: mapped } = await setup({ apiKey: undefined }, { apiKey: undefined, modelMap: { 'claude-compatible': 'llama-3.1-8b' } });
    const outcome = await send(mapped);
    expect(fake.requests[0]?.body).toEqual({ ...translated(params), model: 'llama-3.1-8b' });
    expect(fake.requests[0]?.headers).not.toHaveProperty('authorization');
    expect(outcome).toMatchObject({ kind: 'message', message: { model: 'llama-3.1-8b' } });
  });

  it('answers the completion as the Message fromOpenAI builds', async () => {
    const { fake, backend: openai } = await setup();
    const outcome = await send(openai);
    const expected = fromOpenAI(openAICompletion(fake.requests[0]?.body), { model: params.model, stopSequences: params.stop_sequences });
    expect(outcome).toEqual({ kind: 'message', ...expected });
    expect(outcome).toMatchObject({
      kind: 'message',
      message: { content: [{ type: 'text', text: 'echo: Weather in ' }], stop_reason: 'stop_sequence', stop_sequence: 'Oslo' },
    });
  });

  it('answers a forced tool call as a tool_use block', async () => {
    const { backend: openai } = await setup();
    const outcome = await send(openai, { ...params, tool_choice: { type: 'tool', name: 'get_weather' } });
    expect(outcome).toMatchObject({
      kind: 'message',
      message: { stop_reason: 'tool_use', content: [{ type: 'tool_use', name: 'get_weather', input: {} }] },
    });
  });

  it('rejects untranslatable params without calling the server', async () => {
    const { fake, backend: openai } = await setup();
    expect(await send(openai, { ...params, top_k: 3 })).toEqual({
      kind: 'error',
      retryable: false,
      status: 400,
      errorType: 'invalid_request_error',
      message: 'top_k: not supported by the OpenAI-compatible backend',
    });
    expect(fake.requests).toHaveLength(0);
  });

  const faults: Array<[FakeFault, Partial<BackendOutcome>]> = [
    [429, { retryable: true, status: 429, errorType: 'rate_limit_error', message: 'injected 429', retryAfterMs: 1000 }],
    [529, { retryable: true, status: 529, errorType: 'overloaded_error' }],
    [500, { retryable: true, status: 500, errorType: 'api_error', message: 'injected 500' }],
    [400, { retryable: false, status: 400, errorType: 'invalid_request_error', message: 'injected 400' }],
    [404, { retryable: false, status: 404, errorType: 'not_found_error' }],
    [422, { retryable: false, status: 422, errorType: 'invalid_request_error' }],
    ['drop', { retryable: true, status: 0, errorType: 'api_error' }],
    ['garbage', { retryable: true, status: 200, errorType: 'api_error', message: 'invalid response body' }],
  ];

  it.each(faults)('answers fault %s with the right outcome', async (fault, expected) => {
    const { fake, backend: openai } = await setup();
    fake.inject(fault);
    expect(await send(openai)).toMatchObject({ kind: 'error', ...expected });
    expect(await send(openai)).toMatchObject({ kind: 'message' });
  });

  it('treats a completion it cannot read as an invalid body', async () => {
    const { backend: openai } = await setup({ respond: () => ({ object: 'chat.completion', choices: [] }) });
    expect(await send(openai)).toMatchObject({ kind: 'error', retryable: true, status: 200, message: 'invalid response body: no choices' });
  });

  it('aborts a stalled call at the timeout as retryable', async () => {
    // Long enough that the call after it, on a loaded machine, still answers within the timeout.
    const { fake, backend: openai } = await setup({}, { timeoutMs: 1000 });
    fake.inject('stall');
    expect(await send(openai)).toMatchObject({ kind: 'error', retryable: true, status: 0, errorType: 'timeout_error' });
    expect(await send(openai)).toMatchObject({ kind: 'message' });
  });

  it('never puts the API key in an outcome', async () => {
    const wrongKey = 'sk-wrong-key-555';
    const { fake, backend: wrong } = await setup({}, { apiKey: wrongKey });
    const outcome = await send(wrong);
    expect(outcome).toMatchObject({ kind: 'error', retryable: false, status: 401, errorType: 'authentication_error' });
    expect(JSON.stringify(outcome)).not.toContain(wrongKey);
  });

  it('reuses keep-alive connections', async () => {
    const { fake, backend: openai } = await setup();
    for (let index = 0; index < 20; index += 1) await send(openai);
    expect(fake.requests).toHaveLength(20);
    expect(fake.connections).toBeLessThan(20);
  });

  it('exposes x-ratelimit exhaustion from the latest response', async () => {
    const { backend: openai } = await setup({ rateLimit: { requests: 1, windowMs: 60_000 } });
    expect(await send(openai)).toMatchObject({ kind: 'message' });
    expect(openai.rateLimit().exhaustedUntilMs).toBeGreaterThan(Date.now());
    expect(await send(openai)).toMatchObject({ kind: 'error', retryable: true, status: 429, errorType: 'rate_limit_error' });
  });
});
