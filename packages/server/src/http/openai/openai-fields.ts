import { isObject } from '../../json.js';
import type { ExpiresAfter } from '../../wire/openai-batch.js';
import { invalidRequest } from '../api-error.js';

/** OpenAI's limits on metadata: 16 pairs, keys of 64 and values of 512 characters. */
const METADATA_PAIRS = 16;
const KEY_CHARS = 64;
const VALUE_CHARS = 512;
/** OpenAI's bounds on a file's expiry: 1 hour to 30 days after its creation. */
const MIN_EXPIRY_SECONDS = 3600;
export const MAX_EXPIRY_SECONDS = 30 * 24 * 3600;

/** The only purpose files are kept for: input files of batches. */
export const BATCH_PURPOSE = 'batch';

/** Longest file name kept: a page of the file list holds up to 10,000 of them. */
export const MAX_FILENAME_BYTES = 255;

/** 400 unless `purpose` is {@link BATCH_PURPOSE}. */
export function checkPurpose(purpose: unknown): asserts purpose is typeof BATCH_PURPOSE {
  if (purpose !== BATCH_PURPOSE) {
    throw invalidRequest(`purpose: batchd keeps files for purpose "batch" only, got ${quoted(purpose)}.`);
  }
}

/**
 * A client's value as an error message repeats it: as JSON (a missing one as `null`, a number JSON
 * cannot hold, such as `1e400`, as `Infinity`), cut to `maxChars` characters.
 */
export function quoted(value: unknown, maxChars = 200): string {
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value ?? null);
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** True when `text` has more than `limit` characters (code points, as OpenAI counts them). */
function longerThan(text: string, limit: number): boolean {
  // A code point takes one or two UTF-16 units: only lengths between the two bounds need counting.
  return text.length > limit && (text.length > 2 * limit || [...text].length > limit);
}

/** A create's `metadata`: null when absent, else at most 16 string pairs within OpenAI's lengths. */
export function parseMetadata(metadata: unknown): Record<string, string> | null {
  if (metadata === undefined || metadata === null) return null;
  if (!isObject(metadata)) throw invalidRequest('metadata: must be an object of string values.');
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_PAIRS) throw invalidRequest(`metadata: at most ${METADATA_PAIRS} keys, got ${entries.length}.`);
  for (const [key, value] of entries) {
    if (longerThan(key, KEY_CHARS)) throw invalidRequest(`metadata: key ${JSON.stringify(key.slice(0, 16))}… is longer than ${KEY_CHARS} characters.`);
    if (typeof value !== 'string') throw invalidRequest(`metadata: the value of ${JSON.stringify(key)} must be a string.`);
    if (longerThan(value, VALUE_CHARS)) throw invalidRequest(`metadata: the value of ${JSON.stringify(key)} is longer than ${VALUE_CHARS} characters.`);
  }
  return metadata as Record<string, string>;
}

/**
 * An expiry policy, `{anchor: "created_at", seconds}` with seconds from 3600 to 2592000, as the
 * create's `param` names it; `seconds` may be the decimal text a multipart form sends. Null when absent.
 */
export function parseExpiresAfter(param: string, policy: unknown): ExpiresAfter | null {
  if (policy === undefined || policy === null) return null;
  if (!isObject(policy)) throw invalidRequest(`${param}: must be an object {"anchor": "created_at", "seconds": N}.`);
  if (policy.anchor !== 'created_at') throw invalidRequest(`${param}.anchor: must be "created_at", got ${quoted(policy.anchor, 40)}.`);
  const raw = policy.seconds;
  const seconds = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : raw;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS) {
    throw invalidRequest(`${param}.seconds: must be an integer from ${MIN_EXPIRY_SECONDS} (1 hour) to ${MAX_EXPIRY_SECONDS} (30 days), got ${quoted(raw, 40)}.`);
  }
  return { anchor: 'created_at', seconds };
}
