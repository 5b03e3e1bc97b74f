import { isObject } from '../../src/json.js';
import { anthropicMessage, openAICompletion } from './fake-answers.js';

/**
 * Answers for a {@link FakeProvider}'s `respond` that report prompt-cache usage, for tests of cost
 * and cache hit rate.
 */

/** The last turn's text: it says what an answer reports. */
function lastText(body: unknown): string {
  const messages = isObject(body) && Array.isArray(body.messages) ? body.messages : [];
  const last: unknown = messages[messages.length - 1];
  return isObject(last) && typeof last.content === 'string' ? last.content : '';
}

/**
 * A Messages answer with 100 input and 20 output tokens that writes a 1,000-token prompt cache
 * when the last turn says `write` and reads one when it says `read`. The model `claude-alias` is
 * answered as `claude-sonnet-4-5-20250929`, as a provider resolves an alias.
 */
export function cacheUsageMessage(body: unknown) {
  const text = lastText(body);
  const message = anthropicMessage(body) as Record<string, unknown>;
  const model = isObject(body) && body.model === 'claude-alias' ? 'claude-sonnet-4-5-20250929' : message.model;
  const usage = {
    ...(message.usage as Record<string, unknown>),
    input_tokens: 100,
    output_tokens: 20,
    cache_creation_input_tokens: text === 'write' ? 1000 : 0,
    cache_read_input_tokens: text === 'read' ? 1000 : 0,
  };
  return { ...message, model, usage };
}

/** A chat completion that reports 800 of its 1,000 prompt tokens as cached, and 50 completion tokens. */
export function cacheUsageCompletion(body: unknown) {
  return { ...openAICompletion(body), usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 800 } } };
}

/**
 * A config file's content routing `claude-*` to an Anthropic provider and `gpt-*` to a chat
 * completions server, with direct and batch prices for Sonnet 4.5 and direct prices for gpt-4.1.
 */
export function pricedConfig(anthropicUrl: string, chatUrl: string) {
  return {
    backends: [
      { name: 'hosted', type: 'anthropic', url: anthropicUrl, models: ['claude-*'] },
      { name: 'gpu', type: 'openai', url: chatUrl, models: ['gpt-*'] },
    ],
    prices: [
      {
        models: ['claude-sonnet-4-5*'],
        direct: { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
        batch: { input: 1.5, output: 7.5, cache_write: 1.875, cache_read: 0.15 },
      },
      { models: ['gpt-4.1*'], direct: { input: 2, output: 8, cache_write: 2, cache_read: 0.5 } },
    ],
  };
}
