import { isObject, type Json } from '../json.js';
import { textPieces } from './message-events.js';

/** Writes the chunk events of one completion's stream. */
export class ChunkWriter {
  readonly #head: Json;

  /** `includeUsage` (`stream_options.include_usage`): every chunk carries `usage: null`, and the usage comes in a last one. */
  constructor(
    completion: Json,
    readonly includeUsage: boolean,
  ) {
    this.#head = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
    for (const name of ['service_tier', 'system_fingerprint']) if (name in completion) this.#head[name] = completion[name];
  }

  /** A chunk of `choices`. */
  chunk(choices: Json[]): string {
    return `data: ${JSON.stringify(this.includeUsage ? { ...this.#head, choices, usage: null } : { ...this.#head, choices })}\n\n`;
  }

  /** A chunk of one choice's `delta`. */
  delta(index: number, delta: Json): string {
    return this.chunk([{ index, delta, logprobs: null, finish_reason: null }]);
  }

  /** The chunk ending choice `choice` of the completion: its finish reason, with a server's own choice fields (vLLM's `stop_reason`). */
  finish(index: number, choice: Json): string {
    const { message: _message, index: _index, logprobs: _logprobs, finish_reason, ...rest } = choice;
    return this.chunk([{ index, delta: {}, logprobs: null, finish_reason: finish_reason ?? 'stop', ...rest }]);
  }

  /** What ends the stream: the usage chunk when asked, then `data: [DONE]`. */
  end(usage: unknown): string[] {
    return [...(this.includeUsage ? [`data: ${JSON.stringify({ ...this.#head, choices: [], usage: usage ?? null })}\n\n`] : []), 'data: [DONE]\n\n'];
  }
}

/** The first delta of a choice's message: its role, and empty content (null for a message without text). */
export function roleDelta(message: Json): Json {
  const first: Json = { role: 'assistant', content: typeof message.content === 'string' ? '' : null };
  if ('refusal' in message) first.refusal = null;
  return first;
}

/** The deltas of a message's tool calls: each call's id and name, then its arguments. */
export function toolCallDeltas(message: Json): Json[] {
  const deltas: Json[] = [];
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  calls.forEach((call, index) => {
    const fn = isObject(call.function) ? call.function : {};
    deltas.push({ tool_calls: [{ index, id: call.id, type: call.type ?? 'function', function: { name: fn.name, arguments: '' } }] });
    if (typeof fn.arguments === 'string' && fn.arguments !== '') deltas.push({ tool_calls: [{ index, function: { arguments: fn.arguments } }] });
  });
  return deltas;
}

/** The deltas of one choice's message: its role first, then its content in pieces, then its tool calls. */
function deltasOf(message: Json): Json[] {
  const deltas: Json[] = [roleDelta(message)];
  if (typeof message.content === 'string') for (const text of textPieces(message.content)) deltas.push({ content: text });
  if (typeof message.refusal === 'string') deltas.push({ refusal: message.refusal });
  return [...deltas, ...toolCallDeltas(message)];
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
  const writer = new ChunkWriter(completion, includeUsage);
  const events: string[] = [];
  const choices = Array.isArray(completion.choices) ? completion.choices.filter(isObject) : [];
  choices.forEach((choice, at) => {
    const index = typeof choice.index === 'number' ? choice.index : at;
    for (const delta of deltasOf(isObject(choice.message) ? choice.message : {})) events.push(writer.delta(index, delta));
    events.push(writer.finish(index, choice));
  });
  return [...events, ...writer.end(completion.usage)];
}
