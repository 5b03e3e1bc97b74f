import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `client.messages.create` and `client.messages.stream` of the official TypeScript SDK against a
 * real `batchd serve` on the emulator backend: a streamed call, as the SDK accumulates its
 * events, ends with the message the same call without streaming answers.
 */

const params = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Stream this reply in pieces, please.' }] };
let server: ServerHandle;
let client: Anthropic;

beforeAll(async () => {
  server = await startServer();
  client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await server?.stop();
});

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
    const tools = [{ name: 'lookup', input_schema: { type: 'object' as const } }];
    const streamed = await client.messages.stream({ ...params, tools, tool_choice: { type: 'tool', name: 'lookup' } }).finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'lookup', input: {} })]);
  });

  it('answers an error the emulator is told to give as an error the SDK raises', async () => {
    const failing = client.messages.stream({ ...params, metadata: { user_id: 'emulator:error=overloaded_error' } });
    await expect(failing.finalMessage()).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
  });
});
