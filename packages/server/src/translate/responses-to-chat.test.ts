import { describe, expect, it } from 'vitest';
import { chatToMessages } from './chat-to-messages.js';
import { responsesToChat } from './responses-to-chat.js';
import { validateParams } from './validate-params.js';

/** The chat body `body` translates to; it must also translate on to valid Messages params. */
function chat(body: Record<string, unknown>): Record<string, unknown> {
  const result = responsesToChat(body);
  if ('error' in result) throw new Error(result.error);
  const messages = chatToMessages(result.body);
  if ('error' in messages) throw new Error(`not translatable on to Messages: ${messages.error}`);
  expect(validateParams(messages.params)).toBeNull();
  return result.body;
}

function error(body: unknown): string {
  const result = responsesToChat(body);
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result.body)}`);
  return result.error;
}

describe('responsesToChat', () => {
  it('turns text input and instructions into a system and a user message, with the sampling params', () => {
    const body = { model: 'm', instructions: 'Be brief.', input: 'Hello', max_output_tokens: 100, temperature: 0.3, top_p: 0.8, user: 'u-1' };
    expect(chat(body)).toEqual({
      model: 'm',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }],
      max_tokens: 100,
      temperature: 0.3,
      top_p: 0.8,
      user: 'u-1',
    });
  });

  it('turns message items into chat messages, their parts into chat parts', () => {
    const input = [
      { role: 'developer', content: [{ type: 'input_text', text: 'Rules.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] },
      { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
      { role: 'user', content: 'Sure?' },
    ];
    expect(chat({ model: 'm', input }).messages).toEqual([
      { role: 'developer', content: [{ type: 'text', text: 'Rules.' }] },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
      { role: 'user', content: 'Sure?' },
    ]);
  });

  it('turns function calls into one assistant message of tool calls, and their outputs into tool messages', () => {
    const input = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '18C' },
      { type: 'function_call_output', call_id: 'call_2', output: '24C' },
    ];
    const tools = [{ type: 'function', name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true }];
    expect(chat({ model: 'm', input, tools, tool_choice: 'required', parallel_tool_calls: false })).toEqual({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: '24C' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather', parameters: tools[0]!.parameters, strict: true } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(chat({ model: 'm', input: 'x', tools, tool_choice: { type: 'function', name: 'weather' } }).tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
  });

  it('accepts params at their defaults, ignores those that do not change the answer, and reads null as absent', () => {
    const body = {
      model: 'm',
      input: 'x',
      stream: false,
      background: false,
      truncation: 'disabled',
      text: { format: { type: 'text' } },
      include: [],
      store: true,
      metadata: { k: 'v' },
      service_tier: 'auto',
      prompt_cache_key: 'p',
      reasoning: null,
      instructions: null,
    };
    expect(chat(body)).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  });

  it('names the first param it cannot carry over', () => {
    const base = { model: 'm', input: 'x' };
    const unsupported = (param: string) => `${param}: not supported by the translation of Responses requests to chat completions`;
    expect(error({ ...base, reasoning: { effort: 'high' } })).toBe(unsupported('reasoning'));
    expect(error({ ...base, previous_response_id: 'resp_1' })).toBe(unsupported('previous_response_id'));
    expect(error({ ...base, stream: true })).toBe(unsupported('stream'));
    expect(error({ ...base, truncation: 'auto' })).toBe(unsupported('truncation (auto)'));
    expect(error({ ...base, text: { format: { type: 'json_schema' } } })).toBe(unsupported('text.format (json_schema)'));
    expect(error({ ...base, include: ['reasoning.encrypted_content'] })).toBe(unsupported('include'));
    expect(error({ ...base, tools: [{ type: 'web_search' }] })).toBe(unsupported('tools.0 (web_search)'));
    expect(error({ ...base, tool_choice: { type: 'allowed_tools' } })).toBe(unsupported('tool_choice (allowed_tools)'));
    expect(error({ model: 'm', input: [{ type: 'reasoning', summary: [] }] })).toBe(unsupported('input.0 (reasoning)'));
    expect(error({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] })).toBe(unsupported('input.0.content.0 (input_file)'));
    expect(error({ model: 'm', input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://x' }] }] })).toBe(unsupported('input.0.content.0 (input_image)'));
    expect(error({ model: 'm', input: [{ role: 'user', content: 'x', name: 'n' }] })).toBe(unsupported('input.0.name'));
  });

  it('names malformed values', () => {
    expect(error([])).toBe('body: not a JSON object');
    expect(error({ input: 'x' })).toBe('model: invalid value');
    expect(error({ model: 'm', input: 5 })).toBe('input: invalid value');
    expect(error({ model: 'm', input: 'x', max_output_tokens: 0 })).toBe('max_output_tokens: must be a positive integer');
    expect(error({ model: 'm', input: [{ role: 'tool', content: 'x' }] })).toBe('input.0.role: invalid value');
    expect(error({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text' }] }] })).toBe('input.0.output: invalid value');
    expect(error({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f', parameters: 'nope' }] })).toBe('tools.0.parameters: invalid value');
  });
});
