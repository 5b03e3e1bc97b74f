import type { Message } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { messageToChatCompletion } from '../../translate/message-to-chat.js';
import { messageEventsToChatChunks } from './message-stream-chunks.js';

const CREATED = 1_700_000_000;
const usage = { input_tokens: 9, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 2 };
const start = { type: 'message_start', message: { id: 'msg_abc', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } };
const textBlock = (index: number, pieces: string[]) => [
  { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
  ...pieces.map((text) => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } })),
  { type: 'content_block_stop', index },
];
const toolBlock = (index: number, pieces: string[]) => [
  { type: 'content_block_start', index, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } },
  ...pieces.map((partial_json) => ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } })),
  { type: 'content_block_stop', index },
];
const end = (stopReason: string) => [
  { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
  { type: 'message_stop' },
];

/** The API's stream of `events`, as bytes cut every `cut` bytes (cutting through characters too). */
async function* served(events: unknown[], cut = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(events.map((event) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`).join(''));
  for (let at = 0; at < bytes.length; at += cut) yield bytes.subarray(at, at + cut);
}

interface Chunk {
  id: string;
  choices: Array<{ index: number; delta: { content?: string | null; tool_calls?: Array<{ index: number; id?: string; type?: string; function: { name?: string; arguments?: string } }> }; finish_reason: string | null }>;
  usage?: unknown;
  error?: { message: string; type: string };
}

async function chunksOf(body: AsyncIterable<Buffer>, includeUsage = true, maxBytes = 1 << 20): Promise<{ chunks: Chunk[]; done: boolean }> {
  let text = '';
  for await (const frame of messageEventsToChatChunks(body, { created: CREATED, includeUsage }, maxBytes)) text += frame;
  const frames = text.split('\n\n').filter(Boolean).map((frame) => frame.replace(/^data: /, ''));
  const done = frames.at(-1) === '[DONE]';
  return { chunks: (done ? frames.slice(0, -1) : frames).map((frame) => JSON.parse(frame) as Chunk), done };
}

/** The first choice the chunks make, put together as OpenAI's clients do, with the usage. */
function accumulate(chunks: Chunk[]) {
  let content: string | null = null;
  let finish: string | null = null;
  const calls: Array<{ id?: string; type: string; function: { name: string; arguments: string } }> = [];
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      if (choice.delta.content) content = (content ?? '') + choice.delta.content;
      for (const part of choice.delta.tool_calls ?? []) {
        const call = (calls[part.index] ??= { type: 'function', function: { name: '', arguments: '' } });
        if (part.id) call.id = part.id;
        if (part.function.name) call.function.name = part.function.name;
        call.function.arguments += part.function.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
  }
  return { content, calls, finish, usage: chunks.at(-1)?.usage };
}

/** What the same call answers whole, translated. */
function whole(content: unknown[], stopReason: string) {
  const completion = messageToChatCompletion({ ...start.message, content, stop_reason: stopReason, usage } as unknown as Message, { created: CREATED });
  const { message, finish_reason } = completion.choices[0]!;
  return { content: message.content, calls: message.tool_calls ?? [], finish: finish_reason, usage: completion.usage };
}

describe('messageEventsToChatChunks', () => {
  it('sends each text delta as a chunk as it comes, cut anywhere, and ends with what the whole message translates to', async () => {
    const pieces = ['Héllo ', 'wörld 😀', ', again.'];
    const { chunks, done } = await chunksOf(served([start, { type: 'ping' }, ...textBlock(0, pieces), ...end('end_turn')]));
    expect(done).toBe(true);
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-abc', object: 'chat.completion.chunk', created: CREATED, model: 'claude-x', choices: [{ delta: { role: 'assistant', content: '' } }] });
    expect(chunks.slice(1, 4).map((chunk) => chunk.choices[0]!.delta.content)).toEqual(pieces);
    expect(accumulate(chunks)).toEqual(whole([{ type: 'text', text: pieces.join('') }], 'end_turn'));
  });

  it('sends tool calls after the text, their input put together from its pieces, with finish reason tool_calls', async () => {
    const events = [start, ...textBlock(0, ['Looking.']), ...toolBlock(1, ['{"q":', ' "a"', '}']), ...end('tool_use')];
    const { chunks, done } = await chunksOf(served(events, 5));
    expect(done).toBe(true);
    const expected = whole([{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'a' } }], 'tool_use');
    expect(accumulate(chunks)).toEqual(expected);
    expect(expected.finish).toBe('tool_calls');
  });

  it('sends no usage chunk unless asked', async () => {
    const { chunks } = await chunksOf(served([start, ...textBlock(0, ['Hi.']), ...end('end_turn')]), false);
    expect(chunks.every((chunk) => chunk.choices.length === 1 && !('usage' in chunk))).toBe(true);
  });

  it("ends with an error chunk of the error's type, after the text sent, when the API's stream reports an error", async () => {
    const { chunks, done } = await chunksOf(served([start, ...textBlock(0, ['Partial ']), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]));
    expect(done).toBe(false);
    expect(chunks.map((chunk) => chunk.choices?.[0]?.delta.content).filter(Boolean)).toEqual(['Partial ']);
    expect(chunks.at(-1)).toEqual({ error: expect.objectContaining({ message: 'Overloaded', code: 'server_is_overloaded' }) });
  });

  it.each([
    ['breaks off before message_stop', [start, ...textBlock(0, ['Half'])], /ended before message_stop/],
    ['holds a tool input that is not JSON', [start, ...toolBlock(0, ['{"q":']), ...end('tool_use')], /tool_use input is not JSON/],
    ['holds an event that is not JSON', [start, 'not json'], /an event is not JSON/],
  ])('ends with an error chunk when the stream %s', async (_name, events, message) => {
    const frames = events.map((event) => (typeof event === 'string' ? `data: ${event}\n\n` : `data: ${JSON.stringify(event)}\n\n`));
    const { chunks, done } = await chunksOf((async function* () { yield Buffer.from(frames.join('')); })());
    expect(done).toBe(false);
    expect(chunks.at(-1)!.error!.message).toMatch(message);
  });

  it('stops reading at the byte bound', async () => {
    const { chunks, done } = await chunksOf(served([start, ...textBlock(0, ['x'.repeat(4096)]), ...end('end_turn')]), true, 2048);
    expect(done).toBe(false);
    expect(chunks.at(-1)!.error!.message).toMatch(/passed 2048 bytes/);
  });

  it('keeps blocks by the index the events give, however large', async () => {
    const { chunks, done } = await chunksOf(served([start, ...textBlock(1e9, ['Far.']), ...end('end_turn')]));
    expect(done).toBe(true);
    expect(accumulate(chunks).content).toBe('Far.');
  });
});
