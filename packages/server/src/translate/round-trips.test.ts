import type { Message } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../backends/openai/chat-completions.js';
import { fromOpenAI } from './from-openai.js';
import { toOpenAI } from './to-openai.js';
import { chatToMessages } from './chat-to-messages.js';
import { messageToChatCompletion } from './message-to-chat.js';

/** A chat request through `chatToMessages`, then back through the backend's `toOpenAI`. */
function roundTrip(request: ChatCompletionRequest): ChatCompletionRequest {
  const translated = chatToMessages(request);
  if ('error' in translated) throw new Error(translated.error);
  const back = toOpenAI(translated.params);
  if ('error' in back) throw new Error(back.error);
  return back.body;
}

describe('a chat request through Messages params and back', () => {
  it('keeps text turns, the system prompt and sampling params', () => {
    const request: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Who won the world series in 2020?' },
        { role: 'assistant', content: 'The Los Angeles Dodgers won the World Series in 2020.' },
        { role: 'user', content: 'Where was it played?' },
      ],
      max_tokens: 300,
      temperature: 0.5,
      top_p: 0.95,
      stop: ['\n\n', 'END'],
      user: 'user-42',
    };
    expect(roundTrip(request)).toEqual(request);
  });

  it('keeps tools, tool calls and their results', () => {
    const parameters = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
    const request: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: "What's the weather in Boston and Paris?" },
        {
          role: 'assistant',
          content: 'Let me look both up.',
          tool_calls: [
            { id: 'call_abc', type: 'function', function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA"}' } },
            { id: 'call_def', type: 'function', function: { name: 'get_current_weather', arguments: '{"location":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: '22 celsius' },
        { role: 'tool', tool_call_id: 'call_def', content: '18 celsius' },
        { role: 'user', content: 'Which is warmer?' },
      ],
      max_tokens: 512,
      tools: [{ type: 'function', function: { name: 'get_current_weather', description: 'Current weather in a city', parameters, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'get_current_weather' } },
      parallel_tool_calls: false,
    };
    expect(roundTrip(request)).toEqual(request);
    const { parallel_tool_calls: _parallel, ...parallel } = request;
    expect(roundTrip({ ...parallel, tool_choice: 'required' })).toEqual({ ...parallel, tool_choice: 'required' });
  });

  it('keeps base64 and URL images', () => {
    const request: ChatCompletionRequest = {
      model: 'claude-haiku-4-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these two pictures.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/boardwalk.jpg' } },
          ],
        },
      ],
      max_tokens: 128,
    };
    expect(roundTrip(request)).toEqual(request);
  });
});

describe('a Message through chat.completion and back', () => {
  function backAgain(message: Message): Message {
    const completion = messageToChatCompletion(message, { created: 1_764_000_000 });
    const result = fromOpenAI(JSON.parse(JSON.stringify(completion)), { model: 'unused' });
    if ('error' in result) throw new Error(result.error);
    return result.message;
  }

  const usage = {
    input_tokens: 40,
    output_tokens: 18,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 1200,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    server_tool_use: null,
    service_tier: null,
    inference_geo: null,
  };

  function message(content: Message['content'], stopReason: Message['stop_reason'], stopDetails: unknown = null): Message {
    const base = { id: 'msg_01Aq9w938a90dw8q', type: 'message', role: 'assistant', content, model: 'claude-haiku-4-5-20251001' } as const;
    return { ...base, stop_reason: stopReason, stop_sequence: null, stop_details: stopDetails, container: null, usage };
  }

  it('keeps a text answer, its id, model and usage', () => {
    const original = message([{ type: 'text', text: 'Paris is the capital of France.', citations: null }], 'end_turn');
    expect(backAgain(original)).toEqual(original);
  });

  it('keeps text with tool calls', () => {
    const original = message(
      [
        { type: 'text', text: 'Checking the weather.', citations: null },
        { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_current_weather', input: { location: 'Paris', unit: 'celsius' }, caller: { type: 'direct' } },
      ],
      'tool_use',
    );
    expect(backAgain(original)).toEqual(original);
  });

  it('keeps a cut answer and a refusal', () => {
    const cut = message([{ type: 'text', text: 'Once upon a', citations: null }], 'max_tokens');
    expect(backAgain(cut)).toEqual(cut);
    const refused = message([], 'refusal', { type: 'refusal', category: null, explanation: null });
    expect(backAgain(refused)).toEqual(refused);
  });
});
