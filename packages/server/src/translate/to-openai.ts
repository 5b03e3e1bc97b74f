import type { ChatCompletionRequest, ChatContentPart, ChatMessage, ChatTool, ChatToolCall, ChatToolChoice } from '../backends/openai/chat-completions.js';
import { isObject, type Json } from '../json.js';
import { arrayAt, invalid, objectAt, stringAt, TO_CHAT, Untranslatable } from './json-accessors.js';

/**
 * Translates Messages API params into a chat completions body, or names the first param it cannot
 * carry over: `{ error: "<param>: not supported by the OpenAI-compatible backend" }`.
 *
 * Carried over: `model`, `max_tokens`, `temperature`, `top_p`, `stop_sequences` (→ `stop`),
 * `metadata.user_id` (→ `user`); `system` (→ one system message, text blocks joined by `\n`);
 * text content (a turn's text blocks joined by `\n` into a string), images (base64 → data URL,
 * url → `image_url`); assistant `tool_use` blocks (→ `tool_calls`, input as JSON); `tool_result`
 * blocks (→ `role:'tool'` messages with `tool_call_id`, in place, their text joined by `\n`);
 * custom tools (→ functions: name, description, `input_schema` → parameters, strict);
 * `tool_choice` auto/any (→ required)/tool (→ that function)/none, and
 * `disable_parallel_tool_use` (→ `parallel_tool_calls: false`). Without tools, `tool_choice` auto or
 * none is left out, as chat completions servers refuse a `tool_choice` without tools.
 *
 * Dropped, because they cannot change the answer: `cache_control` anywhere, `service_tier`,
 * `thinking: {type:'disabled'}`, `stream: false`, `citations: null` on text blocks and
 * `caller: {type:'direct'}` on tool_use blocks, `is_error: false` on tool results.
 *
 * Everything else is rejected, naming the param: any other top-level key (`top_k`, `thinking`
 * enabled, `container`, `mcp_servers`, output formats…), server tools, content blocks other than
 * text/image/tool_use/tool_result (documents, thinking, search results…), images from the Files
 * API, images inside tool results, `is_error: true`, text citations, and a final assistant turn
 * (prefill), which chat completions would answer as a new turn rather than continue.
 */

type Params = Json;

export type ToOpenAIResult = { body: ChatCompletionRequest } | { error: string };

const { unsupported, onlyKeys } = TO_CHAT;

const TOP_LEVEL_KEYS = new Set([
  'model', 'max_tokens', 'messages', 'system', 'metadata', 'stop_sequences', 'stream',
  'temperature', 'top_p', 'tools', 'tool_choice', 'thinking', 'service_tier',
]);

function blockType(block: Params, path: string): string {
  return stringAt(block.type, `${path}.type`);
}

function textOf(block: Params, path: string): string {
  onlyKeys(block, path, ['type', 'text', 'citations']);
  const { citations } = block;
  if (citations !== undefined && citations !== null && !(Array.isArray(citations) && citations.length === 0)) {
    throw unsupported(`${path}.citations`);
  }
  return stringAt(block.text, `${path}.text`);
}

function imageUrl(block: Params, path: string): string {
  onlyKeys(block, path, ['type', 'source']);
  const source = objectAt(block.source, `${path}.source`);
  const type = stringAt(source.type, `${path}.source.type`);
  if (type === 'base64') {
    onlyKeys(source, `${path}.source`, ['type', 'media_type', 'data']);
    const mediaType = stringAt(source.media_type, `${path}.source.media_type`);
    return `data:${mediaType};base64,${stringAt(source.data, `${path}.source.data`)}`;
  }
  if (type === 'url') {
    onlyKeys(source, `${path}.source`, ['type', 'url']);
    return stringAt(source.url, `${path}.source.url`);
  }
  throw unsupported(`${path}.source (${type})`);
}

/** A turn's text and images as chat content: a string when it is text only. */
function userContent(parts: ChatContentPart[]): string | ChatContentPart[] {
  const texts: string[] = [];
  for (const part of parts) {
    if (part.type !== 'text') return parts;
    texts.push(part.text);
  }
  return texts.join('\n');
}

function toolResultMessage(block: Params, path: string): ChatMessage {
  onlyKeys(block, path, ['type', 'tool_use_id', 'content', 'is_error']);
  if (block.is_error !== undefined && block.is_error !== false) throw unsupported(`${path}.is_error`);
  const toolCallId = stringAt(block.tool_use_id, `${path}.tool_use_id`);
  const { content } = block;
  if (content === undefined || typeof content === 'string') return { role: 'tool', tool_call_id: toolCallId, content: content ?? '' };
  const texts = arrayAt(content, `${path}.content`).map((item, index) => {
    const itemPath = `${path}.content.${index}`;
    const inner = objectAt(item, itemPath);
    const type = blockType(inner, itemPath);
    if (type !== 'text') throw unsupported(`${itemPath} (${type})`);
    return textOf(inner, itemPath);
  });
  return { role: 'tool', tool_call_id: toolCallId, content: texts.join('\n') };
}

/** A user turn: its text and images as one user message, with each tool result as a tool message in place. */
function userMessages(blocks: unknown[], path: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let parts: ChatContentPart[] = [];
  const flush = (): void => {
    if (parts.length > 0) messages.push({ role: 'user', content: userContent(parts) });
    parts = [];
  };
  for (const [index, item] of blocks.entries()) {
    const blockPath = `${path}.${index}`;
    const block = objectAt(item, blockPath);
    const type = blockType(block, blockPath);
    if (type === 'text') parts.push({ type: 'text', text: textOf(block, blockPath) });
    else if (type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrl(block, blockPath) } });
    else if (type === 'tool_result') {
      flush();
      messages.push(toolResultMessage(block, blockPath));
    } else throw unsupported(`${blockPath} (${type})`);
  }
  flush();
  return messages;
}

function toolCall(block: Params, path: string): ChatToolCall {
  onlyKeys(block, path, ['type', 'id', 'name', 'input', 'caller']);
  if (block.caller !== undefined && !(isObject(block.caller) && block.caller.type === 'direct')) {
    throw unsupported(`${path}.caller`);
  }
  const name = stringAt(block.name, `${path}.name`);
  const input = objectAt(block.input, `${path}.input`);
  return { id: stringAt(block.id, `${path}.id`), type: 'function', function: { name, arguments: JSON.stringify(input) } };
}

function assistantMessage(blocks: unknown[], path: string): ChatMessage {
  const texts: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const [index, item] of blocks.entries()) {
    const blockPath = `${path}.${index}`;
    const block = objectAt(item, blockPath);
    const type = blockType(block, blockPath);
    if (type === 'text') texts.push(textOf(block, blockPath));
    else if (type === 'tool_use') calls.push(toolCall(block, blockPath));
    else throw unsupported(`${blockPath} (${type})`);
  }
  const content = texts.length > 0 ? texts.join('\n') : null;
  return calls.length > 0 ? { role: 'assistant', content, tool_calls: calls } : { role: 'assistant', content };
}

function conversation(value: unknown): ChatMessage[] {
  const turns = arrayAt(value, 'messages');
  const messages: ChatMessage[] = [];
  for (const [index, item] of turns.entries()) {
    const path = `messages.${index}`;
    const turn = objectAt(item, path);
    onlyKeys(turn, path, ['role', 'content']);
    const { role, content } = turn;
    if (role === 'assistant' && index === turns.length - 1) throw unsupported(`${path} (assistant prefill)`);
    if (role !== 'user' && role !== 'assistant') throw invalid(`${path}.role`);
    if (typeof content === 'string') messages.push({ role, content });
    else if (role === 'user') messages.push(...userMessages(arrayAt(content, `${path}.content`), `${path}.content`));
    else messages.push(assistantMessage(arrayAt(content, `${path}.content`), `${path}.content`));
  }
  return messages;
}

function systemText(value: unknown): string {
  if (typeof value === 'string') return value;
  return arrayAt(value, 'system')
    .map((item, index) => {
      const path = `system.${index}`;
      const block = objectAt(item, path);
      const type = blockType(block, path);
      if (type !== 'text') throw unsupported(`${path} (${type})`);
      return textOf(block, path);
    })
    .join('\n');
}

function tool(value: unknown, index: number): ChatTool {
  const path = `tools.${index}`;
  const spec = objectAt(value, path);
  if (spec.type !== undefined && spec.type !== 'custom') throw unsupported(`${path} (${String(spec.type)})`);
  onlyKeys(spec, path, ['type', 'name', 'description', 'input_schema', 'strict']);
  const fn: ChatTool['function'] = { name: stringAt(spec.name, `${path}.name`), parameters: objectAt(spec.input_schema, `${path}.input_schema`) };
  if (spec.description !== undefined) fn.description = stringAt(spec.description, `${path}.description`);
  if (typeof spec.strict === 'boolean') fn.strict = spec.strict;
  return { type: 'function', function: fn };
}

function toolChoice(value: unknown): { choice: ChatToolChoice; parallel: boolean } {
  const choice = objectAt(value, 'tool_choice');
  const type = stringAt(choice.type, 'tool_choice.type');
  onlyKeys(choice, 'tool_choice', type === 'tool' ? ['type', 'name', 'disable_parallel_tool_use'] : ['type', 'disable_parallel_tool_use']);
  const parallel = choice.disable_parallel_tool_use !== true;
  if (type === 'auto') return { choice: 'auto', parallel };
  if (type === 'any') return { choice: 'required', parallel };
  if (type === 'none') return { choice: 'none', parallel };
  if (type === 'tool') return { choice: { type: 'function', function: { name: stringAt(choice.name, 'tool_choice.name') } }, parallel };
  throw unsupported(`tool_choice (${type})`);
}

function checkTopLevel(params: Params): void {
  for (const key of Object.keys(params)) {
    if (!TOP_LEVEL_KEYS.has(key)) throw unsupported(key);
  }
  if (params.stream !== undefined && params.stream !== false) throw unsupported('stream');
  if (params.thinking !== undefined && !(isObject(params.thinking) && params.thinking.type === 'disabled')) {
    throw unsupported('thinking');
  }
}

function translate(params: Params): ChatCompletionRequest {
  checkTopLevel(params);
  const messages: ChatMessage[] = [];
  if (params.system !== undefined) {
    const system = systemText(params.system);
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  messages.push(...conversation(params.messages));
  const maxTokens = params.max_tokens;
  if (typeof maxTokens !== 'number') throw invalid('max_tokens');
  const body: ChatCompletionRequest = { model: stringAt(params.model, 'model'), messages, max_tokens: maxTokens };
  if (typeof params.temperature === 'number') body.temperature = params.temperature;
  if (typeof params.top_p === 'number') body.top_p = params.top_p;
  if (params.stop_sequences !== undefined) {
    const stop = arrayAt(params.stop_sequences, 'stop_sequences').map((item, index) => stringAt(item, `stop_sequences.${index}`));
    if (stop.length > 0) body.stop = stop;
  }
  if (params.metadata !== undefined && params.metadata !== null) {
    const metadata = objectAt(params.metadata, 'metadata');
    onlyKeys(metadata, 'metadata', ['user_id']);
    if (typeof metadata.user_id === 'string') body.user = metadata.user_id;
  }
  if (params.tools !== undefined) {
    const tools = arrayAt(params.tools, 'tools').map(tool);
    if (tools.length > 0) body.tools = tools;
  }
  if (params.tool_choice !== undefined) {
    const { choice, parallel } = toolChoice(params.tool_choice);
    if (body.tools !== undefined || (choice !== 'auto' && choice !== 'none')) body.tool_choice = choice;
    if (!parallel && body.tools !== undefined) body.parallel_tool_calls = false;
  }
  return body;
}

export function toOpenAI(params: Params): ToOpenAIResult {
  try {
    return { body: translate(params) };
  } catch (error) {
    if (error instanceof Untranslatable) return { error: error.message };
    throw error;
  }
}
