import { isObject, PARAMS_SHAPE, pastShape, shapeError, type Json } from '../json.js';
import { arrayAt, invalid, objectAt, stringAt, TO_MESSAGES } from './json-accessors.js';

const { unsupported, onlyKeys } = TO_MESSAGES;

/**
 * The `messages` of a chat completions request as Messages API `system` and turns.
 *
 * - `system` and `developer` messages, wherever they stand, become `system`: their text (a string,
 *   or text parts) joined by `\n`, in order.
 * - `user` messages: string content stays a string; content parts become blocks: `text` parts text
 *   blocks, `image_url` parts image blocks (a base64 `data:` URL of a JPEG, PNG, GIF or WebP image
 *   → a base64 source, an http(s) URL → a url source; `detail` has no Messages equivalent and is
 *   ignored). Audio and file parts are rejected.
 * - `assistant` messages: text (a string, or text and refusal parts, and a `refusal` string)
 *   becomes text blocks, each of `tool_calls` a `tool_use` block with its `arguments` parsed (they
 *   must be a JSON object; empty arguments read as `{}`). A message with only string content keeps
 *   it as a string. Empty user content, and an assistant message with neither text nor tool calls,
 *   are errors, as Messages refuses empty turns.
 * - `tool` messages become `tool_result` blocks in a user turn (`tool_call_id` → `tool_use_id`,
 *   string content as is, text parts as text blocks). A tool message must follow an assistant
 *   message with `tool_calls` or another tool message, as chat completions requires.
 * - Adjacent turns of the same role are merged into one turn of blocks, since Messages turns
 *   alternate: consecutive tool results, and a user message after them, form one user turn.
 *
 * Rejected, naming the param: `name` on any message, legacy `function` messages and
 * `function_call`, assistant `audio`, a conversation whose first non-system message is not from
 * the user, and one that ends with an assistant message, which Messages would continue (prefill)
 * where chat completions answers it with a new message.
 */

export interface Turn {
  role: 'user' | 'assistant';
  content: string | Json[];
}

export interface Conversation {
  system: string | undefined;
  turns: Turn[];
}

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const DATA_URL_PREFIX = /^data:([^;,]+);base64,/;

function textBlock(text: string): Json {
  return { type: 'text', text };
}

function partType(part: Json, path: string): string {
  return stringAt(part.type, `${path}.type`);
}

function partText(part: Json, path: string): string {
  onlyKeys(part, path, ['type', 'text']);
  return stringAt(part.text, `${path}.text`);
}

function parts(content: unknown, path: string): Array<{ part: Json; path: string; type: string }> {
  const items = arrayAt(content, path);
  if (items.length === 0) throw invalid(path, 'at least one content part is required');
  return items.map((item, index) => {
    const part = objectAt(item, `${path}.${index}`);
    return { part, path: `${path}.${index}`, type: partType(part, `${path}.${index}`) };
  });
}

/** Text content of a system, developer or tool message: a string, or text parts. */
function texts(content: unknown, path: string): string[] {
  if (typeof content === 'string') return [content];
  return parts(content, path).map(({ part, path: partPath, type }) => {
    if (type !== 'text') throw unsupported(`${partPath} (${type})`);
    return partText(part, partPath);
  });
}

function imageBlock(part: Json, path: string): Json {
  onlyKeys(part, path, ['type', 'image_url']);
  const image = objectAt(part.image_url, `${path}.image_url`);
  onlyKeys(image, `${path}.image_url`, ['url', 'detail']);
  const url = stringAt(image.url, `${path}.image_url.url`);
  const data = DATA_URL_PREFIX.exec(url);
  if (data) {
    const mediaType = data[1] as string;
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) throw unsupported(`${path}.image_url.url (${mediaType})`);
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: url.slice(data[0].length) } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid(`${path}.image_url.url`, 'not an http(s) URL or a base64 data URL');
}

function userContent(message: Json, path: string): string | Json[] {
  onlyKeys(message, path, ['role', 'content']);
  const { content } = message;
  if (content === '') throw invalid(`${path}.content`, 'must not be empty');
  if (typeof content === 'string') return content;
  return parts(content, `${path}.content`).map(({ part, path: partPath, type }) => {
    if (type === 'text') return textBlock(partText(part, partPath));
    if (type === 'image_url') return imageBlock(part, partPath);
    throw unsupported(`${partPath} (${type})`);
  });
}

function toolInput(args: unknown, path: string): Json {
  const text = stringAt(args, path);
  if (text.trim() === '') return {};
  const past = pastShape(text, PARAMS_SHAPE);
  if (past !== undefined) throw invalid(path, shapeError(past, 'its JSON', PARAMS_SHAPE));
  try {
    const input: unknown = JSON.parse(text);
    if (isObject(input)) return input;
  } catch {
    // reported below
  }
  throw invalid(path, 'not a JSON object');
}

function toolUseBlock(value: unknown, path: string): Json {
  const call = objectAt(value, path);
  const type = stringAt(call.type, `${path}.type`);
  if (type !== 'function') throw unsupported(`${path} (${type})`);
  onlyKeys(call, path, ['id', 'type', 'function']);
  const fn = objectAt(call.function, `${path}.function`);
  onlyKeys(fn, `${path}.function`, ['name', 'arguments']);
  const name = stringAt(fn.name, `${path}.function.name`);
  return { type: 'tool_use', id: stringAt(call.id, `${path}.id`), name, input: toolInput(fn.arguments, `${path}.function.arguments`) };
}

function assistantContent(message: Json, path: string): string | Json[] {
  onlyKeys(message, path, ['role', 'content', 'tool_calls', 'refusal']);
  const { content, refusal, tool_calls: toolCalls } = message;
  const blocks: Json[] = [];
  if (typeof content === 'string') {
    const textOnly = (refusal === undefined || refusal === null) && (toolCalls === undefined || toolCalls === null);
    if (textOnly && content !== '') return content;
    if (content !== '') blocks.push(textBlock(content));
  } else if (content !== undefined && content !== null) {
    for (const { part, path: partPath, type } of parts(content, `${path}.content`)) {
      if (type === 'text') blocks.push(textBlock(partText(part, partPath)));
      else if (type === 'refusal') {
        onlyKeys(part, partPath, ['type', 'refusal']);
        blocks.push(textBlock(stringAt(part.refusal, `${partPath}.refusal`)));
      } else throw unsupported(`${partPath} (${type})`);
    }
  }
  if (refusal !== undefined && refusal !== null) blocks.push(textBlock(stringAt(refusal, `${path}.refusal`)));
  if (toolCalls !== undefined && toolCalls !== null) {
    blocks.push(...arrayAt(toolCalls, `${path}.tool_calls`).map((call, index) => toolUseBlock(call, `${path}.tool_calls.${index}`)));
  }
  if (blocks.length === 0) throw invalid(`${path}.content`, 'an assistant message needs content or tool_calls');
  return blocks;
}

function toolResultBlock(message: Json, path: string): Json {
  onlyKeys(message, path, ['role', 'content', 'tool_call_id']);
  const toolUseId = stringAt(message.tool_call_id, `${path}.tool_call_id`);
  const { content } = message;
  const result = typeof content === 'string' ? content : texts(content, `${path}.content`).map(textBlock);
  return { type: 'tool_result', tool_use_id: toolUseId, content: result };
}

function append(turns: Turn[], role: Turn['role'], content: string | Json[]): void {
  const last = turns.at(-1);
  if (last?.role !== role) {
    turns.push({ role, content });
    return;
  }
  const blocks = (value: string | Json[]): Json[] => (typeof value === 'string' ? [textBlock(value)] : value);
  last.content = [...blocks(last.content), ...blocks(content)];
}

export function conversation(value: unknown): Conversation {
  const messages = arrayAt(value, 'messages');
  const system: string[] = [];
  const turns: Turn[] = [];
  let afterToolCalls = false;
  let lastPath = 'messages';
  for (const [index, item] of messages.entries()) {
    const path = `messages.${index}`;
    const message = objectAt(item, path);
    const { role } = message;
    if (role === 'system' || role === 'developer') {
      onlyKeys(message, path, ['role', 'content']);
      system.push(...texts(message.content, `${path}.content`));
      continue;
    }
    if (role === 'user') append(turns, 'user', userContent(message, path));
    else if (role === 'assistant') append(turns, 'assistant', assistantContent(message, path));
    else if (role === 'tool') {
      if (!afterToolCalls) throw invalid(path, 'a tool message must follow an assistant message with tool_calls');
      append(turns, 'user', [toolResultBlock(message, path)]);
    } else if (role === 'function') throw unsupported(`${path} (function)`);
    else throw invalid(`${path}.role`);
    afterToolCalls = role === 'tool' || (role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0);
    if (turns[0]?.role !== 'user') throw invalid(path, 'the first message after system messages must be a user message');
    lastPath = path;
  }
  if (turns.length === 0) throw invalid('messages', 'at least one user message is required');
  if (turns.at(-1)?.role === 'assistant') throw unsupported(`${lastPath} (final assistant message)`);
  const text = system.filter((part) => part !== '').join('\n');
  return { system: text === '' ? undefined : text, turns };
}
