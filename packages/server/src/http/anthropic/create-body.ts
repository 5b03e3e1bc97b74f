import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { TokenType } from '@streamparser/json';
import { CUSTOM_ID_PATTERN } from '@batchd/sdk';
import { paramsGarbage } from '../../large-garbage.js';
import { ownTurn } from '../../own-turn.js';
import type { NewRequest } from '../../store/store.js';
import { ApiError, invalidRequest, requestTooLarge, uploadTimedOut } from '../api-error.js';
import { ExactJsonParser, NUMBER_TAG } from '../exact-json.js';
import { BoundedValue, type JsonLimits } from '../json-bounds.js';
import { LARGE_JSON_BYTES, LargeHold } from '../large-json.js';
import { paramsJson, textLength, type Kept } from '../params-pieces.js';
import { SurrogateEscapes } from './surrogate-escapes.js';

export interface CreateBodyLimits {
  maxBytes: number;
  maxRequests: number;
  /** Bounds on each request's fields, `params` above all. */
  params: JsonLimits;
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
/**
 * Body bytes parsed between turns of the event loop: a body already buffered arrives without
 * one, and parsing it all at once would keep other requests (`/health`) waiting for seconds.
 */
const BYTES_PER_TURN = 1024 * 1024;

const { LEFT_BRACE, RIGHT_BRACE, LEFT_BRACKET, RIGHT_BRACKET, COLON, COMMA, STRING } = TokenType;

/**
 * Follows a create body's tokens down to the fields of each request and checks them before the
 * parser builds anything from them: the body holds only `requests`, a list of at most
 * `maxRequests` objects with only `custom_id` and `params`, each field's value within `limits`.
 * Throws an {@link ApiError} at the first violation.
 */
class CreateBodyShape {
  /** Containers open around the current token, up to a request's object (3). */
  private level = 0;
  private previous: TokenType | undefined;
  private key = '';
  private index = -1;
  private field: BoundedValue | null = null;
  private fieldStart = 0;
  /** Bytes of the last request's params, as far as the body has reached. */
  paramsBytes = 0;

  constructor(
    private readonly maxRequests: number,
    private readonly limits: JsonLimits,
  ) {}

  token(token: TokenType, value: unknown, offset: number): void {
    const previous = this.previous;
    this.previous = token;
    // The parser forgets members it has handed over, and then takes `{"requests":[...],}` for
    // an object that was empty; a comma right before a closing brace or bracket is caught here.
    if (previous === COMMA && (token === RIGHT_BRACE || token === RIGHT_BRACKET)) {
      throw invalidRequest('The request body is not valid JSON: a comma is followed by a closing bracket.');
    }
    if (this.field) {
      if (this.key === 'params') this.paramsBytes = offset - this.fieldStart;
      if (this.field.token(token, offset)) this.field = null;
      return;
    }
    if (token === RIGHT_BRACE || token === RIGHT_BRACKET) this.level--;
    else if (token === COMMA) return;
    // A request's field is bounded from the byte after its colon: a long string has no token until it ends.
    else if (token === COLON) {
      if (this.level === 3) this.field = new BoundedValue(this.limits, `requests.${this.index}.${this.key}`, offset + 1);
      this.fieldStart = offset + 1;
    } else if (this.level === 0) this.level = token === LEFT_BRACE ? 1 : 0;
    else if (this.level === 2) this.startRequest(token);
    else if (token === STRING && (previous === LEFT_BRACE || previous === COMMA)) this.startField(String(value));
    else if (this.level === 1) {
      if (token !== LEFT_BRACKET) throw invalidRequest('requests: Input should be a valid list');
      this.level = 2;
    }
  }

  /** Bytes of the request `params` open `end` bytes into the body, 0 when none is: a string may be long before its token comes. */
  openParamsBytes(end: number): number {
    return this.field && this.key === 'params' ? end - this.fieldStart : 0;
  }

  /** Checks the current value's size so far, `end` bytes into the body; a string may be long before its token comes. */
  checkSize(end: number): void {
    this.field?.checkSize(end);
  }

  private startRequest(token: TokenType): void {
    this.index++;
    this.paramsBytes = 0;
    if (this.index >= this.maxRequests) throw invalidRequest(`requests: a batch may hold at most ${this.maxRequests} requests`);
    if (token !== LEFT_BRACE) throw invalidRequest(`requests.${this.index}: Input should be a valid object`);
    this.level = 3;
  }

  private startField(key: string): void {
    if (this.level === 1 && key !== 'requests') throw invalidRequest(`${key}: Extra inputs are not permitted`);
    if (this.level === 3 && key !== 'custom_id' && key !== 'params') throw invalidRequest(`requests.${this.index}.${key}: Extra inputs are not permitted`);
    this.key = key;
  }
}

const loneSurrogate = () => invalidRequest('The request body is not valid JSON: a \\u escape names a lone surrogate (\\ud800-\\udfff without its pair).');

/** The text of the next piece of the body (the end when no chunk), or 400 where it is not UTF-8. */
function decodeUtf8(decoder: TextDecoder, chunk?: Buffer): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    throw invalidRequest('The request body is not valid JSON: it is not UTF-8 text.');
  }
}

/**
 * Parses a create body (`{"requests":[{custom_id, params}, ...]}`) as it streams in, checking
 * the envelope as it goes: size, count, shape, each request's bounds (`limits.params`),
 * `custom_id` pattern and uniqueness. Yields the requests in chunks with each `params` as
 * compact JSON text (large ones in pieces), numbers and members as written (see `exact-json.ts`);
 * throws an {@link ApiError} at the first violation. Memory stays bounded by the chunk size and
 * one request's bounds, not the body size. Every byte read is also fed to `digest`, when given;
 * large params hold the large-JSON share of the client `address` (see `large-json.ts`).
 */
export async function* parseCreateBody(body: Readable, limits: CreateBodyLimits, from: { digest?: Hash; address?: string } = {}): AsyncGenerator<NewRequest[]> {
  const { digest, address = '' } = from;
  const seen = new Set<string>();
  let pending: NewRequest[] = [];
  let pendingChars = 0;
  const parsed: Array<{ customId: string; params: unknown; size: number; kept: Kept }> = [];
  let sawRequests = false;
  let bytes = 0;
  let bytesThisTurn = 0;
  let checkedFirstByte = false;
  // A large params holds its share of the large-JSON budget from when it is known to be large until it is stored.
  const large = new LargeHold(address);
  let largeParsed = false;

  // A string buffer and text input (decoded here, split characters included) make the
  // tokenizer about twice as fast as byte input with string concatenation.
  const parser = new ExactJsonParser({ paths: ['$.*', '$.requests.*'], keepStack: false, stringBufferSize: 4096 });
  // Bytes that are not UTF-8 are refused, not replaced: the stored params are the ones sent.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const surrogates = new SurrogateEscapes();
  const shape = new CreateBodyShape(limits.maxRequests, limits.params);
  parser.onToken = ({ token, value, offset }) => shape.token(token, value, offset);
  parser.onValue = ({ value, key, parent, stack }) => {
    // The `requests` list itself, emptied as its items were handed over.
    if (stack.length !== 2) {
      sawRequests = true;
      return;
    }
    // Drop the element from the array the parser is building, so the body is never held whole.
    delete (parent as unknown[])[key as number];
    const request = value as { custom_id?: unknown; params?: unknown };
    const kept = parser.take();
    const failure = checkRequest(request, key as number, kept.numbers);
    if (failure) throw failure;
    const customId = request.custom_id as string;
    seen.add(customId);
    if (large.held) largeParsed = true;
    // Written as text once the parser's write returns, where the writing may take turns of the event loop.
    parsed.push({ customId, params: request.params, size: shape.paramsBytes, kept });
  };
  /** The requests `parser.write` handed over, their params as text, into `pending`. */
  async function writeParsed(): Promise<void> {
    for (const request of parsed.splice(0)) {
      const params = await paramsJson(request.params, request.size, request.kept);
      pendingChars += textLength(params);
      pending.push({ customId: request.customId, params });
    }
  }

  function checkRequest({ custom_id: customId, params }: { custom_id?: unknown; params?: unknown }, index: number, numbers: readonly string[]): ApiError | null {
    if (customId === undefined) return invalidRequest(`requests.${index}.custom_id: Field required`);
    // A number a double would change arrives as a marker string: it is shown as written.
    const number = typeof customId === 'string' && customId.startsWith(NUMBER_TAG) ? numbers[Number(customId.slice(NUMBER_TAG.length))] : undefined;
    if (number !== undefined || typeof customId !== 'string' || !CUSTOM_ID_PATTERN.test(customId)) {
      return invalidRequest(`requests.${index}.custom_id: Invalid custom_id ${number ?? JSON.stringify(customId)}: custom_id must match ^[a-zA-Z0-9_-]{1,64}$`);
    }
    if (seen.has(customId)) return invalidRequest(`requests.${index}.custom_id: Duplicate custom_id "${customId}": each custom_id must be unique within the batch`);
    if (params === undefined) return invalidRequest(`requests.${index}.params: Field required`);
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return invalidRequest(`requests.${index}.params: Input should be a valid object`);
    return null;
  }

  const chunks = (body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextChunk(chunks, limits.idleMs);
      if (next.done) break;
      const chunk = next.value;
      bytes += chunk.length;
      if (bytes > limits.maxBytes) throw requestTooLarge(`Request exceeds the maximum size of ${limits.maxBytes} bytes`);
      digest?.update(chunk);
      const text = decodeUtf8(decoder, chunk);
      if (surrogates.loneIn(text)) throw loneSurrogate();
      if (!checkedFirstByte) {
        const start = text.trimStart();
        if (start.length > 0) {
          checkedFirstByte = true;
          if (!start.startsWith('{')) throw invalidRequest('The request body must be a JSON object with a "requests" array.');
        }
      }
      try {
        parser.write(text);
        shape.checkSize(bytes);
      } catch (error) {
        throw error instanceof ApiError ? error : invalidRequest(`The request body is not valid JSON: ${(error as Error).message}`);
      }
      await writeParsed();
      bytesThisTurn += chunk.length;
      if (bytesThisTurn >= BYTES_PER_TURN) {
        bytesThisTurn = 0;
        await ownTurn();
      }
      if (pending.length >= CHUNK_SIZE || pendingChars >= CHUNK_BYTES || largeParsed) {
        yield pending;
        pending = [];
        // Stored by now: the chunk's params, and the parser's strings they came from, are garbage.
        paramsGarbage.released(pendingChars);
        pendingChars = 0;
        if (largeParsed) {
          large.giveBack();
          largeParsed = false;
        }
      }
      if (shape.openParamsBytes(bytes) > LARGE_JSON_BYTES) await large.take(limits.params.maxBytes);
    }
    // An empty body is no body: nothing holds the requests.
    if (bytes === 0) throw invalidRequest('requests: Field required');
    decodeUtf8(decoder);
    if (surrogates.loneAtEnd()) throw loneSurrogate();
    if (!parser.isEnded) throw invalidRequest('The request body is not valid JSON: it ended before the JSON value did.');
    if (!sawRequests) throw invalidRequest('requests: Field required');
    if (seen.size === 0) throw invalidRequest('requests: List should have at least 1 item');
    if (pending.length > 0) yield pending;
  } finally {
    large.giveBack();
  }
}
