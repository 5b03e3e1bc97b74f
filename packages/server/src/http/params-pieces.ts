import { randomBytes } from 'node:crypto';
import { hasInexactNumber } from '../json.js';
import { parseExact, PROTO_KEY, RawNumber } from './exact-json.js';

/** Characters of JSON text in one piece: a piece of escaped string text may be up to 6 times longer. */
export const PIECE_CHARS = 256 * 1024;

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** Where to end a piece of `text` that starts at `start`: never between the halves of a surrogate pair. */
function pieceEnd(text: string, start: number): number {
  const end = Math.min(text.length, start + PIECE_CHARS);
  return end < text.length && HIGH_SURROGATE.test(text.charAt(end - 1)) ? end - 1 : end;
}

/** Pieces of text: short fragments are joined, none grows past {@link PIECE_CHARS} by more than one fragment. */
class Pieces {
  readonly done: string[] = [];
  private current = '';

  add(fragment: string): void {
    this.current += fragment;
    if (this.current.length >= PIECE_CHARS) this.flush();
  }

  /** Adds `text` cut into fragments of at most {@link PIECE_CHARS} characters, `escape`d each. */
  addCut(text: string, escape: (fragment: string) => string = (fragment) => fragment): void {
    for (let start = 0; start < text.length; ) {
      const end = pieceEnd(text, start);
      this.add(escape(text.slice(start, end)));
      start = end;
    }
  }

  flush(): string[] {
    if (this.current !== '') this.done.push(this.current);
    this.current = '';
    return this.done;
  }
}

/**
 * `JSON.stringify(value)` as pieces of about {@link PIECE_CHARS} characters whose concatenation is
 * exactly that text, without building it: a long string's escaped text is made a piece at a time,
 * so a value holding a 31 MB string never has a second 31 MB copy, nor one as large as the whole.
 * What the exact parser kept (see `exact-json.ts`) goes back as it was written: a {@link RawNumber}
 * as its text, a {@link PROTO_KEY} member as `"__proto__"`.
 */
export function stringifyInPieces(value: unknown): string[] {
  // Long strings and kept numbers are stood in for by markers no client can guess, then spliced back.
  const tag = randomBytes(16).toString('hex');
  const spliced: (string | RawNumber)[] = [];
  const skeleton = JSON.stringify(value, function (this: Record<string, unknown>, key, item: unknown) {
    const written = this[key];
    if (!(written instanceof RawNumber) && (typeof item !== 'string' || item.length <= PIECE_CHARS)) return item;
    spliced.push(written instanceof RawNumber ? written : (item as string));
    return `${tag}${spliced.length - 1}`;
  });
  const pieces = new Pieces();
  const marker = new RegExp(`"(?:${tag}(\\d+)|${PROTO_KEY})"`, 'g');
  let from = 0;
  for (const match of skeleton.matchAll(marker)) {
    pieces.addCut(skeleton.slice(from, match.index));
    const item = match[1] === undefined ? '__proto__' : spliced[Number(match[1])]!;
    if (item instanceof RawNumber) pieces.add(item.text);
    else {
      pieces.add('"');
      pieces.addCut(item, (fragment) => JSON.stringify(fragment).slice(1, -1));
      pieces.add('"');
    }
    from = match.index + match[0].length;
  }
  pieces.addCut(skeleton.slice(from));
  return pieces.flush();
}

/** Params longer than this, in characters of JSON text, are kept as pieces. */
const PIECED_PARAMS_CHARS = 1024 * 1024;

/**
 * The compact JSON text of `params`, `size` long as they arrived (bytes or characters): large
 * params as pieces, never as one string, nor one value for the store to copy. `kept`: the params
 * hold what the exact parser kept, to be written back as given.
 */
export function paramsJson(params: unknown, size: number, kept = false): string | string[] {
  if (size <= PIECE_CHARS && !kept) return JSON.stringify(params);
  const pieces = stringifyInPieces(params);
  return textLength(pieces) > PIECED_PARAMS_CHARS ? pieces : pieces.join('');
}

/** Characters of JSON text held by `text`, whole or in pieces. */
export function textLength(text: string | string[]): number {
  return typeof text === 'string' ? text.length : text.reduce((sum, piece) => sum + piece.length, 0);
}

/** The compact text of JSON `text` with its numbers as written, when `JSON.parse` would change one of them; else undefined. */
export function exactParamsText(text: string): string | undefined {
  return hasInexactNumber(text) ? stringifyInPieces(parseExact(text)).join('') : undefined;
}
