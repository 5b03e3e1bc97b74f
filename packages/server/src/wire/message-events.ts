import type { ContentBlock, Message } from '@batchd/sdk';

/** Characters (code points) per text delta: a reply arrives in pieces, as a model's does. */
const DELTA_CHARS = 16;

type Delta = { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string };

/**
 * A message as the Messages API streams it (`stream: true`), as server-sent events: `message_start`
 * (the message with no content, no stop reason yet, and one output token), then each content
 * block's `content_block_start` (the block empty), deltas and `content_block_stop`, then
 * `message_delta` (the stop reason and its details, and the usage's totals) and `message_stop`.
 * A text block comes in pieces of 16 characters, never between the halves of a surrogate pair; a
 * `tool_use` block's input comes as one `input_json_delta`. An SDK that accumulates the events
 * ends with `message` itself.
 */
export function messageEvents(message: Message): string[] {
  return [messageStartEvent(message), ...message.content.flatMap((block, index) => blockEvents(block, index)), ...messageEndEvents(message)];
}

/** `message_start`: the message with no content, no stop reason yet, and one output token. */
export function messageStartEvent(message: Message): string {
  return sseEvent('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } } });
}

/** A content block's `content_block_start` (the block empty), its deltas, and `content_block_stop`. */
export function blockEvents(block: ContentBlock, index: number): string[] {
  const deltas = deltasOf(block).map((delta) => sseEvent('content_block_delta', { index, delta }));
  return [sseEvent('content_block_start', { index, content_block: emptied(block) }), ...deltas, sseEvent('content_block_stop', { index })];
}

/** `message_delta` (the stop reason and its details, and the usage's totals), then `message_stop`. */
export function messageEndEvents(message: Message): string[] {
  const { stop_reason, stop_sequence, stop_details, container, usage } = message;
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, server_tool_use } = usage;
  return [
    sseEvent('message_delta', {
      delta: { stop_reason, stop_sequence, stop_details, container },
      usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens, server_tool_use },
    }),
    sseEvent('message_stop', {}),
  ];
}

/** One server-sent event of the Messages API: its type on the `event:` line and in its data. */
export function sseEvent(type: string, fields: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
}

function emptied(block: ContentBlock): ContentBlock {
  if (block.type === 'text') return { ...block, text: '' };
  if (block.type === 'tool_use') return { ...block, input: {} };
  return block;
}

function deltasOf(block: ContentBlock): Delta[] {
  if (block.type === 'tool_use') return [{ type: 'input_json_delta', partial_json: JSON.stringify(block.input) }];
  const { text } = block as { text?: unknown };
  if (block.type !== 'text' || typeof text !== 'string') return [];
  return textPieces(text).map((piece) => ({ type: 'text_delta', text: piece }));
}

/** `text` in pieces of 16 code points, never between the halves of a surrogate pair: a reply's text as a model streams it. */
export function textPieces(text: string): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let at = 0; at < chars.length; at += DELTA_CHARS) pieces.push(chars.slice(at, at + DELTA_CHARS).join(''));
  return pieces;
}
