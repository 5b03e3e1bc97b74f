import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordingSleep, reply, request } from '../../../test-support/emulator-calls.js';
import { turnsDuring } from '../../../test-support/turns.js';
import { EmulatorBackend } from './emulator-backend.js';

// Required keys copied from /work/shared/spec/anthropic-openapi-batches.yml
// (components.schemas Message, Usage, ResponseTextBlock and ResponseToolUseBlock, `required`).
const MESSAGE_REQUIRED = ['id', 'type', 'role', 'content', 'model', 'stop_reason', 'stop_sequence', 'stop_details', 'usage', 'container'];
const USAGE_REQUIRED = [
  'cache_creation', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'inference_geo',
  'input_tokens', 'output_tokens', 'server_tool_use', 'service_tier',
];
const TEXT_BLOCK_REQUIRED = ['citations', 'text', 'type'];
const TOOL_USE_BLOCK_REQUIRED = ['caller', 'id', 'input', 'name', 'type'];


describe('EmulatorBackend', () => {
  it('is named emulator and closes at once', async () => {
    const backend = new EmulatorBackend();
    expect(backend.name).toBe('emulator');
    await expect(backend.close()).resolves.toBeUndefined();
  });

  it('echoes the last user turn in a complete Message', async () => {
    const message = await reply(request('What is 2+2?'));
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_[0-9A-Za-z]{24}$/),
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: '[emulator] What is 2+2?', citations: null }],
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: {
        input_tokens: 3,
        output_tokens: 6,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        server_tool_use: null,
        service_tier: 'batch',
        inference_geo: null,
      },
    });
  });

  it('has every key the official schema requires', async () => {
    const text = await reply(request('Hi'));
    const tool = await reply(request('Hi', { tools: [{ name: 'lookup' }], tool_choice: { type: 'any' } }));
    for (const message of [text, tool]) {
      expect(Object.keys(message)).toEqual(expect.arrayContaining(MESSAGE_REQUIRED));
      expect(Object.keys(message.usage)).toEqual(expect.arrayContaining(USAGE_REQUIRED));
    }
    expect(Object.keys(text.content[0] ?? {})).toEqual(expect.arrayContaining(TEXT_BLOCK_REQUIRED));
    expect(Object.keys(tool.content[0] ?? {})).toEqual(expect.arrayContaining(TOOL_USE_BLOCK_REQUIRED));
  });

  it('echoes the text blocks of the last user turn, at most 200 characters', async () => {
    const long = 'x'.repeat(250);
    const message = await reply(
      request('first', {
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: [{ type: 'text', text: 'second' }, { type: 'image', source: {} }, { type: 'text', text: long }] },
        ],
      }),
    );
    expect(message.content).toEqual([{ type: 'text', text: `[emulator] second\n${'x'.repeat(193)}`, citations: null }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('counts four characters a token, input including the system prompt', async () => {
    const message = await reply(
      request('', {
        system: [{ type: 'text', text: 'abcde' }],
        messages: [
          { role: 'user', content: 'Hello there' },
          { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
        ],
      }),
    );
    // 5 + 11 + 2 = 18 input characters; the reply "[emulator] Hello there" has 22.
    expect(message.usage.input_tokens).toBe(5);
    expect(message.usage.output_tokens).toBe(6);
  });

  it('counts and hashes long params in turns of the event loop of their own, given their text or not; short ones at once', async () => {
    /** Turns of the event loop that ran while the emulator answered. */
    const turnsWhile = async (params: Record<string, unknown>, paramsText?: string) => {
      const { value: outcome, turns } = await turnsDuring(() => new EmulatorBackend().send({ params, paramsText, signal: new AbortController().signal }));
      expect(outcome.kind).toBe('message');
      return turns;
    };
    const long = request('x'.repeat(300_000));
    expect(await turnsWhile(long, JSON.stringify(long))).toBe(2);
    expect(await turnsWhile(long)).toBe(2);
    expect(await turnsWhile(request('hello'))).toBe(0);
  });

  it("counts tokens as its message's usage would, without waiting its latency", async () => {
    const sleep = recordingSleep();
    const backend = new EmulatorBackend({ latencyMs: 5000, sleep });
    const params = request('', { system: 'abcde', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello ☃ there' }] }] });
    const { max_tokens: _maxTokens, ...countParams } = params;
    const counted = await backend.countTokens({ params: countParams, signal: new AbortController().signal });
    expect(sleep).not.toHaveBeenCalled();
    // 5 + 13 = 18 characters.
    expect(counted).toEqual({ kind: 'count', count: { input_tokens: 5 } });
    expect((await reply(params, backend)).usage.input_tokens).toBe(5);
  });

  describe('determinism', () => {
    it('answers equal params with identical messages, whatever the key order', async () => {
      const params = { model: 'm', max_tokens: 9, messages: [{ role: 'user', content: [{ type: 'text', text: 'Same' }] }] };
      const reordered = { messages: [{ content: [{ text: 'Same', type: 'text' }], role: 'user' }], max_tokens: 9, model: 'm' };
      const first = await reply(params);
      expect(await reply(params)).toEqual(first);
      expect(await reply(reordered)).toEqual(first);
    });

    it('answers different params with a different id, and different text with different text', async () => {
      const a = await reply(request('Question A'));
      const b = await reply(request('Question B'));
      const c = await reply(request('Question A', { temperature: 0.2 }));
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      expect(b.content).not.toEqual(a.content);
      expect(c.content).toEqual(a.content);
    });

    it('hashes a long string piece by piece to the id its whole JSON text gives, surrogate pairs kept whole', async () => {
      // A pair straddles the first 64 KiB piece; quotes and newlines need escapes.
      const text = `${'a'.repeat(64 * 1024 - 1)}\u{1F600}${'b\n"'.repeat(50_000)}`;
      // Keys in sorted order at every level: this text is the canonical JSON the id is taken from.
      const params = { max_tokens: 9, messages: [{ content: text, role: 'user' }], model: 'm' };
      let n = BigInt(`0x${createHash('sha256').update(JSON.stringify(params)).digest('hex')}`);
      let digits = '';
      for (let i = 0; i < 24; i++, n /= 62n) digits += '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.charAt(Number(n % 62n));
      expect((await reply(params)).id).toBe(`msg_${digits}`);
    });
  });

  describe('max_tokens', () => {
    it('cuts the reply to max_tokens * 4 characters', async () => {
      const message = await reply(request('a long question', { max_tokens: 2 }));
      expect(message.content).toEqual([{ type: 'text', text: '[emulato', citations: null }]);
      expect(message.stop_reason).toBe('max_tokens');
      expect(message.stop_sequence).toBeNull();
      expect(message.usage.output_tokens).toBe(2);
    });

    it('keeps a reply that fits exactly', async () => {
      const message = await reply(request('abcde', { max_tokens: 4 }));
      expect(message.content).toEqual([{ type: 'text', text: '[emulator] abcde', citations: null }]);
      expect(message.stop_reason).toBe('end_turn');
    });
  });

  describe('stop sequences', () => {
    it('cuts at the earliest stop sequence found and reports it', async () => {
      const message = await reply(request('one two three', { stop_sequences: ['three', 'two'] }));
      expect(message.content).toEqual([{ type: 'text', text: '[emulator] one ', citations: null }]);
      expect(message.stop_reason).toBe('stop_sequence');
      expect(message.stop_sequence).toBe('two');
      expect(message.usage.output_tokens).toBe(4);
    });

    it('ends the turn when no stop sequence occurs', async () => {
      const message = await reply(request('one two three', { stop_sequences: ['four', ''] }));
      expect(message.stop_reason).toBe('end_turn');
      expect(message.stop_sequence).toBeNull();
    });

    it('reports max_tokens when the limit comes before the stop sequence', async () => {
      const message = await reply(request('one two three', { max_tokens: 3, stop_sequences: ['three'] }));
      expect(message.content).toEqual([{ type: 'text', text: '[emulator] o', citations: null }]);
      expect(message.stop_reason).toBe('max_tokens');
      expect(message.stop_sequence).toBeNull();
    });

    it('answers an empty text block when the reply starts with a stop sequence', async () => {
      const message = await reply(request('hi', { stop_sequences: ['[emu'] }));
      expect(message.content).toEqual([{ type: 'text', text: '', citations: null }]);
      expect(message.stop_reason).toBe('stop_sequence');
      expect(message.usage.output_tokens).toBe(1);
    });
  });

  describe('tool use', () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' } }, { name: 'get_time' }];

    it('calls the tool named by tool_choice', async () => {
      const message = await reply(request('Weather?', { tools, tool_choice: { type: 'tool', name: 'get_time' } }));
      expect(message.content).toEqual([
        { type: 'tool_use', id: expect.stringMatching(/^toolu_[0-9A-Za-z]{24}$/), name: 'get_time', input: {}, caller: { type: 'direct' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      expect(message.stop_sequence).toBeNull();
      expect(message.usage.output_tokens).toBe(3);
    });

    it('calls the first tool for tool_choice any', async () => {
      const message = await reply(request('Weather?', { tools, tool_choice: { type: 'any' } }));
      expect(message.content).toMatchObject([{ type: 'tool_use', name: 'get_weather' }]);
      expect(message.stop_reason).toBe('tool_use');
    });

    it('gives the tool call a deterministic id', async () => {
      const params = request('Weather?', { tools, tool_choice: { type: 'any' } });
      const first = await reply(params);
      expect(await reply(params)).toEqual(first);
      const other = await reply(request('Time?', { tools, tool_choice: { type: 'any' } }));
      expect(other.content).not.toEqual(first.content);
    });

    it.each([
      ['tool_choice auto', { tools, tool_choice: { type: 'auto' } }],
      ['tool_choice none', { tools, tool_choice: { type: 'none' } }],
      ['tool_choice any without tools', { tool_choice: { type: 'any' } }],
      ['tools without tool_choice', { tools }],
    ])('answers text for %s', async (_name, fields) => {
      const message = await reply(request('Weather?', fields));
      expect(message.content).toEqual([{ type: 'text', text: '[emulator] Weather?', citations: null }]);
      expect(message.stop_reason).toBe('end_turn');
    });
  });

});
