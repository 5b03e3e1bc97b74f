import { isObject, type Json } from '../json.js';
import { arrayAt, FROM_RESPONSES, invalid, keyName, objectAt, stringAt, untranslatableAsError } from './json-accessors.js';

const { unsupported, onlyKeys } = FROM_RESPONSES;

/**
 * Translates a Responses API request body (`POST /v1/responses`, unchecked JSON) into a chat
 * completions body, for backends that do not serve the Responses API (chat completions goes on to
 * Messages for Messages backends, see `send-chat.ts`), or names the first param it cannot carry:
 * `{ error: "<param>: not supported by the translation …" }`, or `"<param>: invalid value"`.
 * A param given as `null` counts as not given.
 *
 * Carried over: `model`; `instructions` (→ a first `system` message); `input`, a string (→ one
 * user message) or a list of items: messages (`role` user, system, developer or assistant;
 * `content` a string or parts: `input_text`, `input_image` with an `image_url`, and for the
 * assistant `output_text` and `refusal`), `function_call` items (→ the assistant's `tool_calls`,
 * consecutive calls in one message) and `function_call_output` items with a string `output` (→
 * `tool` messages); `max_output_tokens` (→ `max_tokens`); `temperature`; `top_p`; `user` and
 * `safety_identifier`; function `tools` (name, description, parameters, strict); `tool_choice`
 * (`auto`, `none`, `required`, or `{type: "function", name}`); `parallel_tool_calls`.
 *
 * Accepted only at their default: `stream` (false), `background` (false), `truncation`
 * (`disabled`), `text` (`{format: {type: "text"}}`), `include` (empty). Ignored: `store`,
 * `metadata`, `service_tier`, `prompt_cache_key`. Rejected: every other key
 * (`previous_response_id`, `conversation`, `reasoning`, `prompt`…) and tools of other types.
 */

export type ResponsesToChatResult = { body: Json } | { error: string };

const PASSED = ['temperature', 'top_p', 'user', 'safety_identifier', 'parallel_tool_calls'];
const KNOWN_KEYS = [
  'model', 'input', 'instructions', 'max_output_tokens', 'tools', 'tool_choice', ...PASSED,
  'stream', 'background', 'truncation', 'text', 'include', 'store', 'metadata', 'service_tier', 'prompt_cache_key',
];
const ITEM_KEYS = ['type', 'id', 'status'];

type ChatMessage = Json & { role: string };

function checkDefaults(body: Json): void {
  for (const flag of ['stream', 'background']) if (body[flag] !== undefined && body[flag] !== false) throw unsupported(flag);
  if (body.truncation !== undefined && body.truncation !== 'disabled') throw unsupported(`truncation (${String(body.truncation)})`);
  if (body.text !== undefined) {
    const text = objectAt(body.text, 'text');
    onlyKeys(text, 'text', ['format']);
    const format = text.format === undefined ? 'text' : stringAt(objectAt(text.format, 'text.format').type, 'text.format.type');
    if (format !== 'text') throw unsupported(`text.format (${format})`);
  }
  if (body.include !== undefined && arrayAt(body.include, 'include').length > 0) throw unsupported('include');
}

/** A content part as a chat content part; which types a role may send is `allowed`. */
function part(value: unknown, path: string, allowed: readonly string[]): Json {
  const item = objectAt(value, path);
  const type = stringAt(item.type, `${path}.type`);
  if (!allowed.includes(type)) throw unsupported(`${path} (${type})`);
  if (type === 'input_image') {
    onlyKeys(item, path, ['type', 'image_url', 'detail']);
    const url = stringAt(item.image_url, `${path}.image_url`);
    return { type: 'image_url', image_url: item.detail === undefined ? { url } : { url, detail: item.detail } };
  }
  if (type === 'refusal') {
    onlyKeys(item, path, ['type', 'refusal']);
    return { type: 'refusal', refusal: stringAt(item.refusal, `${path}.refusal`) };
  }
  onlyKeys(item, path, ['type', 'text', 'annotations', 'logprobs']);
  return { type: 'text', text: stringAt(item.text, `${path}.text`) };
}

function message(item: Json, path: string): ChatMessage {
  onlyKeys(item, path, [...ITEM_KEYS, 'role', 'content']);
  const role = stringAt(item.role, `${path}.role`);
  if (!['user', 'system', 'developer', 'assistant'].includes(role)) throw invalid(`${path}.role`);
  const allowed = role === 'assistant' ? ['output_text', 'refusal'] : role === 'user' ? ['input_text', 'input_image'] : ['input_text'];
  const { content } = item;
  if (typeof content === 'string') return { role, content };
  return { role, content: arrayAt(content, `${path}.content`).map((value, index) => part(value, `${path}.content.${index}`, allowed)) };
}

function functionCall(item: Json, path: string, messages: ChatMessage[]): void {
  onlyKeys(item, path, [...ITEM_KEYS, 'call_id', 'name', 'arguments']);
  const call = {
    id: stringAt(item.call_id, `${path}.call_id`),
    type: 'function',
    function: { name: stringAt(item.name, `${path}.name`), arguments: stringAt(item.arguments, `${path}.arguments`) },
  };
  const last = messages.at(-1);
  if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
  else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function inputMessages(input: unknown): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const messages: ChatMessage[] = [];
  arrayAt(input, 'input').forEach((value, index) => {
    const path = `input.${index}`;
    const item = objectAt(value, path);
    const type = item.type === undefined ? 'message' : stringAt(item.type, `${path}.type`);
    if (type === 'message') messages.push(message(item, path));
    else if (type === 'function_call') functionCall(item, path, messages);
    else if (type === 'function_call_output') {
      onlyKeys(item, path, [...ITEM_KEYS, 'call_id', 'output']);
      messages.push({ role: 'tool', tool_call_id: stringAt(item.call_id, `${path}.call_id`), content: stringAt(item.output, `${path}.output`) });
    } else throw unsupported(`${path} (${type})`);
  });
  return messages;
}

function tool(value: unknown, index: number): Json {
  const path = `tools.${index}`;
  const spec = objectAt(value, path);
  const type = stringAt(spec.type, `${path}.type`);
  if (type !== 'function') throw unsupported(`${path} (${type})`);
  onlyKeys(spec, path, ['type', 'name', 'description', 'parameters', 'strict']);
  const fn: Json = { name: stringAt(spec.name, `${path}.name`) };
  for (const key of ['description', 'parameters', 'strict']) if (spec[key] !== undefined && spec[key] !== null) fn[key] = spec[key];
  if (fn.parameters !== undefined) objectAt(fn.parameters, `${path}.parameters`);
  return { type: 'function', function: fn };
}

function toolChoice(value: unknown): unknown {
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  const choice = objectAt(value, 'tool_choice');
  const type = stringAt(choice.type, 'tool_choice.type');
  if (type !== 'function') throw unsupported(`tool_choice (${type})`);
  onlyKeys(choice, 'tool_choice', ['type', 'name']);
  return { type: 'function', function: { name: stringAt(choice.name, 'tool_choice.name') } };
}

function translate(raw: unknown): Json {
  if (!isObject(raw)) throw invalid('body', 'not a JSON object');
  const body = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null));
  for (const key of Object.keys(body)) if (!KNOWN_KEYS.includes(key)) throw unsupported(keyName(key));
  checkDefaults(body);
  const chat: Json = { model: stringAt(body.model, 'model') };
  const messages = inputMessages(body.input);
  if (body.instructions !== undefined) messages.unshift({ role: 'system', content: stringAt(body.instructions, 'instructions') });
  chat.messages = messages;
  if (body.max_output_tokens !== undefined) {
    const limit = body.max_output_tokens;
    if (!Number.isInteger(limit) || (limit as number) < 1) throw invalid('max_output_tokens', 'must be a positive integer');
    chat.max_tokens = limit;
  }
  for (const key of PASSED) if (body[key] !== undefined) chat[key] = body[key];
  if (body.tools !== undefined) chat.tools = arrayAt(body.tools, 'tools').map(tool);
  if (body.tool_choice !== undefined) chat.tool_choice = toolChoice(body.tool_choice);
  return chat;
}

export function responsesToChat(body: unknown): ResponsesToChatResult {
  return untranslatableAsError(() => ({ body: translate(body) }));
}
