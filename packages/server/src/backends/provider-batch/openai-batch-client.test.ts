import { describe, expect, it, vi } from 'vitest';
import { openAICompletion } from '../../../test-support/fakes/fake-answers.js';
import { FakeOpenAIBatches, type FakeOpenAIBatchesOptions } from '../../../test-support/fakes/fake-openai-batches.js';
import { OpenAIBatchClient } from './openai-batch-client.js';
import { openAIBatchStatus } from './openai-batch-lines.js';
import { clock, closeAfterTest, collect, failure, START_MS } from '../../../test-support/fakes/provider-batch-kit.js';
import { ProviderBatchError, type ProviderBatchLine, type ProviderLineResult } from './provider-batch-client.js';

const API_KEY = 'sk-openai-batch-test-0123456789';
const ENDPOINT = '/v1/chat/completions';

async function setup(options: FakeOpenAIBatchesOptions = {}): Promise<{ fake: FakeOpenAIBatches; client: OpenAIBatchClient }> {
  const fake = await FakeOpenAIBatches.start({ apiKey: API_KEY, now: () => clock.nowMs, ...options });
  const client = new OpenAIBatchClient({ url: fake.url, apiKey: API_KEY });
  closeAfterTest(client, fake);
  return { fake, client };
}

const signal = new AbortController().signal;

function line(customId: string, text: string, model = 'gpt-4o-mini'): ProviderBatchLine {
  return { customId, body: `{"model": ${JSON.stringify(model)}, "max_tokens": 1.50e2, "messages": [{"role": "user", "content": ${JSON.stringify(text)}}]}` };
}

function lines(...ids: string[]): ProviderBatchLine[] {
  return ids.map((id) => line(id, `say ${id}`));
}

function submit(client: OpenAIBatchClient, batchLines: ProviderBatchLine[], tag = 'sub_1', abort = signal): Promise<{ providerBatchId: string }> {
  return client.submit({ tag, endpoint: ENDPOINT, lines: batchLines }, abort);
}

function outcomes(results: ProviderLineResult[]): [string, string][] {
  return results.map((result) => [result.customId, result.outcome.type]);
}

describe('OpenAIBatchClient', () => {
  it('uploads the input file, creates the batch with its tag, polls, and reads the output then the error file', async () => {
    const script = (customId: string) => (customId === 'bad' ? { status: 400, type: 'invalid_request_error', message: 'max_tokens is too large' } : 'succeed' as const);
    const { fake, client } = await setup({ recordBodies: true, script, timing: { delayMs: 60_000 } });
    const batchLines = [line('a-1', 'Hello ünïcödé ☃'), line('bad', 'x'), line('c-3', 'y')];
    const { providerBatchId } = await submit(client, batchLines, 'sub_42');

    const [upload, create] = fake.calls;
    expect(upload).toMatchObject({ method: 'POST', path: '/v1/files' });
    expect(upload?.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'content-length': expect.stringMatching(/^[1-9][0-9]*$/) });
    expect(upload?.headers).not.toHaveProperty('transfer-encoding');
    const [file] = [...fake.files.values()];
    expect(file?.purpose).toBe('batch');
    expect(file?.filename).toBe('batchd-sub_42.jsonl');
    const expected = batchLines.map((l) => `{"custom_id":"${l.customId}","method":"POST","url":"${ENDPOINT}","body":${l.body}}\n`).join('');
    expect(file?.content.toString('utf8')).toBe(expected);
    expect(create).toMatchObject({ method: 'POST', path: '/v1/batches' });
    expect(JSON.parse(create?.body ?? '')).toEqual({ input_file_id: [...fake.files.keys()][0], endpoint: ENDPOINT, completion_window: '24h', metadata: { batchd_submission: 'sub_42' } });

    expect(await client.retrieve(providerBatchId, signal)).toEqual({ state: 'in_progress', counts: { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    await expect(collect(client.results(providerBatchId, signal))).rejects.toMatchObject({ retryable: true });
    clock.nowMs += 60_000;
    const ended = await client.retrieve(providerBatchId, signal);
    const files = [`file-out-${providerBatchId}`, `file-err-${providerBatchId}`].map((id) => `${new URL(fake.url).origin}/v1/files/${id}/content`);
    expect({ ...ended, results: ended.results?.map(String) }).toEqual({ state: 'ended', counts: { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 }, results: files });
    const asked = fake.calls.length;
    // The status the poll read says where the results are: the batch is not asked for again.
    expect(await collect(client.results(providerBatchId, signal, ended))).toEqual([
      { customId: 'a-1', outcome: { type: 'succeeded', body: openAICompletion(JSON.parse(batchLines[0]!.body)) } },
      { customId: 'c-3', outcome: { type: 'succeeded', body: openAICompletion(JSON.parse(batchLines[2]!.body)) } },
      { customId: 'bad', outcome: { type: 'errored', status: 400, errorType: 'invalid_request_error', message: 'max_tokens is too large' } },
    ]);
    expect(fake.calls.slice(asked).map((call) => `${new URL(fake.url).origin}${call.path}`)).toEqual(files);
    // Without it, the batch is asked for first.
    expect(await collect(client.results(providerBatchId, signal))).toHaveLength(3);
    expect(fake.calls.slice(asked + 2).map((call) => call.path)).toEqual([`/v1/batches/${providerBatchId}`, ...files.map((url) => new URL(url).pathname)]);
    expect(fake.directCalls).toBe(0);
    expect(fake.submissions).toEqual([{ id: providerBatchId, customIds: ['a-1', 'bad', 'c-3'], tag: 'sub_42' }]);
  });

  it('cancels: requests not done end canceled, and cancelling an ended batch changes nothing', async () => {
    const { fake, client } = await setup({ timing: { delayMs: 1000, perRequestMs: 1000, cancelDelayMs: 5000 } });
    const { providerBatchId } = await submit(client, lines('r0', 'r1', 'r2', 'r3'));
    clock.nowMs += 2000;
    await client.cancel(providerBatchId, signal);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'POST', path: `/v1/batches/${providerBatchId}/cancel` });
    expect(await client.retrieve(providerBatchId, signal)).toMatchObject({ state: 'canceling', counts: { processing: 2, succeeded: 2 } });
    clock.nowMs += 5000;
    expect(await client.retrieve(providerBatchId, signal)).toMatchObject({ state: 'ended', counts: { processing: 0, succeeded: 2, errored: 0, canceled: 2, expired: 0 } });
    expect(outcomes(await collect(client.results(providerBatchId, signal)))).toEqual([['r0', 'succeeded'], ['r1', 'succeeded'], ['r2', 'canceled'], ['r3', 'canceled']]);
    await client.cancel(providerBatchId, signal);
    expect((await failure(client.cancel('batch_missing', signal))).status).toBe(404);
  });

  it('maps expiry from batch_expired lines, and leaves requests in neither file to the caller', async () => {
    const script = (customId: string) => (customId.startsWith('slow') ? 'never' as const : 'succeed' as const);
    for (const omitUnfinished of [false, true]) {
      const { client } = await setup({ script, omitUnfinished });
      const { providerBatchId } = await submit(client, lines('fast', 'slow-1', 'slow-2'));
      expect((await client.retrieve(providerBatchId, signal)).state).toBe('in_progress');
      clock.nowMs += 24 * 3_600_000;
      expect(await client.retrieve(providerBatchId, signal)).toMatchObject({ state: 'ended', counts: { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 2 } });
      const expected: [string, string][] = omitUnfinished ? [['fast', 'succeeded']] : [['fast', 'succeeded'], ['slow-1', 'expired'], ['slow-2', 'expired']];
      expect(outcomes(await collect(client.results(providerBatchId, signal)))).toEqual(expected);
    }
  });

  it('reports a batch that failed validation, with its reasons and no results', async () => {
    const { fake, client } = await setup();
    const { providerBatchId } = await submit(client, [line('a', 'a', 'gpt-4o'), line('b', 'b', 'gpt-4o-mini')]);
    const status = await client.retrieve(providerBatchId, signal);
    expect(status).toMatchObject({ state: 'ended', failure: 'line 2: every line must use the same model' });
    expect(await collect(client.results(providerBatchId, signal))).toEqual([]);
    expect(fake.submissions[0]?.failed).toBe(true);
    expect(fake.timesSubmitted().size).toBe(0);
  });

  it('reads every status of the Batch API', () => {
    const batch = (status: string) => ({ status, request_counts: { total: 10, completed: 4, failed: 1 } });
    expect(['validating', 'in_progress', 'finalizing', 'cancelling', 'completed', 'expired', 'cancelled', 'failed'].map((status) => openAIBatchStatus(batch(status)))).toEqual([
      { state: 'in_progress', counts: { processing: 5, succeeded: 4, errored: 1, canceled: 0, expired: 0 } },
      { state: 'in_progress', counts: { processing: 5, succeeded: 4, errored: 1, canceled: 0, expired: 0 } },
      { state: 'in_progress', counts: { processing: 5, succeeded: 4, errored: 1, canceled: 0, expired: 0 } },
      { state: 'canceling', counts: { processing: 5, succeeded: 4, errored: 1, canceled: 0, expired: 0 } },
      { state: 'ended', counts: { processing: 0, succeeded: 4, errored: 6, canceled: 0, expired: 0 } },
      { state: 'ended', counts: { processing: 0, succeeded: 4, errored: 1, canceled: 0, expired: 5 } },
      { state: 'ended', counts: { processing: 0, succeeded: 4, errored: 1, canceled: 5, expired: 0 } },
      { state: 'ended', counts: { processing: 0, succeeded: 4, errored: 6, canceled: 0, expired: 0 }, failure: 'the provider failed the batch' },
    ]);
    expect(() => openAIBatchStatus({ status: 'paused' })).toThrow(ProviderBatchError);
  });

  it('reports a 429 with its retry-after, then succeeds; 5xx and drops are retryable, 4xx not, and the key never shows', async () => {
    const { fake, client } = await setup({ retryAfterSeconds: 3 });
    fake.inject('upload', 429, 500);
    expect(await failure(submit(client, lines('a')))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 3000 });
    expect(await failure(submit(client, lines('a')))).toMatchObject({ status: 500, retryable: true });
    fake.inject('create', 'drop');
    expect(await failure(submit(client, lines('a')))).toMatchObject({ status: 0, retryable: true });
    const { providerBatchId } = await submit(client, lines('a'));
    expect(fake.submissions.map((submission) => submission.id)).toEqual([providerBatchId]);
    expect(fake.timesSubmitted()).toEqual(new Map([['a', 1]]));
    fake.inject('list', 529);
    expect(await failure(client.find({ tag: 'x', createdAfterMs: START_MS, requestCount: 1, exclude: [] }, signal))).toMatchObject({ status: 529, retryable: true });
    const wrongKey = new OpenAIBatchClient({ url: fake.url, apiKey: 'sk-wrong-key-987654' });
    closeAfterTest(wrongKey);
    const denied = await failure(wrongKey.retrieve(providerBatchId, signal));
    expect(denied).toMatchObject({ status: 401, retryable: false });
    expect(denied.message).not.toContain('sk-wrong-key-987654');
  });

  it('refuses a submission over the limits without calling the provider', async () => {
    const { fake } = await setup();
    const client = new OpenAIBatchClient({ url: fake.url, apiKey: API_KEY, limits: { maxRequests: 2 } });
    closeAfterTest(client);
    expect(client.limits).toEqual({ maxRequests: 2, maxBytes: 200_000_000 });
    expect(await failure(submit(client, lines('a', 'b', 'c')))).toMatchObject({ retryable: false });
    expect(fake.calls).toEqual([]);
  });

  it('finds a create the provider accepted but never answered by its tag, paging, and not a wrong one', async () => {
    const { fake, client } = await setup();
    await submit(client, lines('a'), 'sub_other');
    fake.inject('create', 'hold');
    const abort = new AbortController();
    const lost = submit(client, lines('a', 'b'), 'sub_lost', abort.signal);
    await vi.waitFor(() => expect(fake.submissions).toHaveLength(2));
    abort.abort();
    expect(await failure(lost)).toMatchObject({ retryable: true });
    const held = fake.submissions[1]!.id;
    for (let index = 0; index < 110; index += 1) await submit(client, lines('n'), `sub_n${index}`);

    const intent = { tag: 'sub_lost', createdAfterMs: START_MS, requestCount: 2, exclude: [] };
    expect(await client.find(intent, signal)).toBe(held);
    expect(await client.find({ ...intent, exclude: [held] }, signal)).toBeUndefined();
    expect(await client.find({ ...intent, tag: 'sub_never' }, signal)).toBeUndefined();
    expect(fake.calls.filter((call) => call.method === 'GET' && call.path === '/v1/batches').length).toBe(6);
    expect(await client.find({ ...intent, createdAfterMs: START_MS + 3_600_000 }, signal)).toBeUndefined();
    expect(fake.calls.filter((call) => call.method === 'GET' && call.path === '/v1/batches').length).toBe(7);
  });
});
