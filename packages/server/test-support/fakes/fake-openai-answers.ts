import { createHash } from 'node:crypto';
import { isObject, type Json } from '../../src/json.js';

/**
 * What a fake OpenAI-compatible server answers on its endpoints besides chat completions:
 * embeddings, legacy completions and the Responses API, each deterministic and derived from the
 * request, so a test can tell the provider's answers from the emulator's.
 */

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);

/** The provider's vector for one input: its length, the code of its first character, and 0.25. */
export function providerEmbedding(input: string | number[]): number[] {
  return typeof input === 'string' ? [input.length, input.codePointAt(0) ?? 0, 0.25] : [input.length, input[0] ?? 0, 0.25];
}

export function fakeEmbeddings(body: unknown): Json {
  const request = isObject(body) ? body : {};
  const inputs = Array.isArray(request.input) && !request.input.every((item) => typeof item === 'number') ? request.input : [request.input];
  const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: providerEmbedding(input as string | number[]) }));
  return { object: 'list', data, model: request.model, usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length } };
}

export function fakeTextCompletion(body: unknown): Json {
  const request = isObject(body) ? body : {};
  const text = `completed: ${String(request.prompt)}`;
  return {
    id: `cmpl-${hashOf(request)}`,
    object: 'text_completion',
    created: 0,
    model: request.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  };
}

export function fakeResponse(body: unknown): Json {
  const request = isObject(body) ? body : {};
  const text = `responded: ${typeof request.input === 'string' ? request.input : JSON.stringify(request.input)}`;
  return {
    id: `resp_${hashOf(request)}`,
    object: 'response',
    created_at: 0,
    status: 'completed',
    model: request.model,
    output: [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }],
    usage: { input_tokens: 11, input_tokens_details: { cached_tokens: 2 }, output_tokens: 13, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 24 },
  };
}
