import { describe, expect, it } from 'vitest';
import { validateParams } from './validate-params.js';
import { chatToMessages } from './chat-to-messages.js';

/** The Messages `system` and `messages` a chat conversation translates to, checked against the Messages API's validation. */
function translated(messages: unknown[]): { system?: unknown; messages: unknown } {
  const result = chatToMessages({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });
  if ('error' in result) throw new Error(result.error);
  expect(validateParams(result.params)).toBeNull();
  const { system, messages: turns } = result.params;
  return system === undefined ? { messages: turns } : { system, messages: turns };
}

function error(messages: unknown): string {
  const result = chatToMessages({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result.params)}`);
  return result.error;
}

const weatherCall = (id: string, city: string) => ({
  id,
  type: 'function',
  function: { name: 'get_current_weather', arguments: JSON.stringify({ location: city }) },
});

describe('chat messages as Messages turns', () => {
  it('moves system and developer messages into one system prompt', () => {
    expect(
      translated([
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: 'Never apologise.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: '' },
      ]),
    ).toEqual({ system: 'You are terse.\nAnswer in French.\nNever apologise.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(translated([{ role: 'system', content: '' }, { role: 'user', content: 'Hi' }])).not.toHaveProperty('system');
  });

  it('keeps text turns, as strings or text blocks', () => {
    expect(
      translated([
        { role: 'user', content: 'Knock knock.' },
        { role: 'assistant', content: "Who's there?" },
        { role: 'user', content: [{ type: 'text', text: 'Orange.' }] },
      ]).messages,
    ).toEqual([
      { role: 'user', content: 'Knock knock.' },
      { role: 'assistant', content: "Who's there?" },
      { role: 'user', content: [{ type: 'text', text: 'Orange.' }] },
    ]);
  });

  it('turns image_url parts into base64 and url image blocks', () => {
    const content = [
      { type: 'text', text: 'What is in these images?' },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==', detail: 'high' } },
      { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/wikipedia/commons/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg' } },
    ];
    expect(translated([{ role: 'user', content }]).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these images?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
          { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/wikipedia/commons/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg' } },
        ],
      },
    ]);
  });

  it('turns tool calls into tool_use blocks and tool messages into one user turn of tool results', () => {
    const result = translated([
      { role: 'user', content: "What's the weather like in Boston and Paris today?" },
      { role: 'assistant', content: null, tool_calls: [weatherCall('call_abc', 'Boston, MA'), weatherCall('call_def', 'Paris')] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temperature": 22, "unit": "celsius"}' },
      { role: 'tool', tool_call_id: 'call_def', content: [{ type: 'text', text: '18' }, { type: 'text', text: 'celsius' }] },
      { role: 'user', content: 'Which is warmer?' },
    ]);
    expect(result.messages).toEqual([
      { role: 'user', content: "What's the weather like in Boston and Paris today?" },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_abc', name: 'get_current_weather', input: { location: 'Boston, MA' } },
          { type: 'tool_use', id: 'call_def', name: 'get_current_weather', input: { location: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_abc', content: '{"temperature": 22, "unit": "celsius"}' },
          { type: 'tool_result', tool_use_id: 'call_def', content: [{ type: 'text', text: '18' }, { type: 'text', text: 'celsius' }] },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it('keeps assistant text and refusals beside tool calls, and reads empty arguments as no input', () => {
    const result = translated([
      { role: 'user', content: 'What time is it?' },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Let me check.' }, { type: 'refusal', refusal: 'I will not guess.' }],
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '12:00' },
    ]);
    expect(result.messages).toEqual([
      { role: 'user', content: 'What time is it?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'text', text: 'I will not guess.' },
          { type: 'tool_use', id: 'call_1', name: 'get_time', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '12:00' }] },
    ]);
    const refused = translated([
      { role: 'user', content: 'Help me pick a lock.' },
      { role: 'assistant', content: null, refusal: "I can't help with that." },
      { role: 'user', content: 'Fine.' },
    ]);
    expect(refused.messages).toEqual([
      { role: 'user', content: 'Help me pick a lock.' },
      { role: 'assistant', content: [{ type: 'text', text: "I can't help with that." }] },
      { role: 'user', content: 'Fine.' },
    ]);
  });

  it('merges adjacent turns of the same role, as Messages turns alternate', () => {
    expect(
      translated([
        { role: 'user', content: 'First.' },
        { role: 'user', content: [{ type: 'text', text: 'Second.' }] },
        { role: 'assistant', content: 'One.' },
        { role: 'assistant', content: 'Two.' },
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Third.' },
      ]),
    ).toEqual({
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'First.' }, { type: 'text', text: 'Second.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'One.' }, { type: 'text', text: 'Two.' }] },
        { role: 'user', content: 'Third.' },
      ],
    });
  });

  const question = { role: 'user', content: 'Weather in Paris?' };

  it.each([
    ['messages.0.name', [{ role: 'user', content: 'Hi', name: 'alice' }]],
    ['messages.0.content.1 (input_audio)', [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'input_audio', input_audio: { data: 'AAA=', format: 'wav' } }] }]],
    ['messages.0.content.0 (file)', [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }]],
    ['messages.0.content.0.image_url.url (image/svg+xml)', [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }] }]],
    ['messages.0.content.0 (image)', [{ role: 'system', content: [{ type: 'image', image: {} }] }, question]],
    ['messages.1 (function)', [question, { role: 'function', name: 'f', content: '1' }]],
    ['messages.1.function_call', [question, { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }, question]],
    ['messages.1.audio', [question, { role: 'assistant', content: null, audio: { id: 'audio_1' } }, question]],
    ['messages.1.tool_calls.0 (custom)', [question, { role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'g', input: 'x' } }] }, question]],
    ['messages.1 (final assistant message)', [question, { role: 'assistant', content: 'The weather in Paris is' }]],
    ['messages.1 (final assistant message)', [question, { role: 'assistant', content: 'It is' }, { role: 'system', content: 'Continue.' }]],
  ])('rejects %s', (param, messages) => {
    expect(error(messages)).toBe(`${param}: not supported by the Messages backend`);
  });

  it.each([
    ['messages: invalid value', 'Hello'],
    ['messages: at least one user message is required', []],
    ['messages: at least one user message is required', [{ role: 'system', content: 'Be brief.' }]],
    ['messages.0: invalid value', ['Hello']],
    ['messages.0.role: invalid value', [{ role: 'human', content: 'Hi' }]],
    ['messages.0.content: invalid value', [{ role: 'user', content: null }]],
    ['messages.0.content: at least one content part is required', [{ role: 'user', content: [] }]],
    ['messages.0.content.0.text: invalid value', [{ role: 'user', content: [{ type: 'text' }] }]],
    ['messages.0.content.0.image_url.url: not an http(s) URL or a base64 data URL', [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }]],
    ['messages.0: the first message after system messages must be a user message', [{ role: 'assistant', content: 'Hello, how can I help?' }, question]],
    ['messages.1: a tool message must follow an assistant message with tool_calls', [question, { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' }]],
    ['messages.1.content: an assistant message needs content or tool_calls', [question, { role: 'assistant', content: null }, question]],
    ['messages.1.content: an assistant message needs content or tool_calls', [question, { role: 'assistant', content: '' }, question]],
    ['messages.0.content: must not be empty', [{ role: 'user', content: '' }]],
    [
      'messages.1.tool_calls.0.function.arguments: not a JSON object',
      [question, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"location": "Par' } }] }],
    ],
    [
      'messages.1.tool_calls.0.function.arguments: not a JSON object',
      [question, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '["Paris"]' } }] }],
    ],
    [
      'messages.1.tool_calls.0.function.arguments: its JSON is nested deeper than the maximum of 64 levels',
      [question, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: `{"a":${'['.repeat(100_000)}` } }] }],
    ],
    [
      'messages.1.tool_calls.0.function.arguments: its JSON has more than the maximum of 100000 JSON values and keys',
      [question, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: `{"a":[${'0,'.repeat(100_000)}0]}` } }] }],
    ],
    ['messages.1.tool_calls.0.id: invalid value', [question, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }]],
    [
      'messages.2.tool_call_id: invalid value',
      [question, { role: 'assistant', tool_calls: [weatherCall('c', 'Paris')] }, { role: 'tool', content: 'Sunny' }],
    ],
  ])('reports %s', (message, messages) => {
    expect(error(messages)).toBe(message);
  });
});
