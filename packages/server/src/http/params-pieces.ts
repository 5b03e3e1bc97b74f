import { randomBytes } from 'node:crypto';
import { hasInexactNumber } from '../json.js';
import { ownTurn } from '../own-turn.js';
import { ExactJsonParser, NUMBER_TAG, PROTO_KEY } from './exact-json.js';

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

  flush(): string[] {
    if (this.current !== '') this.done.push(this.current);
    this.current = '';
    return this.done;
  }
}

/** `text` cut into fragments of at most {@link PIECE_CHARS} characters. */
function* cut(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    const end = pieceEnd(text, start);
    yield text.slice(start, end);
    start = end;
  }
}

/** What a parse kept for the way back to text: numbers a double would change (see {@link NUMBER_TAG}), and whether a {@link PROTO_KEY} member is held. */
export interface Kept {
  numbers: readonly string[];
  protoKeys: boolean;
}

const NOTHING_KEPT: Kept = { numbers: [], protoKeys: false };

/**
 * `JSON.stringify(value)` as pieces of about {@link PIECE_CHARS} characters whose concatenation is
 * exactly that text, without building it: a long string's escaped text is made a piece at a time,
 * so a value holding a 31 MB string never has a second 31 MB copy, nor one as large as the whole,
 * and the event loop gets a turn after each {@link CHARS_PER_TURN} characters made. What a parse
 * `kept` goes back as it was written: the text of each number marker, `"__proto__"` for a
 * {@link PROTO_KEY} member.
 */
export async function stringifyInPieces(value: unknown, kept: Kept = NOTHING_KEPT): Promise<string[]> {
  const pieces = new Pieces();
  let sinceTurn = 0;
  for (const fragment of fragmentsOf(value, kept)) {
    pieces.add(fragment);
    sinceTurn += fragment.length;
    if (sinceTurn < CHARS_PER_TURN) continue;
    sinceTurn = 0;
    await ownTurn();
  }
  return pieces.flush();
}

/** Characters of JSON text {@link stringifyInPieces} makes between turns of the event loop (escaping 4 Mi characters of quoted text takes about 30 ms here). */
const CHARS_PER_TURN = 4 * 1024 * 1024;

/** The text of `JSON.stringify(value)`, with what `kept` gives back, in fragments of at most about {@link PIECE_CHARS} characters. */
function* fragmentsOf(value: unknown, kept: Kept): Generator<string> {
  // Long strings are stood in for by markers no client can guess, then spliced back in pieces.
  // A replacer costs a call per value (a params of a million numbers: 0.3 s against 12 ms), so only a value holding a long string pays it.
  const tag = randomBytes(16).toString('hex');
  const long: string[] = [];
  const skeleton = !holdsLongString(value)
    ? JSON.stringify(value)
    : JSON.stringify(value, (_key, item: unknown) => {
        if (typeof item !== 'string' || item.length <= PIECE_CHARS) return item;
        long.push(item);
        return `${tag}${long.length - 1}`;
      });
  // Nothing to splice back: the skeleton is the text.
  if (long.length === 0 && kept.numbers.length === 0 && !kept.protoKeys) {
    yield* cut(skeleton);
    return;
  }
  const numbers = kept.numbers.length > 0 ? `|${NUMBER_TAG}(\\d+)` : '';
  const marker = new RegExp(`"(?:${tag}(\\d+)|${PROTO_KEY}${numbers})"`, 'g');
  let from = 0;
  for (const match of skeleton.matchAll(marker)) {
    yield* cut(skeleton.slice(from, match.index));
    const [written, longAt, numberAt] = match;
    if (longAt !== undefined) {
      yield '"';
      for (const fragment of cut(long[Number(longAt)]!)) yield JSON.stringify(fragment).slice(1, -1);
      yield '"';
    } else if (numberAt !== undefined) yield kept.numbers[Number(numberAt)] ?? written;
    else yield '"__proto__"';
    from = match.index + written.length;
  }
  yield* cut(skeleton.slice(from));
}

/** Whether a string longer than {@link PIECE_CHARS} is anywhere in parsed JSON `value`: a walk without recursion, so no depth can overflow it. */
export function holdsLongString(value: unknown): boolean {
  const open: unknown[] = [value];
  while (open.length > 0) {
    const item = open.pop();
    if (typeof item === 'string') {
      if (item.length > PIECE_CHARS) return true;
    } else if (Array.isArray(item)) {
      for (const inner of item) if (typeof inner === 'object' || typeof inner === 'string') open.push(inner);
    } else if (typeof item === 'object' && item !== null) {
      for (const inner of Object.values(item)) if (typeof inner === 'object' || typeof inner === 'string') open.push(inner);
    }
  }
  return false;
}

/** Params longer than this, in characters of JSON text, are kept as pieces. */
const PIECED_PARAMS_CHARS = 1024 * 1024;

/**
 * The compact JSON text of `params`, `size` long as they arrived (bytes or characters): large
 * params as pieces, never as one string, nor one value for the store to copy, made a few MiB per
 * turn of the event loop; what their parse `kept` written back as given.
 */
export async function paramsJson(params: unknown, size: number, kept: Kept = NOTHING_KEPT): Promise<string | string[]> {
  if (size <= PIECE_CHARS && kept.numbers.length === 0 && !kept.protoKeys) return JSON.stringify(params);
  const pieces = await stringifyInPieces(params, kept);
  return textLength(pieces) > PIECED_PARAMS_CHARS ? pieces : pieces.join('');
}

/** Characters of JSON text held by `text`, whole or in pieces. */
export function textLength(text: string | string[]): number {
  return typeof text === 'string' ? text.length : text.reduce((sum, piece) => sum + piece.length, 0);
}

/**
 * Valid JSON `text` parsed with the {@link ExactJsonParser}, a piece per turn of the event loop;
 * with what it kept.
 */
export async function parseExact(text: string): Promise<{ value: unknown; kept: Kept }> {
  const parser = new ExactJsonParser({ paths: ['$'], keepStack: false, stringBufferSize: 4096 });
  let value: unknown;
  parser.onValue = (info) => {
    value = info.value;
  };
  for (let start = 0; start < text.length; ) {
    const end = pieceEnd(text, start);
    parser.write(text.slice(start, end));
    start = end;
    if (start < text.length) await ownTurn();
  }
  return { value, kept: parser.take() };
}

/** The compact text of JSON `text` with its numbers as written, when `JSON.parse` would change one of them; else undefined. */
export async function exactParamsText(text: string): Promise<string | undefined> {
  if (!hasInexactNumber(text)) return undefined;
  const { value, kept } = await parseExact(text);
  return (await stringifyInPieces(value, kept)).join('');
}
