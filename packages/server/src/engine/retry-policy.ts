import type { ErrorOutcome } from '../backends/backend.js';

/** How the engine retries a request whose call failed in a way that may pass. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'maxAttempts'> = {
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  random: Math.random,
};

/** Exponential backoff with full jitter, never sooner than the provider asked. */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(policy.random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * When to call again after a failed call: null when the failure will not pass, the attempts are
 * used up, or the next try would come after the batch expires.
 */
export function retryAt(outcome: ErrorOutcome, attempt: number, now: number, expiresAt: number, policy: RetryPolicy): number | null {
  if (!outcome.retryable || attempt >= policy.maxAttempts) return null;
  const runAt = now + retryDelay(policy, attempt, outcome.retryAfterMs);
  return runAt < expiresAt ? runAt : null;
}
