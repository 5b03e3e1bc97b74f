import type { Message } from '@batchd/sdk';
import type { BackendOutcome } from '../backends/backend.js';
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

export function errored(key: number, errorType: string, message: string): Completion {
  const result = { type: 'errored', error: { type: 'error', error: { type: errorType, message }, request_id: null } };
  return { key, type: 'errored', result: JSON.stringify(result) };
}

/** What to do with a request after its call: store a result, or try again at `runAt`. */
export type Decision = { kind: 'complete'; completion: Completion } | { kind: 'retry'; runAt: number };

export function decide(
  key: number,
  outcome: BackendOutcome,
  attempt: number,
  now: number,
  expiresAt: number,
  policy: RetryPolicy,
): Decision {
  if (outcome.kind === 'message') return { kind: 'complete', completion: succeeded(key, outcome.message) };
  if (outcome.retryable && attempt < policy.maxAttempts) {
    const runAt = now + retryDelay(policy, attempt, outcome.retryAfterMs);
    if (runAt < expiresAt) return { kind: 'retry', runAt };
  }
  return { kind: 'complete', completion: errored(key, outcome.errorType, outcome.message) };
}
