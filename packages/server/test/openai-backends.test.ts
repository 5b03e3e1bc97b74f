import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAICompletion } from '../test-support/fakes/fake-answers.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';
import { chatLine, expectResponse, fileLines, openAIClient, uploadLines, waitForBatch } from '../test-support/api/openai.js';

/**
 * OpenAI batch requests on real providers (fake ones, over HTTP): a chat completions server gets
 * each body unchanged and its completion is stored unchanged; an Anthropic server gets the body
 * translated to Messages params and its `Message` comes back as a chat completion.
 */

const UPSTREAM_KEY = 'sk-upstream-secret';
let chat: FakeProvider;
let messages: FakeProvider;
let client: OpenAI;

beforeAll(async () => {
  chat = await FakeProvider.start({ shape: 'openai' });
  messages = await FakeProvider.start({ shape: 'anthropic', apiKey: UPSTREAM_KEY });
  const dir = await makeTempDir('batchd-openai-backends-');
  const config = join(dir, 'batchd.json');
  await writeFile(
    config,
    JSON.stringify({
      backends: [
        { name: 'gpu', type: 'openai', url: chat.url, models: ['gpt-*'] },
        { name: 'hosted', type: 'anthropic', url: messages.url, api_key_env: 'HOSTED_KEY', models: ['claude-*'] },
      ],
    }),
  );
  const server = await startServer({ flags: { config, 'max-attempts': 3 }, env: { HOSTED_KEY: UPSTREAM_KEY } });
  client = openAIClient(server.url);
});

afterAll(async () => {
  await chat.close();
  await messages.close();
});

async function run(lines: unknown[]) {
  const file = await uploadLines(client, lines);
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  return waitForBatch(client, batch.id);
}

describe('OpenAI batches on provider backends', () => {
  it('sends bodies to a chat completions server unchanged and stores its completions unchanged', async () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }],
      max_completion_tokens: 40,
      seed: 7,
      response_format: { type: 'json_object' },
      logprobs: true,
      n: 2,
    };
    const done = await run([{ custom_id: 'as-is', method: 'POST', url: '/v1/chat/completions', body }]);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 1, failed: 0 } });
    const received = chat.requests.filter((request) => (request.body as { seed?: number }).seed === 7);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ path: '/v1/chat/completions', body });
    const [line] = await fileLines(client, done.output_file_id!);
    expect(expectResponse(line!, 'as-is', 200)).toEqual(openAICompletion(body));
  });

  it('retries a chat completions server as it retries message requests, and reports its refusals', async () => {
    chat.inject(529, 'drop');
    const retried = await run([chatLine('retried', 'try again')]);
    expect(retried.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    expect(chat.requests.filter((request) => JSON.stringify(request.body).includes('try again'))).toHaveLength(3);

    chat.inject(400);
    const refused = await run([chatLine('refused', 'no')]);
    expect(refused).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 0, failed: 1 } });
    const [line] = await fileLines(client, refused.error_file_id!);
    expect(expectResponse(line!, 'refused', 400)).toMatchObject({ error: { type: 'invalid_request_error', message: 'injected 400' } });
  });

  it('translates bodies to Messages for an Anthropic server and answers chat completions', async () => {
    const done = await run([
      chatLine('translated', 'Bonjour', { model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'Reply in French.' }, { role: 'user', content: 'Bonjour' }], stop: ['zzz'] }),
    ]);
    expect(done.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    expect(messages.requests).toHaveLength(1);
    expect(messages.requests[0]!.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(messages.requests[0]!.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      system: 'Reply in French.',
      messages: [{ role: 'user', content: 'Bonjour' }],
      max_tokens: 64,
      stop_sequences: ['zzz'],
    });
    const [line] = await fileLines(client, done.output_file_id!);
    const completion = expectResponse(line!, 'translated', 200);
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'claude-sonnet-4-5',
      choices: [{ index: 0, message: { role: 'assistant', content: 'echo: Bonjour' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
    });
    expect(done.usage).toMatchObject({ input_tokens: 2, output_tokens: 4, total_tokens: 6 });
  });
});
