import type { Backend, BackendCall, ChatOutcome } from '../backends/backend.js';
import type { ChatCompletion } from '../backends/openai/chat-completions.js';
import { isObject } from '../json.js';
import { chatToMessages } from '../translate/chat-to-messages.js';
import { messageToChatCompletion } from '../translate/message-to-chat.js';
import { chatErrorBody, chatErrorStatus } from '../wire/openai-error.js';
import { newRequestId } from '../ids.js';
import type { Completion, UsageTotals } from '../store/store.js';
import type { RequestDialect } from './request-dialect.js';

/**
 * Sends a chat completions request to `backend`: as it is to a backend that speaks chat
 * completions, else translated to Messages params (a param that has no translation answers 400
 * `invalid_request_error` naming it, without a call) and the `Message` answered translated back.
 */
export async function sendChat(backend: Backend, call: BackendCall, createdSeconds: () => number): Promise<ChatOutcome> {
  if (backend.sendChat) return backend.sendChat(call);
  const translated = chatToMessages(call.params);
  if ('error' in translated) return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: translated.error };
  const outcome = await backend.send({ ...call, params: translated.params });
  if (outcome.kind === 'error') return outcome;
  return { kind: 'completion', completion: messageToChatCompletion(outcome.message, { created: createdSeconds() }) };
}

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

/** A stored result of a chat request: the `response` of its line in the batch's output or error file. */
function response(statusCode: number, body: unknown): string {
  return `{"status_code":${statusCode},"request_id":"${newRequestId()}","body":${JSON.stringify(body)}}`;
}

/**
 * OpenAI batch requests: chat completions bodies, sent through {@link sendChat}, with results
 * stored as the `response` their output or error file line carries.
 */
export function chatDialect(now: () => number): RequestDialect {
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

    async call(key, lane, params, signal, attempt, stillWanted) {
      const outcome = await lane.callWith((backend) => sendChat(backend, { params, signal, attempt }, createdSeconds), 'batch', stillWanted);
      if (outcome === null || outcome.kind === 'error') return outcome;
      const completion: Completion = { key, type: 'succeeded', result: response(200, outcome.completion), usage: usageOf(outcome.completion) };
      return { kind: 'succeeded', completion };
    },

    errored(key, errorType, message) {
      return { key, type: 'errored', result: response(chatErrorStatus(errorType), chatErrorBody(errorType, message)) };
    },
  };
}
