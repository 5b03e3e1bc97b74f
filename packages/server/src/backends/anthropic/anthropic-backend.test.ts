import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { backendAgainstFake } from '../../../test-support/fakes/backend-against-fake.js';
import { anthropicMessage, anthropicTokenCount } from '../../../test-support/fakes/fake-answers.js';
import type { FakeFault } from '../../../test-support/fakes/fake-provider.js';
import type { BackendOutcome } from '../backend.js';
import { AnthropicBackend, type AnthropicBackendOptions } from './anthropic-backend.js';

const API_KEY = 'sk-ant-test-0123456789';

const params = {
  model: 'claude-sonnet-4-5',
  max_tokens: 256,
  system: [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Hello, ünïcödé ☃' }] },
    { role: 'assistant', content: 'Hi.' },
    { role: 'user', content: 'Say more' },
  ],
  temperature: 0.5,
  top_k: 40,
  thinking: { type: 'disabled' },
  metadata: { user_id: 'u-1' },
  stop_sequences: ['\n\nHuman:'],
  some_future_field: { nested: [1, null, true] },
};

const setup = backendAgainstFake('anthropic', API_KEY, (options: AnthropicBackendOptions) => new AnthropicBackend(options));

function send(backend: AnthropicBackend, signal = new AbortController().signal): Promise<BackendOutcome> {
  return backend.send({ params, signal });
}

describe('AnthropicBackend', () => {
  it('POSTs the params exactly as given, with the API headers', async () => {
    const { fake, backend: anthropic } = await setup();
    await send(anthropic);
    expect(fake.requests).toHaveLength(1);
    const [received] = fake.requests;
    expect(received?.path).toBe('/v1/messages');
    expect(received?.body).toEqual(params);
    expect(received?.headers).toMatchObject({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
  });

  it('sends the configured anthropic-version and name, and keeps a base path', async () => {
    const { fake, backend: prefixed } = await setup({}, (url) => ({ url: `${url}/proxy/`, anthropicVersion: '2026-10-21', name: 'proxied' }));
    expect(prefixed.name).toBe('proxied');
    const outcome = await send(prefixed);
    expect(fake.requests[0]?.path).toBe('/proxy/v1/messages');
    expect(fake.requests[0]?.headers['anthropic-version']).toBe('2026-10-21');
    expect(outcome).toMatchObject({ kind: 'error', retryable: false, status: 404, errorType: 'not_found_error' });
  });

  it("returns the provider's Message unchanged, and its text as written", async () => {
    const { backend: anthropic } = await setup();
    expect(await send(anthropic)).toEqual({ kind: 'message', message: anthropicMessage(params), messageText: JSON.stringify(anthropicMessage(params)) });
  });

  it('passes through whatever a provider puts in its Message', async () => {
    const custom = { ...anthropicMessage(params), content: [{ type: 'future_block', payload: [1, 2] }], extra: { x: 1 } };
    const { backend: anthropic } = await setup({ respond: () => custom });
    expect(await send(anthropic)).toEqual({ kind: 'message', message: custom, messageText: JSON.stringify(custom) });
  });

  it("keeps the Message's text as written when it fits on a line, numbers a double would change included", async () => {
    const exact = '{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use","id":"t","name":"pick","input":{"n":18446744073709551615}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}';
    const plain = exact.replace('18446744073709551615', '7');
    const pretty = JSON.stringify(JSON.parse(exact), null, 2).replace('18446744073709552000', '18446744073709551615');
    const answers = [exact, plain, pretty];
    const server = createServer((_request, response) => response.setHeader('content-type', 'application/json').end(answers.shift()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const anthropic = new AnthropicBackend({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: API_KEY });
    try {
      expect(await send(anthropic)).toEqual({ kind: 'message', message: JSON.parse(exact), messageText: exact });
      expect(await send(anthropic)).toEqual({ kind: 'message', message: JSON.parse(plain), messageText: plain });
      // Text on several lines cannot be a results line: the parsed message is kept alone.
      expect(await send(anthropic)).toEqual({ kind: 'message', message: JSON.parse(exact) });
    } finally {
      await anthropic.close();
      server.close();
    }
  });

  const faults: Array<[FakeFault, Partial<BackendOutcome>]> = [
    [429, { retryable: true, status: 429, errorType: 'rate_limit_error', message: 'injected 429', retryAfterMs: 1000 }],
    [529, { retryable: true, status: 529, errorType: 'overloaded_error', message: 'injected 529' }],
    [500, { retryable: true, status: 500, errorType: 'api_error', message: 'injected 500' }],
    [503, { retryable: true, status: 503, errorType: 'api_error' }],
    [408, { retryable: true, status: 408 }],
    [409, { retryable: true, status: 409 }],
    [400, { retryable: false, status: 400, errorType: 'invalid_request_error', message: 'injected 400' }],
    [403, { retryable: false, status: 403, errorType: 'permission_error' }],
    [404, { retryable: false, status: 404, errorType: 'not_found_error' }],
    [413, { retryable: false, status: 413, errorType: 'request_too_large' }],
    [422, { retryable: false, status: 422, errorType: 'invalid_request_error' }],
    ['drop', { retryable: true, status: 0, errorType: 'api_error' }],
    ['garbage', { retryable: true, status: 200, errorType: 'api_error', message: 'invalid response body' }],
  ];

  it.each(faults)('answers fault %s with the right outcome', async (fault, expected) => {
    const { fake, backend: anthropic } = await setup();
    fake.inject(fault);
    expect(await send(anthropic)).toMatchObject({ kind: 'error', ...expected });
    expect(await send(anthropic)).toMatchObject({ kind: 'message' });
  });

  it('treats a 2xx that is JSON but not a Message as an invalid body', async () => {
    const { backend: anthropic } = await setup({ respond: () => ({ type: 'error', error: { type: 'api_error', message: 'late' } }) });
    expect(await send(anthropic)).toMatchObject({ kind: 'error', retryable: true, status: 200, message: 'invalid response body' });
  });

  it('treats a 2xx nested deeper than batchd can write back as an invalid body, unparsed', async () => {
    let input: unknown = {};
    for (let level = 0; level < 300; level++) input = [input];
    const { backend: anthropic } = await setup({ respond: () => ({ type: 'message', role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 't', input }] }) });
    expect(await send(anthropic)).toMatchObject({ kind: 'error', retryable: true, status: 200, message: 'invalid response body' });
  });

  it('counts tokens at /v1/messages/count_tokens, sending the params text as given and answering the count as the provider wrote it', async () => {
    const { fake, backend: anthropic } = await setup();
    const countParams = { model: params.model, system: params.system, messages: params.messages, tools: [{ name: 't', input_schema: { type: 'object' } }] };
    const text = `{"model":"claude-sonnet-4-5","messages":${JSON.stringify(params.messages)}, "seed": 18446744073709551615}`;
    expect(await anthropic.countTokens({ params: countParams, signal: new AbortController().signal })).toEqual({ kind: 'count', count: anthropicTokenCount(countParams) });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/messages/count_tokens', body: countParams, headers: { 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' } });
    await anthropic.countTokens({ params: countParams, paramsText: text, signal: new AbortController().signal });
    expect(fake.requests[1]?.text).toBe(text);
  });

  it("answers a provider's refusal of a count classified, and a count without input_tokens as an invalid body", async () => {
    const { fake, backend: anthropic } = await setup();
    fake.inject(400);
    const call = { params: { model: 'm', messages: [] }, signal: new AbortController().signal };
    expect(await anthropic.countTokens(call)).toMatchObject({ kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error' });
    const { backend: odd } = await setup({ respond: () => ({ input_tokens: 'many' }) });
    expect(await odd.countTokens(call)).toMatchObject({ kind: 'error', retryable: true, status: 200, message: 'invalid response body' });
  });

  it('aborts a stalled call at the timeout as retryable', async () => {
    // Long enough that the call after it, on a loaded machine, still answers within the timeout.
    const { fake, backend: anthropic } = await setup({}, { timeoutMs: 1000 });
    fake.inject('stall');
    expect(await send(anthropic)).toEqual({
      kind: 'error',
      retryable: true,
      status: 0,
      errorType: 'timeout_error',
      message: 'provider did not answer in time',
    });
    expect(await send(anthropic)).toMatchObject({ kind: 'message' });
  });

  it("answers a caller's abort as retryable", async () => {
    const { fake, backend: anthropic } = await setup();
    fake.inject('stall');
    const controller = new AbortController();
    const pending = send(anthropic, controller.signal);
    while (fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'error', retryable: true, status: 0, message: 'request aborted' });
  });

  it('answers a refused connection as retryable with status 0', async () => {
    const { fake, backend: orphan } = await setup();
    await fake.close();
    expect(await send(orphan)).toMatchObject({ kind: 'error', retryable: true, status: 0, errorType: 'api_error' });
  });

  it('never puts the API key in an outcome', async () => {
    const wrongKey = 'sk-ant-wrong-key-987';
    const { fake, backend: wrong } = await setup({}, { apiKey: wrongKey });
    const outcome = await send(wrong);
    expect(outcome).toMatchObject({ kind: 'error', retryable: false, status: 401, errorType: 'authentication_error' });
    expect(JSON.stringify(outcome)).not.toContain(wrongKey);
    expect(fake.requests[0]?.headers['x-api-key']).toBe(wrongKey);
  });

  it('reuses keep-alive connections', async () => {
    const { fake, backend: anthropic } = await setup();
    for (let index = 0; index < 20; index += 1) await send(anthropic);
    expect(fake.requests).toHaveLength(20);
    expect(fake.connections).toBeLessThan(20);
  });

  it('opens at most `connections` connections', async () => {
    const { fake, backend: anthropic } = await setup({ latencyMs: 5 }, { connections: 2 });
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => send(anthropic)));
    expect(outcomes.every((outcome) => outcome.kind === 'message')).toBe(true);
    expect(fake.connections).toBeLessThanOrEqual(2);
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
  });

  it('answers calls over capacity with a retryable 429 carrying retry-after-ms', async () => {
    const { fake, backend: anthropic } = await setup({ latencyMs: 20, capacity: 1, capacityRetryAfterMs: 250 });
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => send(anthropic)));
    expect(outcomes.filter((outcome) => outcome.kind === 'message').length).toBeGreaterThanOrEqual(1);
    for (const outcome of outcomes.filter((each) => each.kind === 'error')) {
      expect(outcome).toMatchObject({ retryable: true, status: 429, errorType: 'rate_limit_error', retryAfterMs: 250 });
    }
    expect(fake.requests).toHaveLength(4);
  });

  it('exposes the rate-limit state of the latest response', async () => {
    const { backend: anthropic } = await setup({ rateLimit: { requests: 2, windowMs: 60_000 } });
    expect(anthropic.rateLimit()).toEqual({});
    await send(anthropic);
    expect(anthropic.rateLimit()).toEqual({});
    await send(anthropic);
    const exhaustedUntil = anthropic.rateLimit().exhaustedUntilMs;
    expect(exhaustedUntil).toBeGreaterThan(Date.now());
    expect(await send(anthropic)).toMatchObject({ kind: 'error', retryable: true, status: 429, errorType: 'rate_limit_error' });
    expect(anthropic.rateLimit().exhaustedUntilMs).toBe(exhaustedUntil);
  });

  it('answers every call under random faults with a message or a retryable error', async () => {
    const { backend: anthropic } = await setup({ faults: { rate: 0.5, seed: 7 } });
    const outcomes: BackendOutcome[] = [];
    for (let index = 0; index < 30; index += 1) outcomes.push(await send(anthropic));
    expect(outcomes.some((outcome) => outcome.kind === 'message')).toBe(true);
    expect(outcomes.some((outcome) => outcome.kind === 'error')).toBe(true);
    expect(outcomes.every((outcome) => outcome.kind === 'message' || outcome.retryable)).toBe(true);
  });
});
