import { describe, expect, it } from 'vitest';
import { chatToResponse } from './chat-to-response.js';

const completion = (message: Record<string, unknown>, finishReason = 'stop', usage: Record<string, unknown> = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }) => ({
  id: 'chatcmpl-abc',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'served-model',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
  usage,
});

describe('chatToResponse', () => {
  it('answers text as a completed response with one message item, echoing the request', () => {
    const request = { model: 'asked', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 50, temperature: 0.2, metadata: { k: 'v' } };
    expect(chatToResponse(completion({ content: 'Hello!' }), request, 1)).toEqual({
      id: 'resp_abc',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: 50,
      model: 'served-model',
      output: [{ type: 'message', id: 'msg_abc', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello!', annotations: [] }] }],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: 0.2,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 17 },
      user: null,
      metadata: { k: 'v' },
    });
  });

  it('answers tool calls as function_call items after any text', () => {
    const calls = [
      { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
    ];
    const response = chatToResponse(completion({ content: 'Checking.', tool_calls: calls }, 'tool_calls'), { model: 'm' }, 1);
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([
      { type: 'message', id: 'msg_abc', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
      { type: 'function_call', id: 'fc_call_1', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', id: 'fc_call_2', call_id: 'call_2', name: 'time', arguments: '{}', status: 'completed' },
    ]);
    expect(chatToResponse(completion({ content: null, tool_calls: calls }, 'tool_calls'), { model: 'm' }, 1).output.map((item) => item.type)).toEqual(['function_call', 'function_call']);
  });

  it('is incomplete when the answer hit its token limit or was filtered', () => {
    const cut = chatToResponse(completion({ content: 'Once upon a' }, 'length'), { model: 'm' }, 1);
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    const refused = chatToResponse(completion({ content: null, refusal: 'I cannot.' }, 'content_filter'), { model: 'm' }, 1);
    expect(refused).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(refused.output).toEqual([{ type: 'message', id: 'msg_abc', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] }]);
  });

  it('carries cached and reasoning tokens, and reads a provider answer of the wrong shape defensively', () => {
    const usage = { prompt_tokens: 100, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 30 } };
    expect(chatToResponse(completion({ content: 'x' }, 'stop', usage), { model: 'm' }, 1).usage).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 64 },
      output_tokens: 40,
      output_tokens_details: { reasoning_tokens: 30 },
      total_tokens: 140,
    });
    const odd = chatToResponse({ choices: [{ message: { content: 7, tool_calls: 'no' } }], usage: 'none' }, { model: 'asked' }, 99);
    expect(odd).toMatchObject({ id: 'resp_', created_at: 99, model: 'asked', status: 'completed', output: [], usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
  });
});
