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
