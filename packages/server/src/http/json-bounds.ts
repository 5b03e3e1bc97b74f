import { TokenType } from '@streamparser/json';
import { PARAMS_SHAPE, type JsonShape } from '../json.js';
import { invalidRequest, requestTooLarge } from './api-error.js';

/** Bounds on one JSON value from a client, checked token by token as it streams in. */
export interface JsonLimits extends JsonShape {
  /** Most bytes of JSON text, as it arrived. */
  maxBytes: number;
}

const MiB = 1024 * 1024;

/** Bounds on one request's Messages params, in a batch or on `POST /v1/messages`: the hosted API's 32 MB for a request, and {@link PARAMS_SHAPE}. */
export const PARAMS_LIMITS: JsonLimits = { maxBytes: 32 * MiB, ...PARAMS_SHAPE };

/**
 * Watches the tokens of one JSON value (from `@streamparser/json`'s tokenizer), starting at the
 * byte offset of its first token, and throws an `ApiError` naming `path` and the limit the
 * moment the value passes one: 413 for its size, 400 for its depth or element count.
 */
export class BoundedValue {
  private depth = 0;
  private elements = 0;

  constructor(
    private readonly limits: JsonLimits,
    private readonly path: string,
    private readonly start: number,
  ) {}

  /** Takes the value's next token; true once the value is complete. */
  token(token: TokenType, offset: number): boolean {
    this.checkSize(offset + 1);
    if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) this.depth--;
    else if (token !== TokenType.COLON && token !== TokenType.COMMA) {
      if (++this.elements > this.limits.maxElements) {
        throw invalidRequest(`${this.path}: has more than the maximum of ${this.limits.maxElements} JSON values and keys`);
      }
      if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) {
        if (++this.depth > this.limits.maxDepth) throw invalidRequest(`${this.path}: is nested deeper than the maximum of ${this.limits.maxDepth} levels`);
      }
    }
    return this.depth === 0;
  }

  /** Throws once the value, read up to byte offset `end` (exclusive), is over its size limit. */
  checkSize(end: number): void {
    if (end - this.start > this.limits.maxBytes) {
      throw requestTooLarge(`${this.path}: exceeds the maximum size of ${this.limits.maxBytes} bytes of JSON`);
    }
  }
}

