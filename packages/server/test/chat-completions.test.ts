import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `client.chat.completions.create` and `client.chat.completions.stream` of the official OpenAI
 * TypeScript SDK against a real `batchd serve`: on the emulator (Messages, translated both ways),
 * on an OpenAI-compatible server (a fake one over HTTP, streaming its own chunks) for `gpu-*`
 * models, and on the Anthropic API (a fake one, streaming the Messages API's events, made chunks as
 * they come) for `sonnet-*` models. A streamed call, as the SDK accumulates its chunks, ends with
 * the choices the same call without streaming answers.
 */

const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream this reply in pieces, please.' }] };
const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }];
const toolChoice = { type: 'function' as const, function: { name: 'lookup' } };
let server: ServerHandle;
let client: OpenAI;
let gpu: FakeProvider;
let claude: FakeProvider;
/** A server whose key batchd does not have: it answers 401, echoing the key it got. */
let locked: FakeProvider;
const WRONG_KEY = 'sk-wrong-key-4242';

beforeAll(async () => {
  gpu = await FakeProvider.start({ shape: 'openai' });
  claude = await FakeProvider.start({ shape: 'anthropic' });
  locked = await FakeProvider.start({ shape: 'openai', apiKey: 'sk-right-key' });
  const config = join(await makeTempDir('batchd-chat-completions-'), 'batchd.json');
  const backends = [
    { name: 'gpu', type: 'openai', url: gpu.url, models: ['gpu-*'] },
    { name: 'claude', type: 'anthropic', url: claude.url, models: ['sonnet-*'] },
    { name: 'locked', type: 'openai', url: locked.url, api_key_env: 'LOCKED_KEY', models: ['locked-*'] },
    { name: 'emulator', type: 'emulator', models: ['gpt-*', 'claude-*'] },
  ];
  await writeFile(config, JSON.stringify({ backends }));
  server = await startServer({ flags: { config }, env: { LOCKED_KEY: WRONG_KEY } });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
  await gpu?.close();
  await claude?.close();
  await locked?.close();
});

/** A completion's choices without what the SDK adds to a message it accumulates: `parsed`, and `refusal: null` where none came. */
function choicesOf(completion: OpenAI.ChatCompletion): unknown[] {
  return completion.choices.map(({ message, ...choice }) => {
    const { parsed: _parsed, refusal, ...rest } = message as typeof message & { parsed?: unknown };
    return { ...choice, message: refusal === null ? rest : { ...rest, refusal } };
  });
}

describe.each([
  ['the emulator', params.model],
  ['an OpenAI-compatible server', 'gpu-llama'],
  ['the Anthropic API', 'sonnet-4'],
])('POST /v1/chat/completions on %s', (_name, model) => {
  it('answers a chat completion, and streams the same choices in pieces with the usage asked for', async () => {
    const created = await client.chat.completions.create({ ...params, model });
    expect(created).toMatchObject({ object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }] });
    expect(created.choices[0]!.message.content).toContain('Stream this reply in pieces, please.');
    expect(created.usage!.prompt_tokens).toBeGreaterThan(0);
    const stream = client.chat.completions.stream({ ...params, model, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    stream.on('content', (delta) => pieces.push(delta));
    const streamed = await stream.finalChatCompletion();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(created.choices[0]!.message.content);
    expect(choicesOf(streamed)).toEqual(choicesOf(created));
    expect(streamed.usage).toEqual(created.usage);
  });

  it('streams a tool call whose arguments the SDK puts together, with finish reason tool_calls', async () => {
    const created = await client.chat.completions.create({ ...params, model, tools, tool_choice: toolChoice });
    const streamed = await client.chat.completions.stream({ ...params, model, tools, tool_choice: toolChoice }).finalChatCompletion();
    expect(streamed.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ type: 'function', function: { name: 'lookup' } }] } });
    expect(choicesOf(streamed)).toEqual(choicesOf(created));
  });
});

describe('POST /v1/chat/completions', () => {
  it("sends the params to an OpenAI-compatible server as given, and passes its stream through as it comes", async () => {
    const sent = gpu.requests.length;
    const call = { ...params, model: 'gpu-llama', temperature: 0.25, seed: 7 };
    await client.chat.completions.create(call);
    const streamed = { ...call, stream_options: { include_usage: true } };
    const raw = await client.chat.completions.create({ ...streamed, stream: true });
    const contents: string[] = [];
    for await (const chunk of raw) if (chunk.choices[0]?.delta.content) contents.push(chunk.choices[0].delta.content);
    // The fake server sends a word a chunk, where batchd cuts a whole answer 16 characters a chunk.
    expect(contents).toEqual(['echo: ', 'Stream ', 'this ', 'reply ', 'in ', 'pieces, ', 'please.']);
    expect(gpu.requests.slice(sent).map((request) => request.body)).toEqual([call, { ...streamed, stream: true }]);
  });

  it("turns the Anthropic API's streamed events into chunks as they come, from Messages params it streams", async () => {
    const sent = claude.requests.length;
    const raw = await client.chat.completions.create({ ...params, model: 'sonnet-4', stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of raw) chunks.push(chunk);
    // The fake API sends a word a text delta; each is a chunk, the usage last.
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content).filter(Boolean)).toEqual(['echo: ', 'Stream ', 'this ', 'reply ', 'in ', 'pieces, ', 'please.']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } });
    expect(claude.requests.slice(sent).map((request) => request.body)).toEqual([{ model: 'sonnet-4', max_tokens: expect.any(Number), messages: params.messages, stream: true }]);
  });

  it('raises what the SDK raises for a bad call, an unknown model, and an error the backend gives', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error', param: 'messages' },
    });
    await expect(client.chat.completions.create({ ...params, model: 'mistral-large' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const overloaded = { ...params, user: 'emulator:error=overloaded_error' };
    await expect(client.chat.completions.create(overloaded)).rejects.toMatchObject({ status: 503, error: { code: 'server_is_overloaded' } });
    await expect(client.chat.completions.stream(overloaded).finalChatCompletion()).rejects.toMatchObject({ status: 503 });
    // A Messages param with no chat translation is named, and nothing is called.
    await expect(client.chat.completions.create({ ...params, n: 2 })).rejects.toMatchObject({ status: 400, error: { param: 'n' } });
  });

  it("answers a streamed call the server refuses as an error, without the key the server echoed", async () => {
    const refused = client.chat.completions.stream({ ...params, model: 'locked-llama' }).finalChatCompletion();
    const error = (await refused.catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify(error.error)).not.toContain(WRONG_KEY);
    expect(locked.requests.at(-1)!.body).toMatchObject({ stream: true });
  });
});
