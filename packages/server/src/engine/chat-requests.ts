import type { ChatCompletion } from '../backends/openai/chat-completions.js';
import { isObject } from '../json.js';
import type { Completion, UsageTotals } from '../store/store.js';
import { sendChat } from '../translate/send-chat.js';
import { chatErrorResponse, chatResponse } from '../wire/chat-result.js';
import type { RequestKind } from './request-kind.js';

/** A completion's token counts as batch usage totals: cached prompt tokens count as cache reads. */
function usageOf(completion: ChatCompletion): UsageTotals {
  const usage: Partial<ChatCompletion['usage']> = isObject(completion.usage) ? completion.usage : {};
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
  const cached = count(usage.prompt_tokens_details?.cached_tokens);
  return {
    input_tokens: Math.max(0, count(usage.prompt_tokens) - cached),
    output_tokens: count(usage.completion_tokens),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/**
 * OpenAI batch requests: chat completions bodies, sent through {@link sendChat}, with results
 * stored as the `response` their output or error file line carries.
 */
export function chatRequests(now: () => number): RequestKind {
  const createdSeconds = () => Math.floor(now() / 1000);
  return {
    parse(text) {
      let params: unknown;
      try {
        params = JSON.parse(text);
      } catch {
        return { invalid: 'body: not valid JSON' };
      }
      if (!isObject(params) || typeof params.model !== 'string') return { invalid: 'model: a model name is required' };
      return { params, model: params.model };
    },

    async call(context) {
      const { key, lane, params, signal, attempt, prefixKey } = context;
      const call = { params, signal, attempt, routingKey: prefixKey };
      const outcome = await lane.callWith((backend) => sendChat(backend, call, createdSeconds), 'batch', context);
      if (outcome === null || outcome.kind === 'error') return outcome;
      const completion: Completion = { key, type: 'succeeded', result: chatResponse(200, outcome.completion), usage: usageOf(outcome.completion) };
      return { kind: 'succeeded', completion };
    },

    errored(key, errorType, message) {
      return { key, type: 'errored', result: chatErrorResponse(errorType, message) };
    },
  };
}
