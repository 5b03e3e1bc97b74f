import { describe, expect, it } from 'vitest';
import { accumulate, parseEvents, type Event } from '../../../test-support/message-stream-events.js';
import { fromOpenAI } from '../../translate/from-openai.js';
import { chatChunksToMessageEvents } from './chat-stream-events.js';

const REQUEST = { model: 'gpu-llama' };
const head = { id: 'chatcmpl-abc', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'llama-3' };
const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  ...head,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }],
});
const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 2 } };

/** A server's stream of `chunks`, as bytes cut every `cut` bytes (cutting through characters too). */
async function* served(chunks: unknown[], cut = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(`${chunks.map((item) => `data: ${JSON.stringify(item)}\n\n`).join('')}data: [DONE]\n\n`);
  for (let at = 0; at < bytes.length; at += cut) yield bytes.subarray(at, at + cut);
}

async function eventsOf(body: AsyncIterable<Buffer>, maxBytes = 1 << 20): Promise<Event[]> {
  let text = '';
  for await (const event of chatChunksToMessageEvents(body, REQUEST, maxBytes)) text += event;
  return parseEvents(text);
}

/** The completion the same call answers whole, as `fromOpenAI` translates it. */
function wholeMessage(message: Record<string, unknown>, finish: string) {
  const result = fromOpenAI({ ...head, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], usage }, REQUEST);
  if ('error' in result) throw new Error(result.error);
  return result.message;
}

describe('chatChunksToMessageEvents', () => {
  it('sends the text as it comes, cut anywhere, and ends with the message the whole completion translates to', async () => {
    const text = ['Héllo ', 'wörld 😀', ', again.'];
    const events = await eventsOf(served([chunk({ role: 'assistant', content: '' }), ...text.map((piece) => chunk({ content: piece })), chunk({}, 'stop'), { ...head, choices: [], usage }]));
    expect(events.map((event) => event.type)).toEqual([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta',
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    expect(events.filter((event) => event.type === 'content_block_delta').map((event) => (event.delta as { text: string }).text)).toEqual(text);
    expect(accumulate(events)).toEqual(wholeMessage({ content: text.join('') }, 'stop'));
  });

  it('sends tool calls whole after the text, their arguments put together, with stop reason tool_use', async () => {
    const calls = [
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"a"}' } }] }),
    ];
    const events = await eventsOf(served([chunk({ role: 'assistant', content: 'Looking.' }), ...calls, chunk({}, 'tool_calls'), { ...head, choices: [], usage }]));
    const message = accumulate(events);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Looking.' }), expect.objectContaining({ type: 'tool_use', id: 'call_1', name: 'lookup', input: { q: 'a' } })]);
    const toolCalls = [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } }];
    expect(message).toEqual(wholeMessage({ content: 'Looking.', tool_calls: toolCalls }, 'tool_calls'));
  });

  it("ends with an error event for a server's error chunk, arguments with no translation, or a stream that breaks off", async () => {
    const failed = await eventsOf(served([chunk({ content: 'Hi' }), { error: { message: 'the engine ran out of memory' } }]));
    expect(failed.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: 'the engine ran out of memory' } });
    const broken = await eventsOf(served([chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '[1,' } }] }), chunk({}, 'tool_calls')]));
    expect(broken.at(-1)).toMatchObject({ type: 'error', error: { message: expect.stringContaining('invalid response body: tool call 0') } });
    async function* cutShort(): AsyncGenerator<Buffer> {
      yield Buffer.from(`data: ${JSON.stringify(chunk({ content: 'Hi' }))}\n\n`);
      throw new Error('socket hang up');
    }
    const cut = await eventsOf(cutShort());
    expect(cut.map((event) => event.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(cut.at(-1)).toMatchObject({ error: { message: "the server's stream broke off: socket hang up" } });
  });

  it('stops reading past maxBytes, and holds a tool call index of a billion as one call', async () => {
    const long = await eventsOf(served([chunk({ content: 'x'.repeat(5000) })], 1024), 4096);
    expect(long.at(-1)).toMatchObject({ type: 'error', error: { message: "the server's stream passed 4096 bytes" } });
    const far = await eventsOf(served([chunk({ tool_calls: [{ index: 1e9, id: 'c', function: { name: 'f', arguments: '{}' } }] }), chunk({}, 'tool_calls')]));
    expect(accumulate(far).content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'c', name: 'f', input: {} })]);
  });
});
