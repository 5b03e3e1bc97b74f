import { createHash, type Hash } from 'node:crypto';

const ID_LENGTH = 24;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Feeds `value` to `hash` as JSON with object keys sorted at every level, so equal params hash
 * equally whatever their key order; piece by piece, never building the whole text.
 */
function hashCanonicalJson(hash: Hash, value: unknown): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      hashCanonicalJson(hash, item);
    });
    hash.update(']');
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    hash.update('{');
    Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .forEach((key, i) => {
        hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
        hashCanonicalJson(hash, record[key]);
      });
    hash.update('}');
  } else if (typeof value === 'string') {
    hashJsonString(hash, value);
  } else {
    hash.update(JSON.stringify(value));
  }
}

const STRING_PIECE = 64 * 1024;

/** Feeds a string's JSON text to `hash` piece by piece, so a string of many MB is never copied whole. */
function hashJsonString(hash: Hash, text: string): void {
  hash.update('"');
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + STRING_PIECE, text.length);
    const last = text.charCodeAt(end - 1);
    // A surrogate pair stays whole: JSON escapes a lone half.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    hash.update(JSON.stringify(text.slice(start, end)).slice(1, -1));
    start = end;
  }
  hash.update('"');
}

/** The first 24 base62 digits of the sha256 of `prefix` and the canonical JSON of `params`. */
export function canonicalId(params: unknown, prefix = ''): string {
  const hash = createHash('sha256').update(prefix);
  hashCanonicalJson(hash, params);
  let n = BigInt(`0x${hash.digest('hex')}`);
  let digits = '';
  for (let i = 0; i < ID_LENGTH; i++) {
    digits += BASE62.charAt(Number(n % 62n));
    n /= 62n;
  }
  return digits;
}
