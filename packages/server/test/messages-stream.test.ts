import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `client.messages.create` and `client.messages.stream` of the official TypeScript SDK against a
 * real `batchd serve` whose backends do not speak the Messages API's stream: the emulator, and an
 * OpenAI-compatible server (a fake one over HTTP, streaming chat completion chunks) for `gpu-*`
 * models. A streamed call, as the SDK accumulates its events, ends with the message the same call
 * without streaming answers.
 */

const params = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Stream this reply in pieces, please.' }] };
let server: ServerHandle;
let client: Anthropic;
let gpu: FakeProvider;

beforeAll(async () => {
  gpu = await FakeProvider.start({ shape: 'openai' });
  const config = join(await makeTempDir('batchd-messages-stream-'), 'batchd.json');
  await writeFile(config, JSON.stringify({ backends: [{ name: 'gpu', type: 'openai', url: gpu.url, models: ['gpu-*'] }, { name: 'emulator', type: 'emulator', models: ['*'] }] }));
  server = await startServer({ flags: { config } });
  client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
  await gpu?.close();
});

/** A call of `model` made to use a tool, streamed: the SDK ends with a `tool_use` block and its parsed input. */
async function expectStreamedToolUse(model: string): Promise<void> {
  const tools = [{ name: 'lookup', input_schema: { type: 'object' as const } }];
  const streamed = await client.messages.stream({ ...params, model, tools, tool_choice: { type: 'tool', name: 'lookup' } }).finalMessage();
  expect(streamed.stop_reason).toBe('tool_use');
  expect(streamed.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'lookup', input: {} })]);
}

describe('POST /v1/messages with stream: true on the emulator', () => {
  it('streams the message a call without streaming answers, its text in pieces', async () => {
    const stream = client.messages.stream(params);
    const pieces: string[] = [];
    stream.on('text', (text) => pieces.push(text));
    const streamed = await stream.finalMessage();
    expect(pieces).toEqual(['[emulator] Strea', 'm this reply in ', 'pieces, please.']);
    // The SDK adds `parsed_output` to a message it accumulated.
    expect(streamed).toEqual({ ...(await client.messages.create(params)), parsed_output: null });
  });

  it('streams a tool_use block whose input the SDK parses', async () => {
    await expectStreamedToolUse(params.model);
  });

  it('answers an error the emulator is told to give as an error the SDK raises', async () => {
    const failing = client.messages.stream({ ...params, metadata: { user_id: 'emulator:error=overloaded_error' } });
    await expect(failing.finalMessage()).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
  });
});

describe('POST /v1/messages with stream: true on an OpenAI-compatible server', () => {
  const gpuParams = { ...params, model: 'gpu-llama' };

  it("asks the server for a streamed chat completion and sends its text as it comes, ending with the message a whole call answers", async () => {
    const sent = gpu.requests.length;
    const stream = client.messages.stream(gpuParams);
    const pieces: string[] = [];
    stream.on('text', (text) => pieces.push(text));
    const streamed = await stream.finalMessage();
    // The fake server sends a word a chunk: each is a text delta as it arrives.
    expect(pieces).toEqual(['echo: ', 'Stream ', 'this ', 'reply ', 'in ', 'pieces, ', 'please.']);
    expect(gpu.requests.slice(sent).map((request) => request.body)).toEqual([expect.objectContaining({ stream: true, stream_options: { include_usage: true } })]);
    expect(streamed).toEqual({ ...(await client.messages.create(gpuParams)), parsed_output: null });
  });

  it("streams a tool call as a tool_use block, the server's finish reason as its stop reason", async () => {
    await expectStreamedToolUse(gpuParams.model);
  });
});
