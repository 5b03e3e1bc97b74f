import { describe, expect, it } from 'vitest';
import { validateParams } from './validate-params.js';
import { chatToMessages, DEFAULT_MAX_TOKENS } from './chat-to-messages.js';

const messages = [{ role: 'user', content: 'Say hello.' }];
const base = { model: 'claude-sonnet-4-5', messages };

/** The Messages params `body` translates to, checked against the Messages API's validation. */
function params(body: Record<string, unknown>): Record<string, unknown> {
  const result = chatToMessages(body);
  if ('error' in result) throw new Error(result.error);
  expect(validateParams(result.params)).toBeNull();
  return result.params;
}

function error(body: unknown): string {
  const result = chatToMessages(body);
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result.params)}`);
  return result.error;
}

describe('chatToMessages', () => {
  it('translates a request with sampling params', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'developer', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Hello!' },
      ],
      max_completion_tokens: 256,
      temperature: 0.7,
      top_p: 0.9,
      stop: ['\n\nUser:', 'END'],
      user: 'user-1234',
      n: 1,
      logprobs: false,
      response_format: { type: 'text' },
      modalities: ['text'],
      logit_bias: {},
      presence_penalty: 0,
      frequency_penalty: 0,
      stream: false,
      store: true,
      metadata: { project: 'demo' },
      service_tier: 'auto',
      prompt_cache_key: 'greeting',
      seed: null,
      top_logprobs: null,
    };
    expect(params(body)).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: 'You are a helpful assistant.',
      messages: [{ role: 'user', content: 'Hello!' }],
      stop_sequences: ['\n\nUser:', 'END'],
      temperature: 0.7,
      top_p: 0.9,
      metadata: { user_id: 'user-1234' },
    });
  });

  it('takes max_completion_tokens, else max_tokens, else the default', () => {
    expect(params({ ...base, max_tokens: 100 }).max_tokens).toBe(100);
    expect(params({ ...base, max_completion_tokens: 200 }).max_tokens).toBe(200);
    expect(params({ ...base, max_tokens: 200, max_completion_tokens: 200 }).max_tokens).toBe(200);
    expect(params(base).max_tokens).toBe(DEFAULT_MAX_TOKENS);
    expect(DEFAULT_MAX_TOKENS).toBe(4096);
    expect(error({ ...base, max_tokens: 100, max_completion_tokens: 200 })).toBe('max_tokens: differs from max_completion_tokens');
    expect(error({ ...base, max_tokens: 0 })).toBe('max_tokens: must be a positive integer');
    expect(error({ ...base, max_completion_tokens: 1.5 })).toBe('max_completion_tokens: must be a positive integer');
    expect(error({ ...base, max_tokens: '64' })).toBe('max_tokens: invalid value');
  });

  it('sends a stop string as one stop sequence and leaves an empty list out', () => {
    expect(params({ ...base, stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(params({ ...base, stop: [] })).not.toHaveProperty('stop_sequences');
    expect(error({ ...base, stop: ['END', 3] })).toBe('stop.1: invalid value');
  });

  it('keeps temperatures up to 1 and rejects higher ones rather than clamping', () => {
    expect(params({ ...base, temperature: 0 }).temperature).toBe(0);
    expect(params({ ...base, temperature: 1 }).temperature).toBe(1);
    expect(error({ ...base, temperature: 1.2 })).toBe('temperature (above 1): not supported by the Messages backend');
    expect(error({ ...base, temperature: 2.5 })).toBe('temperature: must be between 0 and 2');
    expect(error({ ...base, temperature: -0.1 })).toBe('temperature: must be between 0 and 2');
    expect(error({ ...base, top_p: 1.5 })).toBe('top_p: must be between 0 and 1');
  });

  it('reads null params as not given', () => {
    const nulls = { temperature: null, top_p: null, stop: null, max_tokens: null, tools: null, tool_choice: null, user: null, n: null };
    expect(params({ ...base, ...nulls })).toEqual({ model: 'claude-sonnet-4-5', max_tokens: DEFAULT_MAX_TOKENS, messages });
  });

  it('takes the user id from safety_identifier before user', () => {
    expect(params({ ...base, user: 'u-1', safety_identifier: 'hash-9' }).metadata).toEqual({ user_id: 'hash-9' });
    expect(error({ ...base, user: 42 })).toBe('user: invalid value');
    expect(error({ ...base, safety_identifier: 'x'.repeat(513) })).toBe('safety_identifier: at most 512 characters');
  });

  it('translates function tools and every tool_choice', () => {
    const weather = {
      type: 'function',
      function: {
        name: 'get_current_weather',
        description: 'Get the current weather in a given location',
        parameters: {
          type: 'object',
          properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
          required: ['location'],
        },
        strict: true,
      },
    };
    const noArgs = { type: 'function', function: { name: 'get_time' } };
    const withTools = { ...base, tools: [weather, noArgs] };
    expect(params(withTools).tools).toEqual([
      { name: 'get_current_weather', description: 'Get the current weather in a given location', input_schema: weather.function.parameters, strict: true },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(params(withTools)).not.toHaveProperty('tool_choice');
    expect(params({ ...withTools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(params({ ...withTools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(params({ ...withTools, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(params({ ...withTools, tool_choice: { type: 'function', function: { name: 'get_time' } } }).tool_choice).toEqual({ type: 'tool', name: 'get_time' });
  });

  it('turns parallel_tool_calls false into disable_parallel_tool_use', () => {
    const withTools = { ...base, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] };
    expect(params({ ...withTools, parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(params({ ...withTools, parallel_tool_calls: false, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(params({ ...withTools, parallel_tool_calls: false, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(params({ ...withTools, parallel_tool_calls: true })).not.toHaveProperty('tool_choice');
  });

  it('leaves tool settings out without tools, but refuses to force a tool that is not there', () => {
    const plain = { model: 'claude-sonnet-4-5', max_tokens: DEFAULT_MAX_TOKENS, messages };
    expect(params({ ...base, tools: [], tool_choice: 'none', parallel_tool_calls: false })).toEqual(plain);
    expect(params({ ...base, tool_choice: 'auto' })).toEqual(plain);
    expect(error({ ...base, tool_choice: 'required' })).toBe('tool_choice: only allowed with tools');
  });

  it.each([
    ['n (above 1)', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { logprobs: true, top_logprobs: 3 }],
    ['response_format (json_object)', { response_format: { type: 'json_object' } }],
    ['response_format (json_schema)', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }],
    ['audio', { modalities: ['text'], audio: { voice: 'alloy', format: 'wav' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['seed', { seed: 42 }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: -0.2 }],
    ['functions', { functions: [{ name: 'f', parameters: { type: 'object' } }] }],
    ['function_call', { function_call: 'auto' }],
    ['stream', { stream: true }],
    ['stream_options', { stream_options: { include_usage: true } }],
    ['reasoning_effort', { reasoning_effort: 'low' }],
    ['web_search_options', { web_search_options: {} }],
    ['tools.0 (custom)', { tools: [{ type: 'custom', custom: { name: 'grammar' } }] }],
    ['tools.0.function.examples', { tools: [{ type: 'function', function: { name: 'f', examples: [] } }] }],
    ['tool_choice (allowed_tools)', { tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: {} } }],
  ])('rejects %s', (param, extra) => {
    expect(error({ ...base, ...extra })).toBe(`${param}: not supported by the Messages backend`);
  });

  it.each([
    ['body: not a JSON object', 'hello'],
    ['body: not a JSON object', [base]],
    ['model: invalid value', { messages }],
    ['model: must not be empty', { ...base, model: '' }],
    ['messages: invalid value', { model: 'm' }],
    ['n: must be a positive integer', { ...base, n: 0 }],
    ['logprobs: invalid value', { ...base, logprobs: 'yes' }],
    ['stream: invalid value', { ...base, stream: 'false' }],
    ['tools: invalid value', { ...base, tools: { type: 'function' } }],
    ['tools.0.function.name: invalid value', { ...base, tools: [{ type: 'function', function: { description: 'no name' } }] }],
    ['tools.0.function.parameters: invalid value', { ...base, tools: [{ type: 'function', function: { name: 'f', parameters: 'object' } }] }],
    ['tool_choice: invalid value', { ...base, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'any' }],
    ['parallel_tool_calls: invalid value', { ...base, parallel_tool_calls: 'no' }],
  ])('reports %s', (message, body) => {
    expect(error(body)).toBe(message);
  });
});
