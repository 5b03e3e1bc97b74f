/**
 * Reads a provider's rate-limit headers into the one fact the scheduler acts on: until when a
 * budget is exhausted, so dispatch to that backend can pause instead of collecting 429s.
 *
 * Two header families are understood (names are matched lowercase):
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 *   the reset an RFC 3339 timestamp.
 * - OpenAI and compatible servers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, the reset
 *   a duration such as `1s`, `6m0s`, `20ms` or `1h2m3.5s` (a bare number counts as seconds).
 *
 * A budget is exhausted when its `remaining` is 0 or less and its reset can be read; a `remaining`
 * of 0 whose reset is missing or unreadable is ignored, since there is no time to pause until.
 */

/** Response headers keyed by lowercase name, as Node and undici hand them over. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/** What a response said about the provider's budgets. */
export interface RateLimitState {
  /** Epoch milliseconds until which some budget is exhausted; absent when none is. */
  exhaustedUntilMs?: number;
}

/** Each budget's `remaining` and `reset` header names, made once rather than per response. */
const ANTHROPIC_BUDGETS = ['requests', 'tokens', 'input-tokens', 'output-tokens'].map((budget) => [`anthropic-ratelimit-${budget}-remaining`, `anthropic-ratelimit-${budget}-reset`] as const);
const OPENAI_BUDGETS = ['requests', 'tokens'].map((budget) => [`x-ratelimit-remaining-${budget}`, `x-ratelimit-reset-${budget}`] as const);

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000_001,
};
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;

/** The first value of a header, or undefined when it is absent. */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Milliseconds in a Go-style duration (`6m0s`, `20ms`, `1.5s`) or a bare number of seconds;
 * undefined when the text is not one.
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(trimmed); match !== null; match = DURATION_PART.exec(trimmed)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNIT_MS[unit ?? ''] ?? Number.NaN);
    consumed += whole.length;
  }
  return consumed === trimmed.length && Number.isFinite(total) ? total : undefined;
}

function remainingIsZero(headers: HeaderMap, name: string): boolean | undefined {
  const text = headerValue(headers, name);
  if (text === undefined || text.trim() === '') return undefined;
  const remaining = Number(text);
  return Number.isFinite(remaining) ? remaining <= 0 : undefined;
}

/**
 * The rate-limit state a response's headers describe, or null when they carry no rate-limit
 * header at all (so the caller can keep what it knew before).
 */
export function parseRateLimits(headers: HeaderMap, nowMs: number): RateLimitState | null {
  let seen = false;
  let exhaustedUntilMs: number | undefined;
  const consider = (remainingName: string, resetAt: () => number | undefined): void => {
    const zero = remainingIsZero(headers, remainingName);
    if (zero === undefined) return;
    seen = true;
    if (!zero) return;
    const until = resetAt();
    if (until !== undefined && Number.isFinite(until)) exhaustedUntilMs = Math.max(exhaustedUntilMs ?? until, until);
  };

  for (const [remaining, resetName] of ANTHROPIC_BUDGETS) {
    consider(remaining, () => {
      const reset = headerValue(headers, resetName);
      return reset === undefined ? undefined : Date.parse(reset);
    });
  }
  for (const [remaining, resetName] of OPENAI_BUDGETS) {
    consider(remaining, () => {
      const reset = headerValue(headers, resetName);
      const delayMs = reset === undefined ? undefined : parseDurationMs(reset);
      return delayMs === undefined ? undefined : nowMs + delayMs;
    });
  }
  if (!seen) return null;
  return exhaustedUntilMs === undefined ? {} : { exhaustedUntilMs };
}

/**
 * How long a response asked the caller to wait, in milliseconds: `retry-after-ms`, else
 * `retry-after` as seconds or an HTTP date; undefined when neither is present and readable.
 * A date in the past gives 0.
 */
export function parseRetryAfterMs(headers: HeaderMap, nowMs: number): number | undefined {
  const millis = headerValue(headers, 'retry-after-ms');
  if (millis !== undefined && millis.trim() !== '') {
    const value = Number(millis);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headerValue(headers, 'retry-after')?.trim();
  if (after === undefined || after === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
