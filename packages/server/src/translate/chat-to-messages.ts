import { conversation } from './chat-conversation.js';
import { isObject, type Json } from '../json.js';
import { arrayAt, invalid, keyName, objectAt, stringAt, TO_MESSAGES, Untranslatable } from './json-accessors.js';

const { unsupported, onlyKeys } = TO_MESSAGES;

/**
 * Translates a chat completions request body (`POST /v1/chat/completions`, unchecked JSON) into
 * Messages API params, or names the first param it cannot carry over:
 * `{ error: "<param>: not supported by the Messages backend" }` for what Messages cannot do, and
 * `{ error: "<param>: invalid value" }` (or a more specific problem) for malformed values.
 * A param given as `null` counts as not given, as chat completions servers read it.
 *
 * Carried over: `model`; `messages` (→ `system` and turns, see `chat-conversation.ts`);
 * `max_completion_tokens`, or else `max_tokens` (→ `max_tokens`; when neither is given, 4096,
 * since Messages requires one; both given and different is an error); `stop` (a string or a list
 * → `stop_sequences`); `temperature` (OpenAI's 0..2; above 1 is rejected, not clamped); `top_p`;
 * `safety_identifier`, or else `user` (→ `metadata.user_id`, at most 512 characters); function
 * `tools` (name, description, `parameters` → `input_schema`, an empty object schema when absent,
 * `strict`);
 * `tool_choice` `auto`/`none`/`required` (→ `any`)/a named function (→ `tool`);
 * `parallel_tool_calls: false` (→ `disable_parallel_tool_use` on the tool choice, `auto` when none
 * was given). Without tools, `tool_choice` `auto` or `none` and `parallel_tool_calls` are left out.
 *
 * Accepted only at their default, because any other value changes the answer in a way Messages
 * cannot reproduce: `n` (1), `logprobs` (false), `response_format` (`{type:'text'}`),
 * `modalities` (`['text']`), `logit_bias` (empty), `presence_penalty` and `frequency_penalty` (0),
 * `stream` (false). Rejected whenever given: `top_logprobs`, `seed`, `audio`, `functions`,
 * `function_call`, `stream_options`, and any key not named here (`reasoning_effort`,
 * `web_search_options`, `prediction`…).
 *
 * Ignored, because they do not change the answer: `store` and `metadata` (OpenAI's stored
 * completions), `service_tier` and `prompt_cache_key`.
 */

export type ChatToMessagesResult = { params: Record<string, unknown> } | { error: string };

/** `max_tokens` when the request gives no limit; Messages requires one. */
export const DEFAULT_MAX_TOKENS = 4096;

/** The longest `metadata.user_id` Messages accepts. */
const MAX_USER_ID_LENGTH = 512;

const TRANSLATED = [
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'stop', 'temperature', 'top_p', 'user',
  'safety_identifier', 'tools', 'tool_choice', 'parallel_tool_calls',
];
const AT_DEFAULT_ONLY = ['n', 'logprobs', 'response_format', 'modalities', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'stream'];
const IGNORED = ['store', 'metadata', 'service_tier', 'prompt_cache_key'];
const KNOWN_KEYS = [...TRANSLATED, ...AT_DEFAULT_ONLY, ...IGNORED];

function numberAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path);
  return value;
}

function booleanAt(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw invalid(path);
  return value;
}

function tokenLimit(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  const limit = numberAt(value, path);
  if (!Number.isInteger(limit) || limit < 1) throw invalid(path, 'must be a positive integer');
  return limit;
}

/** Throws for the first param in AT_DEFAULT_ONLY given at something other than its default. */
function checkDefaults(body: Json): void {
  if (body.n !== undefined) {
    const n = numberAt(body.n, 'n');
    if (!Number.isInteger(n) || n < 1) throw invalid('n', 'must be a positive integer');
    if (n > 1) throw unsupported('n (above 1)');
  }
  if (body.logprobs !== undefined && booleanAt(body.logprobs, 'logprobs')) throw unsupported('logprobs');
  if (body.response_format !== undefined) {
    const type = stringAt(objectAt(body.response_format, 'response_format').type, 'response_format.type');
    if (type !== 'text') throw unsupported(`response_format (${type})`);
  }
  if (body.modalities !== undefined) {
    const modalities = arrayAt(body.modalities, 'modalities');
    if (modalities.some((modality) => modality !== 'text')) throw unsupported('modalities');
  }
  if (body.logit_bias !== undefined && Object.keys(objectAt(body.logit_bias, 'logit_bias')).length > 0) throw unsupported('logit_bias');
  for (const penalty of ['presence_penalty', 'frequency_penalty']) {
    if (body[penalty] !== undefined && numberAt(body[penalty], penalty) !== 0) throw unsupported(penalty);
  }
  if (body.stream !== undefined && booleanAt(body.stream, 'stream')) throw unsupported('stream');
}

function maxTokens(body: Json): number {
  const completion = tokenLimit(body.max_completion_tokens, 'max_completion_tokens');
  const legacy = tokenLimit(body.max_tokens, 'max_tokens');
  if (completion !== undefined && legacy !== undefined && completion !== legacy) {
    throw invalid('max_tokens', 'differs from max_completion_tokens');
  }
  return completion ?? legacy ?? DEFAULT_MAX_TOKENS;
}

function temperature(value: unknown): number {
  const degrees = numberAt(value, 'temperature');
  if (degrees < 0 || degrees > 2) throw invalid('temperature', 'must be between 0 and 2');
  if (degrees > 1) throw unsupported('temperature (above 1)');
  return degrees;
}

function stopSequences(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return arrayAt(value, 'stop').map((item, index) => stringAt(item, `stop.${index}`));
}

function tool(value: unknown, index: number): Json {
  const path = `tools.${index}`;
  const spec = objectAt(value, path);
  const type = stringAt(spec.type, `${path}.type`);
  if (type !== 'function') throw unsupported(`${path} (${type})`);
  onlyKeys(spec, path, ['type', 'function']);
  const fn = objectAt(spec.function, `${path}.function`);
  onlyKeys(fn, `${path}.function`, ['name', 'description', 'parameters', 'strict']);
  const parameters = fn.parameters ?? { type: 'object', properties: {} };
  const result: Json = { name: stringAt(fn.name, `${path}.function.name`) };
  if (fn.description !== undefined && fn.description !== null) result.description = stringAt(fn.description, `${path}.function.description`);
  result.input_schema = objectAt(parameters, `${path}.function.parameters`);
  if (fn.strict !== undefined && fn.strict !== null) result.strict = booleanAt(fn.strict, `${path}.function.strict`);
  return result;
}

function toolChoice(value: unknown): Json {
  if (value === 'auto' || value === 'none') return { type: value };
  if (value === 'required') return { type: 'any' };
  const choice = objectAt(value, 'tool_choice');
  const type = stringAt(choice.type, 'tool_choice.type');
  if (type !== 'function') throw unsupported(`tool_choice (${type})`);
  onlyKeys(choice, 'tool_choice', ['type', 'function']);
  const fn = objectAt(choice.function, 'tool_choice.function');
  onlyKeys(fn, 'tool_choice.function', ['name']);
  return { type: 'tool', name: stringAt(fn.name, 'tool_choice.function.name') };
}

/** `tools`, `tool_choice` and `parallel_tool_calls` as Messages `tools` and `tool_choice`. */
function toolParams(body: Json, params: Json): void {
  const tools = body.tools === undefined ? [] : arrayAt(body.tools, 'tools').map(tool);
  let choice = body.tool_choice === undefined ? undefined : toolChoice(body.tool_choice);
  const parallel = body.parallel_tool_calls === undefined ? true : booleanAt(body.parallel_tool_calls, 'parallel_tool_calls');
  if (tools.length === 0) {
    if (choice !== undefined && choice.type !== 'auto' && choice.type !== 'none') throw invalid('tool_choice', 'only allowed with tools');
    return;
  }
  params.tools = tools;
  if (!parallel && choice?.type !== 'none') choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  if (choice !== undefined) params.tool_choice = choice;
}

function translate(raw: unknown): Json {
  if (!isObject(raw)) throw invalid('body', 'not a JSON object');
  const body = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null));
  for (const key of Object.keys(body)) {
    if (!KNOWN_KEYS.includes(key)) throw unsupported(keyName(key));
  }
  checkDefaults(body);
  const model = stringAt(body.model, 'model');
  if (model === '') throw invalid('model', 'must not be empty');
  const { system, turns } = conversation(body.messages);
  const params: Json = { model, max_tokens: maxTokens(body) };
  if (system !== undefined) params.system = system;
  params.messages = turns;
  if (body.stop !== undefined) {
    const stop = stopSequences(body.stop);
    if (stop.length > 0) params.stop_sequences = stop;
  }
  if (body.temperature !== undefined) params.temperature = temperature(body.temperature);
  if (body.top_p !== undefined) {
    const topP = numberAt(body.top_p, 'top_p');
    if (topP < 0 || topP > 1) throw invalid('top_p', 'must be between 0 and 1');
    params.top_p = topP;
  }
  const userParam = body.safety_identifier === undefined ? 'user' : 'safety_identifier';
  if (body[userParam] !== undefined) {
    const userId = stringAt(body[userParam], userParam);
    if (userId.length > MAX_USER_ID_LENGTH) throw invalid(userParam, `at most ${MAX_USER_ID_LENGTH} characters`);
    params.metadata = { user_id: userId };
  }
  toolParams(body, params);
  return params;
}

export function chatToMessages(body: unknown): ChatToMessagesResult {
  try {
    return { params: translate(body) };
  } catch (error) {
    if (error instanceof Untranslatable) return { error: error.message };
    throw error;
  }
}
