/** A parsed JSON object, its values unchecked. */
export type Json = Record<string, unknown>;

/** Whether `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What every number a double would change holds, or more: an exponent, 16 digits in a row, a
 * fraction ending in 0, six zeros after the point, `-0`. A text without any of these has only
 * numbers `String(Number(text))` gives back (at most 15 significant digits, none of them trailing
 * zeros), so most lines are passed by this one scan. It may match text inside strings.
 */
const MAYBE_INEXACT = /\d[eE]|[\d.]{16}|\.\d*0(?!\d)|\.0{6}|-0(?![\d.])/;
/** A string's opening quote, or a number: outside strings, JSON has no other digits. */
const QUOTE_OR_NUMBER = /"|-?\d[\d.eE+-]*/g;

/** Where the string whose contents start at `from` ends (just after its closing quote). */
function stringEnd(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at !== -1; at = text.indexOf('"', at + 1)) {
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return at + 1;
  }
  return text.length;
}

/** Tokens {@link hasInexactNumber} looks at before it answers that there may be such a number. */
const SCAN_BUDGET = 100_000;

/**
 * Whether valid JSON `text` may hold a number `JSON.parse` would not give back as written: false
 * means it holds none. A text with more strings and numbers than the scan looks at is a maybe.
 */
export function hasInexactNumber(text: string): boolean {
  if (!MAYBE_INEXACT.test(text)) return false;
  const tokens = new RegExp(QUOTE_OR_NUMBER);
  let budget = SCAN_BUDGET;
  for (let match = tokens.exec(text); match !== null; match = tokens.exec(text)) {
    if (--budget === 0) return true;
    const token = match[0];
    if (token === '"') tokens.lastIndex = stringEnd(text, match.index + 1);
    else if (String(Number(token)) !== token) return true;
  }
  return false;
}

/** Bounds on the shape of a JSON value. */
export interface JsonShape {
  /** Most levels of objects and arrays, the value itself being the first. */
  maxDepth: number;
  /** Most values and object keys, the value itself included. */
  maxElements: number;
}

/** Far past what a conversation, its tools' schemas and its content blocks need, yet low enough that the parsed request stays small. */
export const PARAMS_SHAPE: JsonShape = { maxDepth: 64, maxElements: 100_000 };

const isBlank = (code: number) => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

/** Whether the character `code` may be part of a number, `true`, `false` or `null`. */
const inLiteral = (code: number) => (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || code === 0x2e || code === 0x2d || code === 0x2b || code === 0x45;

/** Where the number, `true`, `false` or `null` starting at `from` ends: at the next character that is not part of one. */
function literalEnd(text: string, from: number): number {
  let at = from + 1;
  while (at < text.length && inLiteral(text.charCodeAt(at))) at++;
  return at;
}

/**
 * What of `shape` JSON `text` goes past, counted as `JSON.parse` would build it but without
 * building anything, and read no further than that: `'depth'` for objects and arrays nested
 * deeper, `'elements'` for more values and keys, undefined for neither. Strings are skipped a
 * whole at a time, so a long prompt costs little to read.
 */
export function pastShape(text: string, shape: JsonShape): 'depth' | 'elements' | undefined {
  let depth = 0;
  let elements = 0;
  for (let at = 0; at < text.length; ) {
    const code = text.charCodeAt(at);
    if (code === 0x22) {
      elements++;
      at = stringEnd(text, at + 1);
    } else if (code === 0x5b || code === 0x7b) {
      elements++;
      if (++depth > shape.maxDepth) return 'depth';
      at++;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
      at++;
    } else if (code === 0x2c || code === 0x3a || isBlank(code)) at++;
    else {
      elements++;
      at = literalEnd(text, at);
    }
    if (elements > shape.maxElements) return 'elements';
  }
  return undefined;
}

/**
 * The shape of an answer from a backend or a provider's API: as deep as batchd can write it back
 * (`JSON.stringify` runs out of stack some thousands of levels down, and parsing two MB of
 * brackets holds the event loop for half a second), as many values as its size allows.
 */
export const ANSWER_SHAPE: JsonShape = { maxDepth: 256, maxElements: Number.POSITIVE_INFINITY };

/** An answer's JSON `text` parsed; undefined when it is not JSON, or is nested deeper than {@link ANSWER_SHAPE}. */
export function parseAnswer(text: string): unknown {
  if (pastShape(text, ANSWER_SHAPE) !== undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What {@link pastShape} found, said of `subject`. */
export function shapeError(past: 'depth' | 'elements', subject: string, shape: JsonShape): string {
  return past === 'depth'
    ? `${subject} is nested deeper than the maximum of ${shape.maxDepth} levels`
    : `${subject} has more than the maximum of ${shape.maxElements} JSON values and keys`;
}

/**
 * JSON object `text` with its member `key` set to the string `value`, everything else as written
 * (numbers a double would change included): the last top-level member of that name, as
 * `JSON.parse` reads it, has its string replaced; undefined when there is no such member with a
 * string value.
 */
export function withStringMember(text: string, key: string, value: string): string | undefined {
  let depth = 0;
  let span: [number, number] | undefined;
  // At the top level, a string after `{` or `,` is a key.
  let keyNext = false;
  for (let at = 0; at < text.length; ) {
    const code = text.charCodeAt(at);
    if (code === 0x22) {
      const end = stringEnd(text, at + 1);
      if (depth === 1 && keyNext && JSON.parse(text.slice(at, end)) === key) {
        let start = end;
        while (start < text.length && (isBlank(text.charCodeAt(start)) || text.charCodeAt(start) === 0x3a)) start++;
        span = text.charCodeAt(start) === 0x22 ? [start, stringEnd(text, start + 1)] : undefined;
      }
      keyNext = false;
      at = end;
      continue;
    }
    if (code === 0x5b || code === 0x7b) depth++;
    else if (code === 0x5d || code === 0x7d) depth--;
    if (!isBlank(code)) keyNext = depth === 1 && (code === 0x7b || code === 0x2c);
    at++;
  }
  return span && `${text.slice(0, span[0])}${JSON.stringify(value)}${text.slice(span[1])}`;
}
