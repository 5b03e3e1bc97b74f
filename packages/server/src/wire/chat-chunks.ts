import { isObject, type Json } from '../json.js';
import { textPieces } from './message-events.js';

/** The deltas of one choice's message: its role first, then its content in pieces, then each tool call's name and arguments. */
function deltasOf(message: Json): Json[] {
  const first: Json = { role: 'assistant', content: typeof message.content === 'string' ? '' : null };
  if ('refusal' in message) first.refusal = null;
  const deltas: Json[] = [first];
  if (typeof message.content === 'string') for (const text of textPieces(message.content)) deltas.push({ content: text });
  if (typeof message.refusal === 'string') deltas.push({ refusal: message.refusal });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  calls.forEach((call, index) => {
    const fn = isObject(call.function) ? call.function : {};
    deltas.push({ tool_calls: [{ index, id: call.id, type: call.type ?? 'function', function: { name: fn.name, arguments: '' } }] });
    if (typeof fn.arguments === 'string' && fn.arguments !== '') deltas.push({ tool_calls: [{ index, function: { arguments: fn.arguments } }] });
  });
  return deltas;
}

/**
 * A chat completion as the chat completions API streams it (`stream: true`), as server-sent
 * events: for each choice, a chunk with its role, its content in pieces of 16 characters, each
 * tool call's id and name and then its arguments, and a last chunk with its `finish_reason`; with
 * `includeUsage` (`stream_options.include_usage`), every chunk carries `usage: null` and a chunk
 * with no choices carries the completion's usage; then `data: [DONE]`. An SDK that accumulates the
 * chunks ends with the completion's choices.
 */
export function chatCompletionChunks(completion: Json, includeUsage: boolean): string[] {
  const head: Json = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
  for (const name of ['service_tier', 'system_fingerprint']) if (name in completion) head[name] = completion[name];
  const chunk = (choices: Json[]): string => `data: ${JSON.stringify(includeUsage ? { ...head, choices, usage: null } : { ...head, choices })}\n\n`;
  const events: string[] = [];
  const choices = Array.isArray(completion.choices) ? completion.choices.filter(isObject) : [];
  choices.forEach((choice, at) => {
    const index = typeof choice.index === 'number' ? choice.index : at;
    const { message, index: _index, logprobs: _logprobs, finish_reason, ...rest } = choice;
    for (const delta of deltasOf(isObject(message) ? message : {})) events.push(chunk([{ index, delta, logprobs: null, finish_reason: null }]));
    // A server's own fields of a choice (vLLM's `stop_reason`) come with its finish reason.
    events.push(chunk([{ index, delta: {}, logprobs: null, finish_reason: finish_reason ?? 'stop', ...rest }]));
  });
  if (includeUsage) events.push(`data: ${JSON.stringify({ ...head, choices: [], usage: completion.usage ?? null })}\n\n`);
  events.push('data: [DONE]\n\n');
  return events;
}
