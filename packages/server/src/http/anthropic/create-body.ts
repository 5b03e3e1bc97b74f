import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { JSONParser, TokenType } from '@streamparser/json';
import { CUSTOM_ID_PATTERN } from '@batchd/sdk';
import type { NewRequest } from '../../store/store.js';
import { ApiError, invalidRequest, requestTooLarge, uploadTimedOut } from '../api-error.js';

export interface CreateBodyLimits {
  maxBytes: number;
  maxRequests: number;
  /** Longest wait for the next piece of the body before the upload counts as stalled. */
  idleMs: number;
}

/** Resolves with the iterator's next chunk, or rejects when none arrives within `idleMs`. */
async function nextChunk(chunks: AsyncIterator<Buffer>, idleMs: number): Promise<IteratorResult<Buffer>> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(uploadTimedOut(`The upload stalled: no data for ${idleMs} ms.`)), idleMs);
  });
  try {
    return await Promise.race([chunks.next(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/** Requests handed to the store at a time while the body streams in: this many, or fewer whose params reach `CHUNK_BYTES`. */
const CHUNK_SIZE = 1000;
const CHUNK_BYTES = 1024 * 1024;

type JsonValue = unknown;

function isPlainObject(value: JsonValue): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a create body (`{"requests":[{custom_id, params}, ...]}`) as it streams in, checking
 * the envelope as it goes: size, count, shape, `custom_id` pattern and uniqueness. Yields the
 * requests in chunks with each `params` as compact JSON text; throws an {@link ApiError} at the
 * first violation. Memory stays bounded by the chunk size, not the body size. Every byte read
 * is also fed to `digest`, when given.
 */
export async function* parseCreateBody(body: Readable, limits: CreateBodyLimits, digest?: Hash): AsyncGenerator<NewRequest[]> {
  const seen = new Set<string>();
  let pending: NewRequest[] = [];
  let pendingChars = 0;
  let failure: ApiError | null = null;
  let sawRequests = false;
  let bytes = 0;
  let checkedFirstByte = false;

  // A string buffer and text input (decoded here, split characters included) make the
  // tokenizer about twice as fast as byte input with string concatenation.
  const parser = new JSONParser({ paths: ['$.*', '$.requests.*'], keepStack: false, stringBufferSize: 4096 });
  const decoder = new StringDecoder('utf8');
  // The parser forgets members it has handed over, and then takes `{"requests":[...],}` for an
  // object that was empty; a comma right before a closing brace or bracket is caught here.
  let previousToken: TokenType | undefined;
  parser.onToken = ({ token }) => {
    if (previousToken === TokenType.COMMA && (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET)) {
      failure ??= invalidRequest('The request body is not valid JSON: a comma is followed by a closing bracket.');
    }
    previousToken = token;
  };
  parser.onValue = ({ value, key, parent, stack }) => {
    if (failure) return;
    if (stack.length === 2) {
      // Drop the element from the array the parser is building, so the body is never held whole.
      delete (parent as unknown[])[key as number];
      failure = acceptRequest(value, key, seen.size);
      if (failure) return;
      const request = value as { custom_id: string; params: Record<string, unknown> };
      seen.add(request.custom_id);
      const params = JSON.stringify(request.params);
      pendingChars += params.length;
      pending.push({ customId: request.custom_id, params });
      return;
    }
    if (key !== 'requests') {
      failure = typeof key === 'number'
        ? invalidRequest('The request body must be a JSON object with a "requests" array.')
        : invalidRequest(`${String(key)}: Extra inputs are not permitted`);
      return;
    }
    if (!Array.isArray(value)) failure = invalidRequest('requests: Input should be a valid list');
    sawRequests = true;
  };

  function acceptRequest(value: JsonValue, index: JsonValue, count: number): ApiError | null {
    if (typeof index !== 'number') return invalidRequest('requests: Input should be a valid list');
    if (count >= limits.maxRequests) {
      return invalidRequest(`requests: a batch may hold at most ${limits.maxRequests} requests`);
    }
    if (!isPlainObject(value)) return invalidRequest(`requests.${index}: Input should be a valid object`);
    for (const field of Object.keys(value)) {
      if (field !== 'custom_id' && field !== 'params') return invalidRequest(`requests.${index}.${field}: Extra inputs are not permitted`);
    }
    const customId = value.custom_id;
    if (customId === undefined) return invalidRequest(`requests.${index}.custom_id: Field required`);
    if (typeof customId !== 'string' || !CUSTOM_ID_PATTERN.test(customId)) {
      return invalidRequest(`requests.${index}.custom_id: Invalid custom_id ${JSON.stringify(customId)}: custom_id must match ^[a-zA-Z0-9_-]{1,64}$`);
    }
    if (seen.has(customId)) return invalidRequest(`requests.${index}.custom_id: Duplicate custom_id "${customId}": each custom_id must be unique within the batch`);
    if (value.params === undefined) return invalidRequest(`requests.${index}.params: Field required`);
    if (!isPlainObject(value.params)) return invalidRequest(`requests.${index}.params: Input should be a valid object`);
    return null;
  }

  const chunks = (body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  for (;;) {
    const next = await nextChunk(chunks, limits.idleMs);
    if (next.done) break;
    const chunk = next.value;
    bytes += chunk.length;
    if (bytes > limits.maxBytes) throw requestTooLarge(`Request exceeds the maximum size of ${limits.maxBytes} bytes`);
    digest?.update(chunk);
    const text = decoder.write(chunk);
    if (!checkedFirstByte) {
      const start = text.trimStart();
      if (start.length > 0) {
        checkedFirstByte = true;
        if (!start.startsWith('{')) throw invalidRequest('The request body must be a JSON object with a "requests" array.');
      }
    }
    try {
      parser.write(text);
    } catch (error) {
      throw invalidRequest(`The request body is not valid JSON: ${(error as Error).message}`);
    }
    if (failure) throw failure;
    if (pending.length >= CHUNK_SIZE || pendingChars >= CHUNK_BYTES) {
      yield pending;
      pending = [];
      pendingChars = 0;
    }
  }
  // An empty body is no body: nothing holds the requests.
  if (bytes === 0) throw invalidRequest('requests: Field required');
  if (!parser.isEnded) throw invalidRequest('The request body is not valid JSON: it ended before the JSON value did.');
  if (!sawRequests) throw invalidRequest('requests: Field required');
  if (seen.size === 0) throw invalidRequest('requests: List should have at least 1 item');
  if (pending.length > 0) yield pending;
}
