import { isObject, type Json } from '../../src/json.js';
import { anthropicMessage, messageEvents, openAICompletion, type ProviderShape } from './fake-answers.js';

/**
 * What the fake providers stream when a request asks (`stream: true`): the Messages API's events
 * for the anthropic shape, and for the openai shape's chat completions the chunks an
 * OpenAI-compatible server sends: a word of the content per chunk, each tool call whole, the
 * finish reason, the usage when `stream_options.include_usage` asks, then `data: [DONE]`.
 */

/** The server-sent event frames answering `body` on `path`, or null when the request is not streamed there. */
export function streamFrames(shape: ProviderShape, path: string, body: unknown): string[] | null {
  if (!isObject(body) || body.stream !== true) return null;
  if (shape === 'anthropic') return messageEvents(anthropicMessage(body)).map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
  if (path !== '/v1/chat/completions') return null;
  // The answer is the one the same request gets whole.
  const { stream: _stream, stream_options: options, ...whole } = body;
  return openAIChunks(openAICompletion(whole), isObject(options) && options.include_usage === true);
}

function openAIChunks(completion: Json, includeUsage: boolean): string[] {
  const head = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
  const frame = (choices: Json[], usage: unknown = null) => `data: ${JSON.stringify({ ...head, choices, ...(includeUsage ? { usage } : {}) })}\n\n`;
  const { message, finish_reason, index: _index, logprobs: _logprobs, ...rest } = (completion.choices as Json[])[0]!;
  const { content, tool_calls: calls } = message as { content: string | null; tool_calls?: Json[] };
  const delta = (fields: Json) => frame([{ index: 0, delta: fields, logprobs: null, finish_reason: null }]);
  const frames = [delta({ role: 'assistant', content: '' })];
  for (const word of (content ?? '').split(/(?<= )/)) if (word !== '') frames.push(delta({ content: word }));
  (calls ?? []).forEach((call, index) => frames.push(delta({ tool_calls: [{ index, ...call }] })));
  frames.push(frame([{ index: 0, delta: {}, logprobs: null, finish_reason, ...rest }]));
  if (includeUsage) frames.push(frame([], completion.usage));
  return [...frames, 'data: [DONE]\n\n'];
}
