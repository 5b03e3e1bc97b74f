import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Create bodies (`{"requests":[{custom_id, params}, ...]}`) of a chosen size, deterministic so
 * every run and every baseline sees the same bytes.
 */

/** A current model name: the official SDK warns on every call that names a deprecated one. */
export const MODEL = 'claude-sonnet-5-5';

export interface MessageParams {
  model: string;
  max_tokens: number;
  messages: Array<{ role: 'user'; content: string }>;
}

const WORDS = [
  'batch', 'model', 'request', 'answer', 'token', 'stream', 'result', 'queue', 'lease', 'worker',
  'summarise', 'the', 'following', 'paragraph', 'in', 'one', 'sentence', 'and', 'list', 'three',
  'facts', 'about', 'it', 'with', 'care', 'please', 'quote', "it's", '"exact"', 'line\n',
];

/** Deterministic prose of exactly `length` characters for request `index`. */
export function prose(index: number, length: number): string {
  let state = (index * 2_654_435_761) >>> 0;
  let text = `Item ${index}:`;
  while (text.length < length) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    text += ` ${WORDS[state % WORDS.length]!}`;
  }
  return text.slice(0, length);
}

/** Params with one user turn of `textLength` characters. */
export function messageParams(index: number, textLength: number, maxTokens = 256): MessageParams {
  return { model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: prose(index, textLength) }] };
}

export const customId = (index: number) => `req-${index}`;

/** The body's text in pieces of about 1 MB. */
export function* createBodyPieces(count: number, paramsOf: (index: number) => object): Generator<string> {
  let piece = '{"requests":[';
  for (let i = 0; i < count; i++) {
    piece += `${i === 0 ? '' : ','}{"custom_id":${JSON.stringify(customId(i))},"params":${JSON.stringify(paramsOf(i))}}`;
    if (piece.length >= 1 << 20) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}]}`;
}

export function createBodyBuffer(count: number, paramsOf: (index: number) => object): Buffer {
  return Buffer.from([...createBodyPieces(count, paramsOf)].join(''), 'utf8');
}

/** Writes the body to `path`; returns its size in bytes. */
export async function writeCreateBody(path: string, count: number, paramsOf: (index: number) => object): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const piece of createBodyPieces(count, paramsOf)) {
    const buffer = Buffer.from(piece, 'utf8');
    bytes += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
