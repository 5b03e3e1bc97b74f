import { describe, expect, it } from 'vitest';
import { emulateEmbeddings } from './emulator-embeddings.js';

const answer = (params: Record<string, unknown>) => {
  const outcome = emulateEmbeddings({ model: 'e', ...params });
  if (outcome.kind !== 'answer') throw new Error(outcome.message);
  return outcome.json as { data: Array<{ index: number; embedding: number[] | string }>; usage: { prompt_tokens: number; total_tokens: number } };
};

describe('emulateEmbeddings', () => {
  it('answers one unit vector per input, in order, the same for the same model and input', () => {
    const many = answer({ input: ['alpha', 'beta', 'alpha'] });
    expect(many.data.map((item) => [item.index, (item.embedding as number[]).length])).toEqual([[0, 8], [1, 8], [2, 8]]);
    expect(many.data[0]!.embedding).toEqual(many.data[2]!.embedding);
    expect(many.data[0]!.embedding).not.toEqual(many.data[1]!.embedding);
    expect(Math.hypot(...(many.data[1]!.embedding as number[]))).toBeCloseTo(1, 9);
    expect(answer({ input: 'beta' }).data[0]!.embedding).toEqual(many.data[1]!.embedding);
    expect(emulateEmbeddings({ model: 'other', input: 'beta' })).not.toEqual(emulateEmbeddings({ model: 'e', input: 'beta' }));
    expect(many.usage).toEqual({ prompt_tokens: 2 + 1 + 2, total_tokens: 5 });
  });

  it('takes token arrays, honours dimensions and answers base64 float32 when asked', () => {
    expect(answer({ input: [1, 2, 3] }).usage.prompt_tokens).toBe(3);
    expect(answer({ input: [[1, 2], [3]] }).data).toHaveLength(2);
    const wide = answer({ input: 'x', dimensions: 20 }).data[0]!.embedding as number[];
    expect(wide).toHaveLength(20);
    const packed = answer({ input: 'x', dimensions: 20, encoding_format: 'base64' }).data[0]!.embedding as string;
    const bytes = Buffer.from(packed, 'base64');
    expect(Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(4 * i))).toEqual(wide.map((value) => Math.fround(value)));
  });

  it('answers 400 for inputs and options OpenAI would refuse', () => {
    for (const params of [{ input: '' }, { input: [] }, { input: ['a', 3] }, { input: [[]] }, { input: 'x', dimensions: 0 }, { input: 'x', encoding_format: 'hex' }, {}, { input: Array(2049).fill('a') }, { input: Array(100).fill('a'), dimensions: 3000 }]) {
      expect(emulateEmbeddings({ model: 'e', ...params })).toMatchObject({ kind: 'error', status: 400, errorType: 'invalid_request_error', retryable: false });
    }
  });
});
