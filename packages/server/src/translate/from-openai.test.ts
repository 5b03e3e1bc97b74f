import type { Message } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { fromOpenAI, type FromOpenAIRequest } from './from-openai.js';
import { toOpenAI } from './to-openai.js';

const request: FromOpenAIRequest = { model: 'claude-compatible' };

function completion(message: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created: 1,
    model: 'llama-3',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37 },
  };
}

function message(value: unknown, req: FromOpenAIRequest = request): Message {
  const result = fromOpenAI(value, req);
  if ('error' in result) throw new Error(result.error);
  return result.message;
}

describe('fromOpenAI', () => {
  it('builds a full Message from a text completion', () => {
    expect(message(completion({ content: 'Hello there.' }, 'stop'))).toEqual({
      id: 'msg_abc123',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello there.', citations: null }],
      model: 'llama-3',
      stop_reason: 'end_turn',
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: {
        input_tokens: 30,
        output_tokens: 7,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        server_tool_use: null,
        service_tier: null,
        inference_geo: null,
      },
    });
  });

  it('maps finish reasons', () => {
    expect(message(completion({ content: 'cut' }, 'length')).stop_reason).toBe('max_tokens');
    expect(message(completion({ content: '' }, 'content_filter'))).toMatchObject({
      stop_reason: 'refusal',
      stop_details: { type: 'refusal', category: null, explanation: null },
      content: [],
    });
    expect(message(completion({ content: 'x' }, null)).stop_reason).toBe('end_turn');
    expect(message(completion({ content: null, refusal: 'I cannot help.' }, 'stop'))).toMatchObject({
      stop_reason: 'refusal',
      content: [{ type: 'text', text: 'I cannot help.', citations: null }],
    });
  });

  it('reports a stop sequence only when the server names one the request gave', () => {
    const stopped = completion({ content: 'one two ' }, 'stop', { stop_reason: 'three' });
    expect(message(stopped, { ...request, stopSequences: ['three'] })).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
    expect(message(stopped, { ...request, stopSequences: ['four'] })).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
    expect(message(completion({ content: 'x' }, 'stop', { stop_reason: 128009 }), { ...request, stopSequences: ['x'] }).stop_reason).toBe('end_turn');
  });

  it('turns tool calls into tool_use blocks', () => {
    const calls = [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: '', type: 'function', function: { name: 'noop', arguments: '' } },
    ];
    expect(message(completion({ content: 'Checking.', tool_calls: calls }, 'tool_calls')).content).toEqual([
      { type: 'text', text: 'Checking.', citations: null },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
      { type: 'tool_use', id: 'toolu_abc123_1', name: 'noop', input: {}, caller: { type: 'direct' } },
    ]);
    expect(message(completion({ content: null, tool_calls: calls }, 'stop')).stop_reason).toBe('tool_use');
    const legacy = message(completion({ content: null, function_call: { name: 'f', arguments: '{"a":1}' } }, 'function_call'));
    expect(legacy).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'tool_use', id: 'toolu_abc123_0', name: 'f', input: { a: 1 } }] });
  });

  it('rejects unparsable tool arguments unless max_tokens cut them', () => {
    const broken = [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"city": "Par' } }];
    expect(fromOpenAI(completion({ content: null, tool_calls: broken }, 'tool_calls'), request)).toEqual({
      error: 'tool call 0 (f) arguments are not a JSON object',
    });
    expect(fromOpenAI(completion({ tool_calls: [{ function: { name: 'f', arguments: '[1]' } }] }, 'tool_calls'), request)).toHaveProperty('error');
    expect(message(completion({ content: null, tool_calls: broken }, 'length'))).toMatchObject({
      stop_reason: 'max_tokens',
      content: [{ type: 'tool_use', name: 'f', input: {} }],
    });
  });

  it('counts cached prompt tokens as cache reads', () => {
    const cached = { ...completion({ content: 'x' }, 'stop'), usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 60 } } };
    expect(message(cached).usage).toMatchObject({ input_tokens: 40, cache_read_input_tokens: 60, output_tokens: 5 });
    const { usage: _usage, ...bare } = completion({ content: 'x' }, 'stop');
    expect(message(bare).usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  });

  it('derives ids and model when the completion lacks them', () => {
    const { id: _id, model: _model, ...anonymous } = completion({ content: 'x' }, 'stop');
    const result = message(anonymous);
    expect(result.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(result.model).toBe('claude-compatible');
    expect(message(anonymous).id).toBe(result.id);
  });

  it('refuses what is not a completion', () => {
    expect(fromOpenAI('text', request)).toEqual({ error: 'not a JSON object' });
    expect(fromOpenAI({ choices: [] }, request)).toEqual({ error: 'no choices' });
    expect(fromOpenAI({ choices: [{ text: 'legacy' }] }, request)).toEqual({ error: 'no choices' });
    expect(fromOpenAI(completion({ tool_calls: [{ function: {} }] }, 'tool_calls'), request)).toEqual({ error: 'tool call 0 has no function name' });
  });
});

describe('a tool round trip', () => {
  it('sends back the tool_use a completion produced as the same tool call, and its result to that call', () => {
    const first = message(completion({ content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }, 'tool_calls'));
    const params = {
      model: 'llama-3',
      max_tokens: 32,
      tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Find x' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: 'found' }] },
      ],
    };
    const translated = toOpenAI(params);
    if ('error' in translated) throw new Error(translated.error);
    expect(translated.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'call_9', content: 'found' },
    ]);
  });
});
