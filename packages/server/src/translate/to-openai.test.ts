import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../backends/openai/chat-completions.js';
import { toOpenAI } from './to-openai.js';

const base = { model: 'llama-3', max_tokens: 64 };

function body(params: Record<string, unknown>): ChatCompletionRequest {
  const result = toOpenAI(params);
  if ('error' in result) throw new Error(result.error);
  return result.body;
}

function error(params: Record<string, unknown>): string {
  const result = toOpenAI(params);
  if (!('error' in result)) throw new Error('expected an error');
  return result.error;
}

describe('toOpenAI', () => {
  it('translates text turns and sampling params', () => {
    const params = {
      ...base,
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hi.' }, { type: 'text', text: 'How can I help?' }] },
        { role: 'user', content: [{ type: 'text', text: 'Count', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'to 3' }] },
      ],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: 'user-7' },
      stream: false,
      service_tier: 'auto',
      thinking: { type: 'disabled' },
    };
    expect(body(params)).toEqual({
      model: 'llama-3',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.\nHow can I help?' },
        { role: 'user', content: 'Count\nto 3' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-7',
    });
  });

  it('turns a system string or system blocks into one system message', () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    expect(body({ ...base, system: 'Be brief.', messages }).messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    const blocks = [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral', ttl: '1h' } }];
    expect(body({ ...base, system: blocks, messages }).messages[0]).toEqual({ role: 'system', content: 'Be brief.\nBe kind.' });
    expect(body({ ...base, system: '', messages }).messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('turns images into image_url parts', () => {
    const params = {
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What are these?' },
          ],
        },
      ],
    };
    expect(body(params).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'text', text: 'What are these?' },
        ],
      },
    ]);
  });

  it('translates tools, tool_use turns and tool results', () => {
    const params = {
      ...base,
      tools: [
        { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        { type: 'custom', name: 'noop', input_schema: { type: 'object' }, strict: true, cache_control: { type: 'ephemeral' } },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.', citations: null },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'Rain' }, { type: 'text', text: '12C' }], is_error: false },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ],
    };
    expect(body(params)).toEqual({
      model: 'llama-3',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'Rain\n12C' },
        { role: 'user', content: 'Summarise.' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        },
        { type: 'function', function: { name: 'noop', parameters: { type: 'object' }, strict: true } },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    });
  });

  it('maps every tool_choice', () => {
    const params = { ...base, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'f', input_schema: { type: 'object' } }] };
    expect(body({ ...params, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(body({ ...params, tool_choice: { type: 'any' } }).tool_choice).toBe('required');
    expect(body({ ...params, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(body({ ...params, tool_choice: { type: 'tool', name: 'f' } }).tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(body({ ...params, tool_choice: { type: 'auto' } })).not.toHaveProperty('parallel_tool_calls');
    expect(body({ ...base, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'none' } })).not.toHaveProperty('tool_choice');
  });

  it('sends stop_sequences as stop, and leaves an empty list out', () => {
    const messages = [{ role: 'user', content: 'x' }];
    expect(body({ ...base, messages, stop_sequences: ['END', '\n\nHuman:'] }).stop).toEqual(['END', '\n\nHuman:']);
    expect(body({ ...base, messages, stop_sequences: [] })).not.toHaveProperty('stop');
  });

  it.each([
    ['top_k', { top_k: 5 }],
    ['thinking', { thinking: { type: 'enabled', budget_tokens: 2048 } }],
    ['container', { container: 'container_1' }],
    ['mcp_servers', { mcp_servers: [] }],
    ['output_format', { output_format: { type: 'json_schema', schema: {} } }],
    ['stream', { stream: true }],
    ['metadata.tags', { metadata: { user_id: 'u', tags: ['a'] } }],
    ['tools.0 (web_search_20250305)', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }],
    ['tools.0.defer_loading', { tools: [{ name: 'f', input_schema: { type: 'object' }, defer_loading: true }] }],
    ['tool_choice.extra', { tool_choice: { type: 'auto', extra: 1 } }],
  ])('rejects %s', (param, extra) => {
    const message = error({ ...base, messages: [{ role: 'user', content: 'x' }], ...extra });
    expect(message).toBe(`${param}: not supported by the OpenAI-compatible backend`);
  });

  it.each([
    ['messages.0.content.0 (document)', { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } }],
    ['messages.0.content.0.source (file)', { type: 'image', source: { type: 'file', file_id: 'file_1' } }],
    ['messages.0.content.0.citations', { type: 'text', text: 'x', citations: [{ type: 'char_location' }] }],
    ['messages.0.content.0 (search_result)', { type: 'search_result', source: 's', title: 't', content: [] }],
    ['messages.0.content.0.is_error', { type: 'tool_result', tool_use_id: 't', content: 'boom', is_error: true }],
    [
      'messages.0.content.0.content.0 (image)',
      { type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
    ],
  ])('rejects the user block %s', (param, block) => {
    expect(error({ ...base, messages: [{ role: 'user', content: [block] }] })).toBe(`${param}: not supported by the OpenAI-compatible backend`);
  });

  it('rejects thinking blocks in assistant turns, a prefill, and non-text system blocks', () => {
    const thinking = { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'ok' }] };
    expect(error({ ...base, messages: [{ role: 'user', content: 'x' }, thinking, { role: 'user', content: 'y' }] })).toBe(
      'messages.1.content.0 (thinking): not supported by the OpenAI-compatible backend',
    );
    expect(error({ ...base, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'The answer is' }] })).toBe(
      'messages.1 (assistant prefill): not supported by the OpenAI-compatible backend',
    );
    expect(error({ ...base, system: [{ type: 'image', source: {} }], messages: [{ role: 'user', content: 'x' }] })).toBe(
      'system.0 (image): not supported by the OpenAI-compatible backend',
    );
  });

  it('reports malformed params as invalid rather than unsupported', () => {
    expect(error({ ...base, messages: 'x' })).toBe('messages: invalid value');
    expect(error({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toBe('max_tokens: invalid value');
  });
});
