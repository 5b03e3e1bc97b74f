import type { PausePolicy } from '../store/webhook-store.js';

/**
 * When an endpoint that keeps failing is paused: on its fifth failed attempt in a row for a
 * minute, doubling with each further failure up to six hours, all scaled by `scale`. While
 * paused none of its deliveries is claimed (they wait, their attempts not spent); one delivered
 * attempt closes the breaker.
 */
export function pausePolicy(scale = 1): PausePolicy {
  return { afterFailures: 5, firstMs: Math.max(1, Math.round(60_000 * scale)), longestMs: Math.max(1, Math.round(6 * 3_600_000 * scale)) };
}
