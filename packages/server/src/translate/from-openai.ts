import { createHash } from 'node:crypto';
import type { ContentBlock, Message, StopReason } from '@batchd/sdk';
import { isObject, PARAMS_SHAPE, pastShape, type Json } from '../json.js';

/**
 * Turns a chat completion (parsed JSON, unchecked) into a full Anthropic `Message`, or says why it
 * is not a usable completion: `{ error }`, which the backend answers as a retryable
 * "invalid response body".
 *
 * - Only the first choice is read. Its text becomes one text block (omitted when empty), an
 *   OpenAI `refusal` becomes a text block too, and each tool call (or a legacy `function_call`)
 *   becomes a `tool_use` block with its arguments parsed as the input. Missing or empty arguments
 *   read as `{}`. Arguments that are not a JSON object are an error, unless the completion was cut
 *   by `max_tokens` (`finish_reason: length`): then the truncated call keeps input `{}`.
 *   Reasoning text some servers add (`reasoning_content`) is not carried over.
 * - `finish_reason`: `stop` → `end_turn`, or `stop_sequence` when the server reports which stop
 *   string matched (vLLM's `stop_reason`) and it is one of the request's `stop_sequences`;
 *   `length` → `max_tokens`; `tool_calls`/`function_call` → `tool_use` (also whenever tool calls
 *   are present and the completion was not cut); `content_filter` or a refusal → `refusal`, with
 *   `stop_details` `{type:'refusal', category:null, explanation:null}`; anything else → `end_turn`.
 * - Usage: `prompt_tokens` minus cached tokens → `input_tokens`, cached tokens
 *   (`prompt_tokens_details.cached_tokens`) → `cache_read_input_tokens`, `completion_tokens` →
 *   `output_tokens`; cache creation is 0; `service_tier`, `server_tool_use`, `inference_geo` null.
 * - `id` is `msg_` plus the completion id's letters, digits and underscores (without `chatcmpl-`),
 *   or a hash of the completion when it has none; tool calls without an id get `toolu_<that>_<n>`.
 * - `model` is the model the server says it ran, else the one requested.
 */

/** What the translation needs to know about the request. */
export interface FromOpenAIRequest {
  /** The model the request named, used when the completion names none. */
  model: string;
  /** The request's `stop_sequences`, to recognise a stop string the server reports. */
  stopSequences?: readonly string[];
}

export type FromOpenAIResult = { message: Message } | { error: string };

const REFUSAL_DETAILS = { type: 'refusal', category: null, explanation: null } as const;

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function messageId(completion: Json): string {
  const raw = typeof completion.id === 'string' ? completion.id.replace(/^chatcmpl-/, '') : '';
  const clean = raw.replace(/[^A-Za-z0-9_]/g, '');
  if (clean !== '') return `msg_${clean}`;
  return `msg_${createHash('sha256').update(JSON.stringify(completion)).digest('hex').slice(0, 24)}`;
}

/** The text of `content`: a string, or the text parts some servers answer with. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** The input of a tool call: `{}` for missing or empty arguments, null when they are not a JSON object or not of a request's shape. */
function parseArguments(args: unknown): Json | null {
  if (isObject(args)) return args;
  if (args === undefined || args === null || (typeof args === 'string' && args.trim() === '')) return {};
  if (typeof args !== 'string' || pastShape(args, PARAMS_SHAPE) !== undefined) return null;
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

interface RawCall {
  id: unknown;
  name: unknown;
  arguments: unknown;
}

function rawCalls(message: Json): RawCall[] {
  const calls: RawCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      const fn = isObject(call) && isObject(call.function) ? call.function : {};
      calls.push({ id: isObject(call) ? call.id : undefined, name: fn.name, arguments: fn.arguments });
    }
  }
  if (isObject(message.function_call)) {
    calls.push({ id: undefined, name: message.function_call.name, arguments: message.function_call.arguments });
  }
  return calls;
}

function toolUseBlocks(message: Json, idStem: string, truncated: boolean): ContentBlock[] | string {
  const blocks: ContentBlock[] = [];
  for (const [index, call] of rawCalls(message).entries()) {
    if (typeof call.name !== 'string' || call.name === '') return `tool call ${index} has no function name`;
    const input = parseArguments(call.arguments) ?? (truncated ? {} : null);
    if (input === null) return `tool call ${index} (${call.name}) arguments are not a JSON object`;
    const id = typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${idStem}_${index}`;
    blocks.push({ type: 'tool_use', id, name: call.name, input, caller: { type: 'direct' } });
  }
  return blocks;
}

function stopReason(choice: Json, hasToolUse: boolean, refused: boolean, request: FromOpenAIRequest): { reason: StopReason; sequence: string | null } {
  const finish = choice.finish_reason;
  if (finish === 'length') return { reason: 'max_tokens', sequence: null };
  if (finish === 'content_filter' || refused) return { reason: 'refusal', sequence: null };
  if (hasToolUse || finish === 'tool_calls' || finish === 'function_call') return { reason: 'tool_use', sequence: null };
  const matched = choice.stop_reason;
  if (finish === 'stop' && typeof matched === 'string' && request.stopSequences?.includes(matched)) {
    return { reason: 'stop_sequence', sequence: matched };
  }
  return { reason: 'end_turn', sequence: null };
}

function usage(completion: Json): Message['usage'] {
  const reported = isObject(completion.usage) ? completion.usage : {};
  const details = isObject(reported.prompt_tokens_details) ? reported.prompt_tokens_details : {};
  const cached = count(details.cached_tokens);
  return {
    input_tokens: Math.max(0, count(reported.prompt_tokens) - cached),
    output_tokens: count(reported.completion_tokens),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    server_tool_use: null,
    service_tier: null,
    inference_geo: null,
  };
}

export function fromOpenAI(completion: unknown, request: FromOpenAIRequest): FromOpenAIResult {
  if (!isObject(completion)) return { error: 'not a JSON object' };
  const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  if (!isObject(choice) || !isObject(choice.message)) return { error: 'no choices' };
  const id = messageId(completion);
  const truncated = choice.finish_reason === 'length';
  const tools = toolUseBlocks(choice.message, id.slice('msg_'.length), truncated);
  if (typeof tools === 'string') return { error: tools };

  const refusal = typeof choice.message.refusal === 'string' ? choice.message.refusal : '';
  const text = contentText(choice.message.content) || refusal;
  const content: ContentBlock[] = text === '' ? tools : [{ type: 'text', text, citations: null }, ...tools];
  const stop = stopReason(choice, tools.length > 0 && !truncated, refusal !== '', request);
  const message: Message = {
    id,
    type: 'message',
    role: 'assistant',
    content,
    model: typeof completion.model === 'string' && completion.model !== '' ? completion.model : request.model,
    stop_reason: stop.reason,
    stop_sequence: stop.sequence,
    stop_details: stop.reason === 'refusal' ? { ...REFUSAL_DETAILS } : null,
    container: null,
    usage: usage(completion),
  };
  return { message };
}
