import type { Message } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { messageToChatCompletion } from './message-to-chat.js';

const usage = {
  input_tokens: 25,
  output_tokens: 12,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  server_tool_use: null,
  service_tier: 'batch' as const,
};

function reply(content: Message['content'], stopReason: Message['stop_reason'] = 'end_turn', extra: Partial<Message> = {}): Message {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    content,
    model: 'claude-sonnet-4-5-20250929',
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
    ...extra,
  };
}

const created = 1_764_000_000;

describe('messageToChatCompletion', () => {
  it('builds a full chat.completion from a text Message', () => {
    expect(messageToChatCompletion(reply([{ type: 'text', text: 'Hello! How can I help?', citations: null }]), { created })).toEqual({
      id: 'chatcmpl-01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created,
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('uses the id it is given', () => {
    expect(messageToChatCompletion(reply([]), { id: 'chatcmpl-batch_req_7', created }).id).toBe('chatcmpl-batch_req_7');
  });

  it('turns tool_use blocks into tool calls, with null content when there is no text', () => {
    const input = { location: 'Boston, MA', unit: 'celsius' };
    const toolOnly = reply([{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_current_weather', input }], 'tool_use');
    expect(messageToChatCompletion(toolOnly, { created }).choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA","unit":"celsius"}' } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
  });

  it('joins text blocks, and leaves thinking and server tool blocks out', () => {
    const message = reply([
      { type: 'thinking', thinking: 'The user wants a quote.', signature: 'EqQBCgIYAhIM' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
      { type: 'text', text: 'According to the report, ', citations: null },
      { type: 'text', text: 'revenue grew 12%', citations: [{ type: 'char_location', cited_text: 'Revenue grew 12%' }] },
      { type: 'text', text: '.', citations: null },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'report' } },
      { type: 'tool_use', id: 'toolu_2', name: 'save_note', input: {} },
    ]);
    const choice = messageToChatCompletion(message, { created }).choices[0];
    expect(choice?.message.content).toBe('According to the report, revenue grew 12%.');
    expect(choice?.message.tool_calls).toEqual([{ id: 'toolu_2', type: 'function', function: { name: 'save_note', arguments: '{}' } }]);
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
    ['constructor', 'stop'],
  ] as const)('maps stop_reason %s to finish_reason %s', (stopReason, finishReason) => {
    const message = reply([{ type: 'text', text: 'x', citations: null }], stopReason as Message['stop_reason']);
    expect(messageToChatCompletion(message, { created }).choices[0]?.finish_reason).toBe(finishReason);
  });

  it('counts cache reads and writes as prompt tokens, and reads as cached tokens', () => {
    const cachedUsage = { ...usage, input_tokens: 10, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 };
    expect(messageToChatCompletion(reply([], 'end_turn', { usage: cachedUsage }), { created }).usage).toEqual({
      prompt_tokens: 2310,
      completion_tokens: 12,
      total_tokens: 2322,
      prompt_tokens_details: { cached_tokens: 2000 },
    });
    const sparse = { input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: null, cache_read_input_tokens: null, cache_creation: null, server_tool_use: null, service_tier: null };
    expect(messageToChatCompletion(reply([], 'end_turn', { usage: sparse }), { created }).usage).toEqual({
      prompt_tokens: 7,
      completion_tokens: 3,
      total_tokens: 10,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });
});
