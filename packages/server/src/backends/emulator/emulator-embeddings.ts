import { createHash } from 'node:crypto';
import type { ChatAnswer } from '../backend.js';

/**
 * The emulator's answer to an embeddings request (`POST /v1/embeddings` params): one vector per
 * input, in order, derived only from the model and that input, so equal inputs always embed
 * equally.
 *
 * - `input` is a string, or an array of strings, or a token array (integers), or an array of
 *   token arrays; each string or token array is one input, at most 2048 of them, as OpenAI
 *   allows. Empty inputs and other shapes answer 400.
 * - Vectors have 8 dimensions, or `dimensions` (1..3072) when given, with at most 16,384 values
 *   in all (an answer stays under 400 KB, whatever few bytes asked for it); each is a unit vector whose
 *   components come from a sha256 of the model and the input. `encoding_format: "base64"` answers
 *   each as the base64 of its little-endian float32 values, as OpenAI does.
 * - Usage counts 4 characters a token for text (at least 1), and a token array's length.
 */

const DEFAULT_DIMENSIONS = 8;
const MAX_DIMENSIONS = 3072;
const MAX_INPUTS = 2048;
const MAX_VALUES = 16_384;
const CHARS_PER_TOKEN = 4;

function invalid(message: string): ChatAnswer {
  return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message };
}

const isTokens = (value: unknown): value is number[] => Array.isArray(value) && value.length > 0 && value.every((token) => Number.isInteger(token));

/** The inputs of `input`, each a string or a token array; null when its shape is not one OpenAI accepts. */
function inputsOf(input: unknown): Array<string | number[]> | null {
  if (typeof input === 'string') return input === '' ? null : [input];
  if (isTokens(input)) return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((item) => typeof item === 'string' && item !== '')) return input as string[];
  return input.every(isTokens) ? (input as number[][]) : null;
}

function vector(model: string, input: string | number[], dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}\n${model}\n${JSON.stringify(input)}`).digest();
    for (let at = 0; at + 4 <= digest.length && values.length < dimensions; at += 4) values.push(digest.readUInt32LE(at) / 0x7fffffff - 1);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

function tokens(input: string | number[]): number {
  return typeof input === 'string' ? Math.max(1, Math.ceil([...input].length / CHARS_PER_TOKEN)) : input.length;
}

export function emulateEmbeddings(params: Record<string, unknown>): ChatAnswer {
  const model = params.model as string;
  const inputs = inputsOf(params.input);
  if (inputs === null) return invalid('input: must be a non-empty string, an array of non-empty strings, or token arrays');
  if (inputs.length > MAX_INPUTS) return invalid(`input: at most ${MAX_INPUTS} inputs, got ${inputs.length}`);
  const dimensions = params.dimensions ?? DEFAULT_DIMENSIONS;
  if (!Number.isInteger(dimensions) || (dimensions as number) < 1 || (dimensions as number) > MAX_DIMENSIONS) {
    return invalid(`dimensions: must be an integer between 1 and ${MAX_DIMENSIONS}`);
  }
  if (inputs.length * (dimensions as number) > MAX_VALUES) return invalid(`dimensions: ${inputs.length} inputs of ${String(dimensions)} dimensions pass the emulator's ${MAX_VALUES} values`);
  const format = params.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') return invalid('encoding_format: must be "float" or "base64"');
  let promptTokens = 0;
  const data = inputs.map((input, index) => {
    promptTokens += tokens(input);
    const values = vector(model, input, dimensions as number);
    const embedding = format === 'float' ? values : Buffer.from(new Float32Array(values).buffer).toString('base64');
    return { object: 'embedding', index, embedding };
  });
  return { kind: 'answer', status: 200, json: { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } } };
}

