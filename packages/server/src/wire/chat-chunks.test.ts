import { describe, expect, it } from 'vitest';
import { chatCompletionChunks } from './chat-chunks.js';

interface Chunk {
  choices: Array<{ index: number; delta: Record<string, unknown>; finish_reason: string | null }>;
  usage?: unknown;
}

/** The chunks of a stream, checked to be `data:` frames ending with `[DONE]`. */
function parseChunks(frames: string[]): Chunk[] {
  expect(frames.at(-1)).toBe('data: [DONE]\n\n');
  return frames.slice(0, -1).map((frame) => {
    expect(frame).toMatch(/^data: .*\n\n$/s);
    return JSON.parse(frame.slice('data: '.length)) as Chunk;
  });
}

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpu-llama',
  system_fingerprint: 'fp_1',
  choices: [
    { index: 0, message: { role: 'assistant', content: `${'😀'.repeat(20)}!` }, logprobs: null, finish_reason: 'length', stop_reason: null },
    {
      index: 1,
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } }] },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 21, total_tokens: 26 },
};

describe('chatCompletionChunks', () => {
  it("sends each choice's role, its text in whole characters, each tool call, and its finish reason", () => {
    const chunks = parseChunks(chatCompletionChunks(completion, false));
    for (const chunk of chunks) expect(chunk).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpu-llama', system_fingerprint: 'fp_1' });
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    const deltas = (index: number) => chunks.map((chunk) => chunk.choices[0]!).filter((choice) => choice.index === index);
    const first = deltas(0);
    expect(first[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const texts = first.slice(1, -1).map((choice) => choice.delta.content as string);
    // 16 characters a piece: no piece holds half of a surrogate pair.
    expect(texts).toEqual(['😀'.repeat(16), `${'😀'.repeat(4)}!`]);
    expect(first.at(-1)).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'length', stop_reason: null });
    expect(deltas(1).map((choice) => choice.delta)).toEqual([
      { role: 'assistant', content: null },
      { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"q":"a"}' } }] },
      {},
    ]);
    expect(deltas(1).at(-1)!.finish_reason).toBe('tool_calls');
  });

  it('carries usage: null on every chunk and the usage on a last chunk without choices, when asked', () => {
    const chunks = parseChunks(chatCompletionChunks(completion, true));
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null && chunk.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: completion.usage });
  });
});
