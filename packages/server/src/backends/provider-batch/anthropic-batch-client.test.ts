import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { anthropicMessage } from '../../../test-support/fakes/fake-answers.js';
import { FakeAnthropicBatches, type FakeAnthropicBatchesOptions } from '../../../test-support/fakes/fake-anthropic-batches.js';
import { AnthropicBatchClient, anthropicLineResult } from './anthropic-batch-client.js';
import { clock, closeAfterTest, collect, failure, START_MS } from '../../../test-support/fakes/provider-batch-kit.js';
import { ProviderBatchError, type ProviderBatchLine, type ProviderLineResult } from './provider-batch-client.js';

const API_KEY = 'sk-ant-batch-test-0123456789';

async function setup(options: FakeAnthropicBatchesOptions = {}): Promise<{ fake: FakeAnthropicBatches; client: AnthropicBatchClient }> {
  const fake = await FakeAnthropicBatches.start({ apiKey: API_KEY, now: () => clock.nowMs, ...options });
  const client = new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY });
  closeAfterTest(client, fake);
  return { fake, client };
}

const signal = new AbortController().signal;

function line(customId: string, text: string): ProviderBatchLine {
  return { customId, body: `{"model": "claude-haiku-4-5", "max_tokens": 1.50e2, "messages": [{"role": "user", "content": ${JSON.stringify(text)}}]}` };
}

function submit(client: AnthropicBatchClient, lines: ProviderBatchLine[], abort = signal): Promise<{ providerBatchId: string }> {
  return client.submit({ tag: 'sub_1', endpoint: '/v1/chat/completions', lines }, abort);
}

describe('AnthropicBatchClient', () => {
  it('submits the bodies exactly as given, polls, and streams the results unchanged', async () => {
    const script = (customId: string) => (customId === 'bad' ? { status: 400, type: 'invalid_request_error', message: 'max_tokens: too large' } : customId === 'boom' ? { status: 500, type: 'api_error', message: 'internal' } : 'succeed' as const);
    const { fake, client } = await setup({ recordBodies: true, script, timing: { delayMs: 60_000 } });
    const lines = [line('a-1', 'Hello ünïcödé ☃'), line('bad', 'x'), line('boom', 'y')];
    const { providerBatchId } = await submit(client, lines);

    const [create] = fake.calls;
    expect(create).toMatchObject({ method: 'POST', path: '/v1/messages/batches' });
    expect(create?.headers).toMatchObject({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    const body = `{"requests":[${lines.map((l) => `{"custom_id":"${l.customId}","params":${l.body}}`).join(',')}]}`;
    expect(create?.body).toBe(body);
    // Sent with its length, as proxies in front of a provider may refuse a chunked upload.
    expect(create?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(create?.headers).not.toHaveProperty('transfer-encoding');

    expect(await client.retrieve(providerBatchId, signal)).toEqual({ state: 'in_progress', counts: { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    await expect(collect(client.results(providerBatchId, signal))).rejects.toMatchObject({ retryable: true });
    clock.nowMs += 60_000;
    const ended = await client.retrieve(providerBatchId, signal);
    const resultsUrl = `${fake.url}/v1/messages/batches/${providerBatchId}/results`;
    expect({ ...ended, results: ended.results?.map(String) }).toEqual({ state: 'ended', counts: { processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 0 }, results: [resultsUrl] });

    const message = anthropicMessage(JSON.parse(lines[0]!.body));
    const asked = fake.calls.length;
    // The status the poll read says where the results are: the batch is not asked for again.
    expect(await collect(client.results(providerBatchId, signal, ended))).toEqual([
      { customId: 'a-1', outcome: { type: 'succeeded', body: message, resultText: JSON.stringify({ type: 'succeeded', message }) } },
      { customId: 'bad', outcome: { type: 'errored', status: 400, errorType: 'invalid_request_error', message: 'max_tokens: too large' } },
      { customId: 'boom', outcome: { type: 'errored', status: 500, errorType: 'api_error', message: 'internal' } },
    ]);
    expect(fake.calls.slice(asked).map((call) => call.path)).toEqual([new URL(resultsUrl).pathname]);
    expect(fake.directCalls).toBe(0);
    expect(fake.submissions).toEqual([{ id: providerBatchId, customIds: ['a-1', 'bad', 'boom'] }]);
  });

  it('reads results lines: an errored envelope with extra keys, and a result type it does not know as errored', () => {
    const errored = { custom_id: 'e', result: { type: 'errored', error: { type: 'error', error: { details: { x: 1 }, type: 'overloaded_error', message: 'busy' }, request_id: null } } };
    expect(anthropicLineResult(JSON.stringify(errored))).toEqual({ customId: 'e', outcome: { type: 'errored', status: 500, errorType: 'overloaded_error', message: 'busy' } });
    expect(anthropicLineResult('{"custom_id":"f","result":{"type":"deferred"}}').outcome).toEqual({ type: 'errored', status: 500, errorType: 'api_error', message: 'the provider reported an unknown result type "deferred"' });
    expect(() => anthropicLineResult('{"custom_id":"g","result":{"type":"succeeded"}}')).toThrow(ProviderBatchError);
  });

  it("keeps a succeeded line's result object as the provider wrote it, and parses a line framed otherwise whole", () => {
    const result = '{"type":"succeeded","message":{"id":"m","content":[{"type":"text","text":"caf\\u00e9 \\"q\\" }"}],"usage":{"input_tokens":1.0}},"extra":[]}';
    expect(anthropicLineResult(`{"custom_id":"m-1","result":${result}}`)).toEqual({
      customId: 'm-1',
      outcome: { type: 'succeeded', body: JSON.parse(result).message, resultText: result },
    });
    // Keys after the result, a key given twice, spaces or an escaped custom_id: the line is parsed whole and the result serialized again.
    const again = JSON.stringify(JSON.parse(result));
    for (const line of [
      `{"custom_id":"m-1","result":${result},"other":1}`,
      `{"custom_id":"m-1","result":{"type":"errored"},"result":${result}}`,
      `{"custom_id": "m-1", "result": ${result}}`,
      `{"custom_id":"m\\u002d1","result":${result}}`,
    ]) {
      expect(anthropicLineResult(line)).toEqual({ customId: 'm-1', outcome: { type: 'succeeded', body: JSON.parse(result).message, resultText: again } });
    }
    expect(() => anthropicLineResult(`{"custom_id":"m-1","result":${result},}`)).toThrow(ProviderBatchError);
  });

  it('passes through whatever the provider puts in a message', async () => {
    const custom = { id: 'msg_x', type: 'message', content: [{ type: 'future_block', data: [1, null] }], usage: { service_tier: 'batch' }, extra: { deep: true } };
    const { client } = await setup({ answer: () => custom });
    const { providerBatchId } = await submit(client, [line('only', 'hi')]);
    const resultText = JSON.stringify({ type: 'succeeded', message: custom });
    expect(await collect(client.results(providerBatchId, signal))).toEqual([{ customId: 'only', outcome: { type: 'succeeded', body: custom, resultText } }]);
  });

  it('cancels: requests not done end canceled, and cancelling an ended batch changes nothing', async () => {
    const { fake, client } = await setup({ timing: { delayMs: 1000, perRequestMs: 1000, cancelDelayMs: 5000 } });
    const { providerBatchId } = await submit(client, ['r0', 'r1', 'r2', 'r3'].map((id) => line(id, id)));
    clock.nowMs += 2000;
    await client.cancel(providerBatchId, signal);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'POST', path: `/v1/messages/batches/${providerBatchId}/cancel` });
    expect((await client.retrieve(providerBatchId, signal)).state).toBe('canceling');
    clock.nowMs += 5000;
    expect(await client.retrieve(providerBatchId, signal)).toMatchObject({ state: 'ended', counts: { processing: 0, succeeded: 2, errored: 0, canceled: 2, expired: 0 } });
    const outcomes = (await collect(client.results(providerBatchId, signal))).map((result) => [result.customId, result.outcome.type]);
    expect(outcomes).toEqual([['r0', 'succeeded'], ['r1', 'succeeded'], ['r2', 'canceled'], ['r3', 'canceled']]);
    await client.cancel(providerBatchId, signal);
    expect((await failure(client.cancel('msgbatch_missing', signal))).status).toBe(404);
  });

  it('maps expiry: requests unfinished at the deadline end expired', async () => {
    const { client } = await setup({ script: (customId) => (customId.startsWith('slow') ? 'never' : 'succeed'), timing: { expiresAfterMs: 86_400_000 } });
    const { providerBatchId } = await submit(client, [line('fast', 'a'), line('slow-1', 'b'), line('slow-2', 'c')]);
    expect((await client.retrieve(providerBatchId, signal)).state).toBe('in_progress');
    clock.nowMs += 86_400_000;
    expect(await client.retrieve(providerBatchId, signal)).toMatchObject({ state: 'ended', counts: { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 2 } });
    const outcomes = (await collect(client.results(providerBatchId, signal))).map((result) => result.outcome.type);
    expect(outcomes).toEqual(['succeeded', 'expired', 'expired']);
  });

  it('reports a 429 with its retry-after, then succeeds; 5xx and drops are retryable, 4xx not, and the key never shows', async () => {
    const { fake, client } = await setup({ retryAfterSeconds: 7 });
    const { providerBatchId } = await submit(client, [line('a', 'a')]);
    fake.inject('retrieve', 429, 529, 500, 'drop');
    expect(await failure(client.retrieve(providerBatchId, signal))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000, errorType: 'rate_limit_error' });
    expect(await failure(client.retrieve(providerBatchId, signal))).toMatchObject({ status: 529, retryable: true, errorType: 'overloaded_error' });
    expect(await failure(client.retrieve(providerBatchId, signal))).toMatchObject({ status: 500, retryable: true });
    expect(await failure(client.retrieve(providerBatchId, signal))).toMatchObject({ status: 0, retryable: true });
    expect((await client.retrieve(providerBatchId, signal)).state).toBe('ended');

    fake.inject('create', 413);
    expect(await failure(submit(client, [line('b', 'b')]))).toMatchObject({ status: 413, retryable: false });
    const wrongKey = new AnthropicBatchClient({ url: fake.url, apiKey: 'sk-ant-wrong-key-987' });
    closeAfterTest(wrongKey);
    const denied = await failure(wrongKey.retrieve(providerBatchId, signal));
    expect(denied).toMatchObject({ status: 401, retryable: false });
    expect(denied.message).not.toContain('sk-ant-wrong-key-987');
  });

  it('gives up on a call the provider never answers after timeoutMs, as a retryable timeout', async () => {
    const { fake } = await setup();
    const client = new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY, timeoutMs: 300 });
    closeAfterTest(client);
    const { providerBatchId } = await submit(client, [line('a', 'a')]);
    fake.inject('retrieve', 'hold');
    expect(await failure(client.retrieve(providerBatchId, signal))).toMatchObject({ status: 0, retryable: true, errorType: 'timeout_error' });
    expect((await client.retrieve(providerBatchId, signal)).state).toBe('ended');
  });

  it('refuses a submission over the limits without calling the provider', async () => {
    const { fake } = await setup();
    const client = new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY, limits: { maxRequests: 2, maxBytes: 400 } });
    closeAfterTest(client);
    expect(client.limits).toEqual({ maxRequests: 2, maxBytes: 400 });
    expect(await failure(submit(client, ['a', 'b', 'c'].map((id) => line(id, id))))).toMatchObject({ retryable: false });
    expect(await failure(submit(client, [line('a', 'x'.repeat(400))]))).toMatchObject({ retryable: false });
    expect(await failure(submit(client, []))).toMatchObject({ retryable: false });
    expect(fake.calls).toEqual([]);
    expect(new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY }).limits).toEqual({ maxRequests: 100_000, maxBytes: 256_000_000 });
  });

  it('streams pages of lines as they come, and cuts off a body found over the limits before its end', async () => {
    const { fake } = await setup({ recordBodies: true });
    const pageOf = (page: number) => Array.from({ length: 1000 }, (_, i) => line(`p${page}-${i}`, 'x'.repeat(100)));
    const pagesRead: number[] = [];
    async function* pages(count: number): AsyncGenerator<ProviderBatchLine[]> {
      for (let page = 0; page < count; page += 1) {
        pagesRead.push(page);
        yield pageOf(page);
      }
    }
    const lineBytes = Buffer.byteLength(`{"custom_id":"p0-000","params":${line('p0-000', 'x'.repeat(100)).body}}`);
    const exact = new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY, limits: { maxRequests: 3000, maxBytes: 3000 * (lineBytes + 1) } });
    closeAfterTest(exact);
    const { providerBatchId } = await exact.submit({ tag: 'sub_1', endpoint: '', lines: pages(3) }, signal);
    expect(fake.submissions).toEqual([expect.objectContaining({ id: providerBatchId, customIds: [0, 1, 2].flatMap((page) => pageOf(page).map((l) => l.customId)) })]);
    expect(JSON.parse(fake.calls[0]!.body!).requests).toHaveLength(3000);

    for (const limits of [{ maxRequests: 2999, maxBytes: 1e9 }, { maxRequests: 3000, maxBytes: 2 * 1000 * (lineBytes + 1) + 500 }]) {
      const client = new AnthropicBatchClient({ url: fake.url, apiKey: API_KEY, limits });
      closeAfterTest(client);
      expect(await failure(client.submit({ tag: 'sub_2', endpoint: '', lines: pages(3) }, signal))).toMatchObject({ retryable: false, errorType: 'invalid_request_error' });
    }
    expect(fake.submissions).toHaveLength(1);
    expect(fake.calls).toHaveLength(1);
  });

  it('finds a create the provider accepted but never answered, and not a wrong one', async () => {
    const { fake, client } = await setup();
    await submit(client, ['a', 'b', 'c'].map((id) => line(id, id)));
    clock.nowMs += 60_000;
    const intentAt = clock.nowMs;
    await submit(client, ['a', 'b'].map((id) => line(id, id)));
    clock.nowMs += 1000;
    fake.inject('create', 'hold');
    const abort = new AbortController();
    const lost = submit(client, ['x', 'y', 'z'].map((id) => line(id, id)), abort.signal);
    await vi.waitFor(() => expect(fake.submissions).toHaveLength(3));
    abort.abort();
    expect(await failure(lost)).toMatchObject({ status: 0, retryable: true });
    const held = fake.submissions[2]!.id;
    clock.nowMs += 1000;
    for (let index = 0; index < 120; index += 1) await submit(client, [line('n', 'n')]);
    const { providerBatchId: later } = await submit(client, ['p', 'q', 'r'].map((id) => line(id, id)));

    const intent = { tag: 'sub_1', createdAfterMs: intentAt, requestCount: 3, exclude: [] };
    expect(await client.find(intent, signal)).toBe(held);
    expect(await client.find({ ...intent, exclude: [held] }, signal)).toBe(later);
    expect(await client.find({ ...intent, exclude: [held, later] }, signal)).toBeUndefined();
    expect(await client.find({ ...intent, requestCount: 4 }, signal)).toBeUndefined();
    expect(fake.calls.filter((call) => call.method === 'GET' && call.path === '/v1/messages/batches').length).toBeGreaterThan(4);
  });

  it('finds a create whose connection dropped after the provider accepted it', async () => {
    const { fake, client } = await setup();
    fake.inject('create', 'accept-drop');
    expect(await failure(submit(client, [line('a', 'a'), line('b', 'b')]))).toMatchObject({ status: 0, retryable: true });
    expect(fake.submissions).toHaveLength(1);
    expect(await client.find({ tag: 'sub_1', createdAfterMs: START_MS, requestCount: 2, exclude: [] }, signal)).toBe(fake.submissions[0]!.id);
  });

  it('sends the key only to its own origin: a results_url elsewhere is read from the results path', async () => {
    const { fake, client } = await setup({ resultsOrigin: 'http://127.0.0.2:9' });
    const { providerBatchId } = await submit(client, [line('a', 'a')]);
    expect((await collect(client.results(providerBatchId, signal))).map((result) => result.customId)).toEqual(['a']);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'GET', path: `/v1/messages/batches/${providerBatchId}/results` });
  });

  it('fails a download cut short with a retryable error', async () => {
    const { fake, client } = await setup();
    const { providerBatchId } = await submit(client, ['a', 'b', 'c', 'd'].map((id) => line(id, id)));
    fake.inject('results', 'cut');
    expect(await failure(collect(client.results(providerBatchId, signal)))).toMatchObject({ status: 0, retryable: true });
    expect(await collect(client.results(providerBatchId, signal))).toHaveLength(4);
  });

  it('streams a large results file: 20,000 lines of 2.5 KB each, memory bounded (collected garbage aside)', async () => {
    const text = 'z'.repeat(2500);
    const { client } = await setup({ answer: (body) => ({ type: 'message', content: [{ type: 'text', text }], echo: body }) });
    const lines = Array.from({ length: 20_000 }, (_, index) => ({ customId: `r${index}`, body: '{"model":"m"}' }));
    const { providerBatchId } = await submit(client, lines);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const retained = (): number => {
      gc();
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    const baseline = { rss: process.memoryUsage().rss, retained: retained() };
    const peak = { ...baseline };
    let count = 0;
    let bytes = 0;
    for await (const page of client.results(providerBatchId, signal)) {
      for (const result of page) {
        count += 1;
        if (result.outcome.type === 'succeeded') bytes += (result.outcome.body.content as { text: string }[])[0]!.text.length;
        if (count % 1000 !== 0) continue;
        peak.retained = Math.max(peak.retained, retained());
        peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
      }
    }
    expect(count).toBe(20_000);
    expect(bytes).toBe(50_000_000);
    const growthMiB = { rss: (peak.rss - baseline.rss) / 1048576, retained: (peak.retained - baseline.retained) / 1048576 };
    console.log(`memory growth while streaming 50 MB of results (MiB): ${JSON.stringify(growthMiB)}`);
    expect(growthMiB.retained).toBeLessThan(16);
    expect(growthMiB.rss).toBeLessThan(96);
  });
});
