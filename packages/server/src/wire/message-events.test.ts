import type { Message } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { reply, request } from '../../test-support/emulator-calls.js';
import { messageEvents } from './message-events.js';
import { accumulate, parseEvents, type Event } from '../../test-support/message-stream-events.js';

/** The events of the emulator's message for `params`. */
async function streamed(params: Record<string, unknown>): Promise<Event[]> {
  return parseEvents(messageEvents(await reply(params)).join(''));
}

describe('messageEvents', () => {
  it('streams a message, its text in pieces of 16 characters', async () => {
    const params = request('Tell me something long enough to come in several pieces.');
    const events = await streamed(params);
    expect(events.map((event) => event.type)).toEqual([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta',
      'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const start = events[0]!.message as Message;
    expect(start).toMatchObject({ content: [], stop_reason: null, stop_sequence: null, usage: { output_tokens: 1 } });
    expect(events[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } });
    expect(events[2]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '[emulator] Tell ' } });
    expect(accumulate(events)).toEqual(await reply(params));
  });

  it('never splits a surrogate pair between two pieces', async () => {
    // "[emulator] " is 11 characters: the 16th is the first emoji, whose halves must stay together.
    const params = request(`abcd${'😀'.repeat(17)}`);
    const events = await streamed(params);
    const pieces = events.filter((event) => event.type === 'content_block_delta').map((event) => (event.delta as { text: string }).text);
    expect(pieces.map((piece) => Array.from(piece).length)).toEqual([16, 16]);
    // In a u-mode pattern a pair is one character: only a lone half reads as a surrogate.
    for (const piece of pieces) expect(/\p{Cs}/u.test(piece)).toBe(false);
    expect(accumulate(events)).toEqual(await reply(params));
  });

  it('streams a tool_use block with its input as one input_json_delta', async () => {
    const params = request('Look it up.', { tools: [{ name: 'lookup', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } });
    const events = await streamed(params);
    expect(events[1]).toMatchObject({ content_block: { type: 'tool_use', name: 'lookup', input: {} } });
    expect(events[2]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } });
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    expect(accumulate(events)).toEqual(await reply(params));
  });
});
