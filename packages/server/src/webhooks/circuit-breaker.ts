/** Failed attempts in a row after which an endpoint is paused. */
export const FAILURES_BEFORE_PAUSE = 5;
const FIRST_PAUSE_MS = 60_000;
const LONGEST_PAUSE_MS = 6 * 3_600_000;

/**
 * When an endpoint whose last `failures` attempts in a row failed may be sent to again, or null
 * while it has failed fewer than {@link FAILURES_BEFORE_PAUSE} times: a minute after the fifth,
 * doubling with each further failure up to six hours, scaled by `scale`. While paused, none of
 * its deliveries is claimed; one delivered attempt closes the breaker.
 */
export function pauseUntil(failures: number, now: number, scale = 1): number | null {
  if (failures < FAILURES_BEFORE_PAUSE) return null;
  return now + Math.round(Math.min(FIRST_PAUSE_MS * 2 ** (failures - FAILURES_BEFORE_PAUSE), LONGEST_PAUSE_MS) * scale);
}
