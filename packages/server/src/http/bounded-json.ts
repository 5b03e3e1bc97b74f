import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Tokenizer } from '@streamparser/json';
import { ownTurn } from '../own-turn.js';
import { ApiError, invalidRequest } from './api-error.js';
import { BoundedValue, type JsonLimits } from './json-bounds.js';
import { LARGE_JSON_BYTES } from './large-json.js';

/**
 * Reads a JSON request body named `path` in errors, checking its tokens against `limits` as it
 * streams in, and parses it only once the whole of it has passed: a body that would build an
 * outsized object is refused before anything is built from it, and one whose `declaredBytes`
 * (its content-length) are too many before anything is read.
 */
export async function readBoundedJson(body: Readable, limits: JsonLimits, path: string, declaredBytes = 0): Promise<unknown> {
  return (await readBoundedJsonText(body, limits, path, declaredBytes))?.value;
}

/**
 * {@link readBoundedJson}, with the body's text beside its value; undefined for no body. Once more
 * than {@link LARGE_JSON_BYTES} have arrived, `whenLarge` is awaited before the body is read on.
 */
export async function readBoundedJsonText(
  body: Readable,
  limits: JsonLimits,
  path: string,
  declaredBytes = 0,
  whenLarge?: () => Promise<void>,
): Promise<{ value: unknown; text: string } | undefined> {
  const bounds = new BoundedValue(limits, path, 0);
  bounds.checkSize(declaredBytes);
  const tokenizer = new Tokenizer({ stringBufferSize: 4096 });
  const notJson = (reason: string) => invalidRequest(`The request body is not valid JSON: ${reason}`);
  let ended = false;
  tokenizer.onToken = ({ token, offset }) => {
    if (ended) throw notJson('more follows the value.');
    ended = bounds.token(token, offset);
  };
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  let bytes = 0;
  // The body is left open when refused, for the caller to drain.
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    if (bytes <= LARGE_JSON_BYTES && bytes + chunk.length > LARGE_JSON_BYTES) await whenLarge?.();
    bytes += chunk.length;
    bounds.checkSize(bytes);
    const text = decoder.write(chunk);
    parts.push(text);
    try {
      tokenizer.write(text);
    } catch (error) {
      throw error instanceof ApiError ? error : notJson((error as Error).message);
    }
  }
  parts.push(decoder.end());
  // An empty body is no body, whatever its content type (see empty-body.ts).
  if (bytes === 0) return undefined;
  // Joining and parsing a large body each walk all of it: each gets a turn of its own, and what follows the next.
  const long = bytes > LARGE_JSON_BYTES;
  if (long) await ownTurn();
  const whole = parts.join('');
  if (long) await ownTurn();
  let value: unknown;
  try {
    value = JSON.parse(whole);
  } catch (error) {
    throw notJson((error as Error).message);
  }
  if (long) await ownTurn();
  return { value, text: whole };
}
