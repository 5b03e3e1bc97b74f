import { describe, expect, it } from 'vitest';
import { validateCountParams, validateParams } from './validate-params.js';

const base = {
  model: 'claude-sonnet-4-5',
  max_tokens: 2048,
  messages: [{ role: 'user', content: 'Hello' }],
};

/** `base` with some fields replaced; a field set to undefined is removed. */
function withFields(fields: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = { ...base, ...fields };
  for (const [key, value] of Object.entries(fields)) if (value === undefined) delete params[key];
  return params;
}

describe('validateParams', () => {
  it.each<[string, unknown]>([
    ['the minimal request', base],
    ['content as a list of blocks', withFields({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] })],
    ['non-text blocks with any fields', withFields({ messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] })],
    [
      'alternating turns with an assistant prefill',
      withFields({
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
          { role: 'user', content: 'Go on' },
          { role: 'assistant', content: [{ type: 'text', text: 'Sure' }] },
        ],
      }),
    ],
    ['stream: false', withFields({ stream: false })],
    ['system as a string', withFields({ system: 'Be brief.' })],
    ['system as text blocks', withFields({ system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] })],
    ['stop_sequences', withFields({ stop_sequences: ['END', '\n\n'] })],
    ['temperature, top_p and top_k at their bounds', withFields({ temperature: 0, top_p: 1, top_k: 0 })],
    ['metadata with a user_id', withFields({ metadata: { user_id: 'user-1' } })],
    ['metadata with a null user_id', withFields({ metadata: { user_id: null } })],
    ['empty metadata', withFields({ metadata: {} })],
    ['tools and tool_choice auto', withFields({ tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: { type: 'auto' } })],
    ['tool_choice any', withFields({ tool_choice: { type: 'any', disable_parallel_tool_use: true } })],
    ['tool_choice tool', withFields({ tool_choice: { type: 'tool', name: 'get_weather' } })],
    ['tool_choice none', withFields({ tool_choice: { type: 'none' } })],
    ['thinking enabled', withFields({ thinking: { type: 'enabled', budget_tokens: 1024 } })],
    ['thinking disabled', withFields({ thinking: { type: 'disabled' } })],
    ['thinking adaptive', withFields({ thinking: { type: 'adaptive' } })],
    ['unknown top-level keys', withFields({ output_config: { effort: 'low' }, service_tier: 'auto' })],
    ['a 256-character model', withFields({ model: 'm'.repeat(256) })],
  ])('accepts %s', (_name, params) => {
    expect(validateParams(params)).toBeNull();
  });

  it.each<[string, unknown, string]>([
    ['params that are not an object', 'hello', 'params: Input should be a valid dictionary'],
    ['params that are an array', [base], 'params: Input should be a valid dictionary'],
    ['params that are null', null, 'params: Input should be a valid dictionary'],
    ['a missing model', withFields({ model: undefined }), 'model: Field required'],
    ['a model that is not a string', withFields({ model: 42 }), 'model: Input should be a valid string'],
    ['an empty model', withFields({ model: '' }), 'model: String should have at least 1 character'],
    ['a model over 256 characters', withFields({ model: 'm'.repeat(257) }), 'model: String should have at most 256 characters'],
    ['a missing max_tokens', withFields({ max_tokens: undefined }), 'max_tokens: Field required'],
    ['a fractional max_tokens', withFields({ max_tokens: 1.5 }), 'max_tokens: Input should be a valid integer'],
    ['a string max_tokens', withFields({ max_tokens: '100' }), 'max_tokens: Input should be a valid integer'],
    ['max_tokens 0', withFields({ max_tokens: 0 }), 'max_tokens: Input should be greater than or equal to 1'],
    ['missing messages', withFields({ messages: undefined }), 'messages: Field required'],
    ['messages that are not a list', withFields({ messages: 'Hello' }), 'messages: Input should be a valid list'],
    ['empty messages', withFields({ messages: [] }), 'messages: List should have at least 1 item after validation, not 0'],
    ['a message that is not an object', withFields({ messages: ['Hello'] }), 'messages.0: Input should be a valid dictionary'],
    ['a message without a role', withFields({ messages: [{ content: 'Hi' }] }), 'messages.0.role: Field required'],
    [
      'a message with an unknown role',
      withFields({ messages: [{ role: 'user', content: 'Hi' }, { role: 'system', content: 'x' }] }),
      "messages.1.role: Input should be 'user' or 'assistant'",
    ],
    ['a message without content', withFields({ messages: [{ role: 'user' }] }), 'messages.0.content: Field required'],
    ['empty string content', withFields({ messages: [{ role: 'user', content: '' }] }), 'messages.0.content: String should have at least 1 character'],
    [
      'content of the wrong type',
      withFields({ messages: [{ role: 'user', content: 7 }] }),
      'messages.0.content: Input should be a valid string or a list of content blocks',
    ],
    [
      'an empty content list',
      withFields({ messages: [{ role: 'user', content: [] }] }),
      'messages.0.content: List should have at least 1 item after validation, not 0',
    ],
    [
      'a content block that is not an object',
      withFields({ messages: [{ role: 'user', content: ['Hi'] }] }),
      'messages.0.content.0: Input should be a valid dictionary',
    ],
    [
      'a content block without a type',
      withFields({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }),
      'messages.0.content.0.type: Field required',
    ],
    [
      'a content block with a non-string type',
      withFields({ messages: [{ role: 'user', content: [{ type: 1 }] }] }),
      'messages.0.content.0.type: Input should be a valid string',
    ],
    [
      'a text block without text',
      withFields({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text' }] }] }),
      'messages.0.content.1.text: Field required',
    ],
    [
      'a text block with non-string text',
      withFields({ messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }),
      'messages.0.content.0.text: Input should be a valid string',
    ],
    [
      'a first turn from the assistant',
      withFields({ messages: [{ role: 'assistant', content: 'Hi' }] }),
      'messages: first message must use the "user" role',
    ],
    ['stream: true', withFields({ stream: true }), 'stream: streaming is not supported for batch requests'],
    ['a non-boolean stream', withFields({ stream: 'yes' }), 'stream: Input should be a valid boolean'],
    ['system of the wrong type', withFields({ system: 3 }), 'system: Input should be a valid string or a list of text blocks'],
    ['a system block that is not an object', withFields({ system: ['x'] }), 'system.0: Input should be a valid dictionary'],
    ['a system block that is not text', withFields({ system: [{ type: 'image' }] }), "system.0.type: Input should be 'text'"],
    ['a system text block without text', withFields({ system: [{ type: 'text' }] }), 'system.0.text: Field required'],
    ['stop_sequences that are not a list', withFields({ stop_sequences: 'END' }), 'stop_sequences: Input should be a valid list'],
    ['a stop sequence that is not a string', withFields({ stop_sequences: ['END', 1] }), 'stop_sequences.1: Input should be a valid string'],
    ['a string temperature', withFields({ temperature: '0.5' }), 'temperature: Input should be a valid number'],
    ['a temperature below 0', withFields({ temperature: -0.1 }), 'temperature: Input should be greater than or equal to 0'],
    ['a temperature above 1', withFields({ temperature: 1.5 }), 'temperature: Input should be less than or equal to 1'],
    ['a string top_p', withFields({ top_p: 'high' }), 'top_p: Input should be a valid number'],
    ['a top_p above 1', withFields({ top_p: 2 }), 'top_p: Input should be less than or equal to 1'],
    ['a top_p below 0', withFields({ top_p: -1 }), 'top_p: Input should be greater than or equal to 0'],
    ['a fractional top_k', withFields({ top_k: 2.5 }), 'top_k: Input should be a valid integer'],
    ['a negative top_k', withFields({ top_k: -1 }), 'top_k: Input should be greater than or equal to 0'],
    ['metadata that is not an object', withFields({ metadata: 'user-1' }), 'metadata: Input should be a valid dictionary'],
    ['a numeric user_id', withFields({ metadata: { user_id: 7 } }), 'metadata.user_id: Input should be a valid string'],
    [
      'a user_id over 512 characters',
      withFields({ metadata: { user_id: 'u'.repeat(513) } }),
      'metadata.user_id: String should have at most 512 characters',
    ],
    ['tools that are not a list', withFields({ tools: { name: 'x' } }), 'tools: Input should be a valid list'],
    ['a tool that is not an object', withFields({ tools: ['get_weather'] }), 'tools.0: Input should be a valid dictionary'],
    ['a tool without a name', withFields({ tools: [{ name: 'a' }, { input_schema: {} }] }), 'tools.1.name: Field required'],
    ['a tool with a numeric name', withFields({ tools: [{ name: 1 }] }), 'tools.0.name: Input should be a valid string'],
    ['a tool with an empty name', withFields({ tools: [{ name: '' }] }), 'tools.0.name: String should have at least 1 character'],
    ['tool_choice that is a string', withFields({ tool_choice: 'auto' }), 'tool_choice: Input should be a valid dictionary'],
    [
      'tool_choice with an unknown type',
      withFields({ tool_choice: { type: 'required' } }),
      "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'",
    ],
    ['tool_choice tool without a name', withFields({ tool_choice: { type: 'tool' } }), 'tool_choice.name: Field required'],
    ['tool_choice tool with a numeric name', withFields({ tool_choice: { type: 'tool', name: 3 } }), 'tool_choice.name: Input should be a valid string'],
    ['thinking that is not an object', withFields({ thinking: true }), 'thinking: Input should be a valid dictionary'],
    [
      'thinking with an unknown type',
      withFields({ thinking: { type: 'on' } }),
      "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'",
    ],
    ['thinking enabled without a budget', withFields({ thinking: { type: 'enabled' } }), 'thinking.budget_tokens: Field required'],
    [
      'thinking with a fractional budget',
      withFields({ thinking: { type: 'enabled', budget_tokens: 1500.5 } }),
      'thinking.budget_tokens: Input should be a valid integer',
    ],
    [
      'thinking with a budget under 1024',
      withFields({ thinking: { type: 'enabled', budget_tokens: 1023 } }),
      'thinking.budget_tokens: Input should be greater than or equal to 1024',
    ],
    [
      'a thinking budget equal to max_tokens',
      withFields({ max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } }),
      'max_tokens: must be greater than thinking.budget_tokens',
    ],
  ])('rejects %s', (_name, params, message) => {
    expect(validateParams(params)).toBe(message);
  });

  it('reports the first problem in field order', () => {
    expect(validateParams({ stream: true })).toBe('model: Field required');
    expect(validateParams(withFields({ max_tokens: 0, messages: [] }))).toBe(
      'max_tokens: Input should be greater than or equal to 1',
    );
  });
});

describe('validateCountParams', () => {
  const messages = [{ role: 'user', content: 'count me' }];

  it('takes the params of a token count, which have no max_tokens', () => {
    expect(validateCountParams({ model: 'm', messages })).toBeNull();
    expect(validateCountParams({ model: 'm', messages, system: 'terse', tools: [{ name: 't', input_schema: {} }], thinking: { type: 'enabled', budget_tokens: 2048 } })).toBeNull();
  });

  it('checks what a count reads: model, messages, system, tools, tool_choice, thinking', () => {
    expect(validateCountParams({})).toBe('model: Field required');
    expect(validateCountParams({ model: 'm' })).toBe('messages: Field required');
    expect(validateCountParams({ model: 'm', messages: [{ role: 'assistant', content: 'hi' }] })).toBe('messages: first message must use the "user" role');
    expect(validateCountParams({ model: 'm', messages, system: 3 })).toMatch(/^system: /);
    expect(validateCountParams({ model: 'm', messages, tools: [{}] })).toBe('tools.0.name: Field required');
    expect(validateCountParams({ model: 'm', messages, thinking: { type: 'enabled', budget_tokens: 1 } })).toMatch(/^thinking.budget_tokens: /);
    expect(validateCountParams([])).toBe('params: Input should be a valid dictionary');
  });
});
