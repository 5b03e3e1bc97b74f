/**
 * Most tokens one answer is believed to report of any kind: beyond any context window, low enough
 * that a batch's totals and cost (at most `MAX_PRICE` per million tokens) fit the stores' 64-bit
 * integers however a provider misreports: 100,000 answers × 4 kinds × 10⁷ tokens × $1,000 per
 * million is 4×10¹⁸ nano-dollars.
 */
export const MAX_TOKENS_PER_ANSWER = 10_000_000;

/** A token count a provider reported, as batch totals add it: a whole number from 0 to {@link MAX_TOKENS_PER_ANSWER}, else 0. */
export function tokenCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), MAX_TOKENS_PER_ANSWER);
}
