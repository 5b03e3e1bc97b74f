/**
 * Waits after each failed attempt, as Standard Webhooks recommends: 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h. Eight attempts over about 28 hours; a delivery whose last attempt fails is failed.
 */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/**
 * The factor that makes `firstRetryMs` the first wait: it scales every wait of the schedule
 * (and the endpoints' pauses) alike.
 */
export const retryScaleFor = (firstRetryMs: number) => firstRetryMs / RETRY_DELAYS_MS[0]!;

/** The most attempts a delivery gets. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/**
 * When to try again after attempt `attempt` (1-based) failed at `now`, or null when it was the
 * last. Each wait is scaled by `scale` and varied by up to 10% either way, so receivers that
 * failed together are not all retried at once.
 */
export function nextAttemptAt(attempt: number, now: number, scale = 1, random: () => number = Math.random): number | null {
  const delay = RETRY_DELAYS_MS[attempt - 1];
  if (delay === undefined) return null;
  return now + Math.round(delay * scale * (0.9 + 0.2 * random()));
}
