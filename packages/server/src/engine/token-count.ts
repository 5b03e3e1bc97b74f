/**
 * Most tokens one answer is believed to report of any kind: far beyond any context window, low
 * enough that a batch's totals and cost stay exact integers however a provider misreports.
 */
export const MAX_TOKENS_PER_ANSWER = 100_000_000;

/** A token count a provider reported, as batch totals add it: a whole number from 0 to {@link MAX_TOKENS_PER_ANSWER}, else 0. */
export function tokenCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), MAX_TOKENS_PER_ANSWER);
}
