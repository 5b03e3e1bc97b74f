import type { Message, StopReason } from '@batchd/sdk';
import type { ChatCompletion, ChatFinishReason, ChatToolCall } from '../backends/openai/chat-completions.js';

/**
 * Turns an Anthropic `Message` into the `chat.completion` object a chat completions client
 * expects, with one choice.
 *
 * - `id` is `options.id` when given, else `chatcmpl-` plus the message id without `msg_`;
 *   `created` is `options.created` (seconds); `model` is the message's.
 * - Content: the text blocks joined with no separator (a response's text blocks are consecutive
 *   pieces of one answer, split where citations start and end) become `content`, null when there
 *   is no text; `tool_use` blocks become `tool_calls` with their input as JSON `arguments`.
 *   Thinking, redacted thinking and server tool blocks have no chat completions form and are left
 *   out. `refusal` is always null: a refused Message's text (if any) stays in `content`.
 * - `finish_reason`: `end_turn`, `stop_sequence` and `pause_turn` → `stop`; `max_tokens` and
 *   `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`; `refusal` →
 *   `content_filter`; a missing or unknown stop reason → `stop`.
 * - Usage: `prompt_tokens` counts every input token (uncached, cache reads and cache writes),
 *   `prompt_tokens_details.cached_tokens` the cache reads, `completion_tokens` the output tokens.
 */

export interface MessageToChatOptions {
  /** The completion id to report; derived from the message id when absent. */
  id?: string;
  /** When the completion was made, in seconds since the epoch. */
  created: number;
}

const FINISH_REASONS: Readonly<Record<StopReason, ChatFinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

function finishReason(stopReason: string | null): ChatFinishReason {
  return stopReason !== null && Object.hasOwn(FINISH_REASONS, stopReason) ? FINISH_REASONS[stopReason as StopReason] : 'stop';
}

function count(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function completionId(messageId: string): string {
  return `chatcmpl-${messageId.replace(/^msg_/, '')}`;
}

export function messageToChatCompletion(message: Message, options: MessageToChatOptions): ChatCompletion {
  const texts: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const text = texts.join('');
  const chatMessage: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text === '' ? null : text, refusal: null };
  if (calls.length > 0) chatMessage.tool_calls = calls;

  const { usage } = message;
  const cached = count(usage.cache_read_input_tokens);
  const promptTokens = count(usage.input_tokens) + cached + count(usage.cache_creation_input_tokens);
  const completionTokens = count(usage.output_tokens);
  return {
    id: options.id ?? completionId(message.id),
    object: 'chat.completion',
    created: options.created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: chatMessage,
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cached },
    },
  };
}
