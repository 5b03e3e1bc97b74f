import { describe, expect, it } from 'vitest';
import { chatToTextCompletion, completionsToChat } from './completions-to-chat.js';

describe('completionsToChat', () => {
  it('makes the prompt one user message, with the params both APIs share and OpenAI default max_tokens', () => {
    expect(completionsToChat({ model: 'm', prompt: 'Once upon', temperature: 0.5, stop: ['\n'], user: 'u', echo: false, best_of: 1, suffix: null })).toEqual({
      body: { model: 'm', max_tokens: 16, temperature: 0.5, stop: ['\n'], user: 'u', messages: [{ role: 'user', content: 'Once upon' }] },
    });
    expect(completionsToChat({ model: 'm', prompt: ['Only one'], max_tokens: 5 })).toEqual({ body: { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'Only one' }] } });
  });

  it('names what a Messages backend cannot do', () => {
    const refused = (body: Record<string, unknown>) => (completionsToChat({ model: 'm', prompt: 'x', ...body }) as { error: string }).error;
    expect(refused({ prompt: ['a', 'b'] })).toBe('prompt (other than one string): not supported by the Messages backend');
    expect(refused({ prompt: [1, 2, 3] })).toBe('prompt (other than one string): not supported by the Messages backend');
    expect(refused({ prompt: '' })).toBe('prompt: must not be empty');
    expect(refused({ echo: true })).toBe('echo: not supported by the Messages backend');
    expect(refused({ suffix: 'end' })).toBe('suffix: not supported by the Messages backend');
    expect(refused({ best_of: 3 })).toBe('best_of: not supported by the Messages backend');
    expect(refused({ logprobs: 2 })).toBe('logprobs: not supported by the Messages backend');
    expect(refused({ messages: [] })).toBe('messages: not supported by the Messages backend');
  });
});

describe('chatToTextCompletion', () => {
  it('answers the first choice as a text_completion', () => {
    const completion = {
      id: 'chatcmpl-xyz',
      created: 5,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'there was' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    expect(chatToTextCompletion(completion)).toEqual({
      id: 'cmpl-xyz',
      object: 'text_completion',
      created: 5,
      model: 'm',
      choices: [{ text: 'there was', index: 0, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });
});
