import type { Message } from '@batchd/sdk';
import type { ErrorOutcome } from '../backends/backend.js';
import type { Completion, UsageTotals } from '../store/store.js';

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

function usageOf(message: Message): UsageTotals {
  const usage = message.usage;
  return {
    input_tokens: usage?.input_tokens ?? 0,
    output_tokens: usage?.output_tokens ?? 0,
    cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
  };
}

export function succeeded(key: number, message: Message): Completion {
  return { key, type: 'succeeded', result: `{"type":"succeeded","message":${JSON.stringify(message)}}`, usage: usageOf(message) };
}

/**
 * An errored result in the hosted API's shape. Its `error` also carries `message` (the schema
 * allows extra fields there), so `result.error.message`, as the Python SDK's documentation prints
 * it, reads the message too.
 */
export function errored(key: number, errorType: string, message: string): Completion {
  const result = { type: 'errored', error: { type: 'error', error: { type: errorType, message }, request_id: null, message } };
  return { key, type: 'errored', result: JSON.stringify(result) };
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
