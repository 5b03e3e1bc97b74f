import { createHash } from 'node:crypto';
import { isObject, type Json } from '../../src/json.js';

/**
 * The bodies the fake providers answer with, in the Anthropic Messages or OpenAI chat completions
 * shape. Answers are deterministic: they echo the last user text and derive ids from the request.
 */

export type ProviderShape = 'anthropic' | 'openai';

const ECHO_PREFIX = 'echo: ';
const CHARS_PER_TOKEN = 4;

const ANTHROPIC_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const OPENAI_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'requests',
  500: 'server_error',
};

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** The text of the last user turn, in either shape (text blocks or parts joined by a space). */
export function lastUserText(body: unknown): string {
  const messages = isObject(body) && Array.isArray(body.messages) ? body.messages : [];
  const last = [...messages].reverse().find((message) => isObject(message) && message.role === 'user');
  if (!isObject(last)) return '';
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return '';
  return last.content
    .map((block) => (isObject(block) && typeof block.text === 'string' ? block.text : ''))
    .filter((text) => text !== '')
    .join(' ');
}

/** The tool a request forces, by either shape's `tool_choice`. */
function forcedTool(body: Json): string | undefined {
  const choice = body.tool_choice;
  if (!isObject(choice)) return undefined;
  if (typeof choice.name === 'string') return choice.name;
  return isObject(choice.function) && typeof choice.function.name === 'string' ? choice.function.name : undefined;
}

/** The reply text, cut at the first stop string it contains, and the stop string that cut it. */
function reply(body: Json, stops: unknown): { text: string; stop: string | null } {
  const text = ECHO_PREFIX + lastUserText(body);
  let cut: { text: string; stop: string | null } = { text, stop: null };
  for (const stop of Array.isArray(stops) ? stops : []) {
    if (typeof stop !== 'string' || stop === '') continue;
    const at = text.indexOf(stop);
    if (at >= 0 && at < cut.text.length) cut = { text: text.slice(0, at), stop };
  }
  return cut;
}

/** A Messages API answer to `body`. */
export function anthropicMessage(body: unknown): Json {
  const request = isObject(body) ? body : {};
  const id = hashOf(request);
  const tool = forcedTool(request);
  const { text, stop } = reply(request, request.stop_sequences);
  const content = tool === undefined
    ? [{ type: 'text', text, citations: null }]
    : [{ type: 'tool_use', id: `toolu_${id}`, name: tool, input: {}, caller: { type: 'direct' } }];
  return {
    id: `msg_${id}`,
    type: 'message',
    role: 'assistant',
    content,
    model: request.model,
    stop_reason: tool !== undefined ? 'tool_use' : stop !== null ? 'stop_sequence' : 'end_turn',
    stop_sequence: tool === undefined ? stop : null,
    stop_details: null,
    container: null,
    usage: {
      input_tokens: tokens(lastUserText(request)),
      output_tokens: tokens(text),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
    },
  };
}

/** A token count of `body` (`POST /v1/messages/count_tokens`): the input tokens its message would report. */
export function anthropicTokenCount(body: unknown): Json {
  return { input_tokens: tokens(lastUserText(body)) };
}

/** A chat completions answer to `body`; a matched stop string is reported as vLLM does (`stop_reason`). */
export function openAICompletion(body: unknown): Json {
  const request = isObject(body) ? body : {};
  const id = hashOf(request);
  const tool = forcedTool(request);
  const { text, stop } = reply(request, request.stop);
  const message = tool === undefined
    ? { role: 'assistant', content: text }
    : { role: 'assistant', content: null, tool_calls: [{ id: `call_${id}`, type: 'function', function: { name: tool, arguments: '{}' } }] };
  const promptTokens = tokens(lastUserText(request));
  const completionTokens = tokens(text);
  return {
    id: `chatcmpl-${id}`,
    object: 'chat.completion',
    created: 0,
    model: request.model,
    choices: [{ index: 0, message, finish_reason: tool === undefined ? 'stop' : 'tool_calls', stop_reason: stop, logprobs: null }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** An error body in the provider's shape for `status`. */
export function errorBody(shape: ProviderShape, status: number, message: string): Json {
  if (shape === 'anthropic') {
    const type = ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message }, request_id: `req_fake${status}` };
  }
  const type = OPENAI_ERROR_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  return { error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
}

/** A duration as OpenAI writes rate-limit resets: `20ms`, `1.5s`, `6m0s`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000)) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** `GET /v1/models` as each API answers it: OpenAI's whole list; the Anthropic API's pages, by `limit` (20 unless given) and `after_id`. */
export function modelList(shape: ProviderShape, models: Json[], path: string): Json {
  if (shape === 'openai') return { object: 'list', data: models };
  const query = new URL(path, 'http://fake').searchParams;
  const after = query.get('after_id');
  const start = after === null ? 0 : models.findIndex((model) => model.id === after) + 1;
  const data = models.slice(start, start + Number(query.get('limit') ?? 20));
  return { data, has_more: start + data.length < models.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
