import { isObject, type Json } from '../../src/json.js';
import { anthropicMessage, openAICompletion, type ProviderShape } from './fake-answers.js';

/**
 * What the fake providers stream when a request asks (`stream: true`): the Messages API's events
 * for the anthropic shape, as the hosted API sends them (a word of text per `text_delta`, a
 * `tool_use` block's input as `input_json_delta` pieces), and for the openai shape's chat completions the chunks an
 * OpenAI-compatible server sends: a word of the content per chunk, each tool call whole, the
 * finish reason, the usage when `stream_options.include_usage` asks, then `data: [DONE]`.
 */

/** The server-sent event frames answering `body` on `path`, or null when the request is not streamed there. */
export function streamFrames(shape: ProviderShape, path: string, body: unknown): string[] | null {
  if (!isObject(body) || body.stream !== true) return null;
  // The answer is the one the same request gets whole.
  const { stream: _stream, stream_options: options, ...whole } = body;
  if (shape === 'anthropic') return anthropicEvents(anthropicMessage(whole)).map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
  if (path !== '/v1/chat/completions') return null;
  return openAIChunks(openAICompletion(whole), isObject(options) && options.include_usage === true);
}

/** The words of `text`, each with the spaces after it. */
function words(text: string): string[] {
  return text.split(/(?<= )/).filter((word) => word !== '');
}

/** The events the Messages API streams for `message`: start, each block's start, deltas and stop, the stop reason and usage, stop. */
function anthropicEvents(message: Json): Json[] {
  const content = (message.content as Json[]) ?? [];
  const events: Json[] = [{ type: 'message_start', message: { ...message, content: [], stop_reason: null } }];
  content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of words(String(block.text))) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      const input = JSON.stringify(block.input ?? {});
      for (let at = 0; at < input.length; at += 8) events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: input.slice(at, at + 8) } });
    } else events.push({ type: 'content_block_start', index, content_block: block });
    events.push({ type: 'content_block_stop', index });
  });
  events.push({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage: message.usage });
  events.push({ type: 'message_stop' });
  return events;
}

function openAIChunks(completion: Json, includeUsage: boolean): string[] {
  const head = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model };
  const frame = (choices: Json[], usage: unknown = null) => `data: ${JSON.stringify({ ...head, choices, ...(includeUsage ? { usage } : {}) })}\n\n`;
  const { message, finish_reason, index: _index, logprobs: _logprobs, ...rest } = (completion.choices as Json[])[0]!;
  const { content, tool_calls: calls } = message as { content: string | null; tool_calls?: Json[] };
  const delta = (fields: Json) => frame([{ index: 0, delta: fields, logprobs: null, finish_reason: null }]);
  const frames = [delta({ role: 'assistant', content: '' })];
  for (const word of words(content ?? '')) frames.push(delta({ content: word }));
  (calls ?? []).forEach((call, index) => frames.push(delta({ tool_calls: [{ index, ...call }] })));
  frames.push(frame([{ index: 0, delta: {}, logprobs: null, finish_reason, ...rest }]));
  if (includeUsage) frames.push(frame([], completion.usage));
  return [...frames, 'data: [DONE]\n\n'];
}
