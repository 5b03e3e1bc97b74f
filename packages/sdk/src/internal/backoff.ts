/** Waits `ms` milliseconds; rejects with the signal's reason if `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const INITIAL_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 8_000;
/** Longest server-requested wait that is honoured; one timer cannot represent more. */
const MAX_SERVER_DELAY_MS = 2 ** 31 - 1;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Delay before retry number `retry` (0 for the first retry): 0.5 s · 2^retry capped at 8 s,
 * minus up to 25 % jitter. `random` returns a number in [0, 1).
 */
export function retryDelay(retry: number, random: () => number = Math.random): number {
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** retry, MAX_RETRY_DELAY_MS);
  return base * (1 - random() * 0.25);
}

/**
 * The wait the server asked for, in ms: `retry-after-ms` first, then `retry-after` as seconds or
 * an HTTP date. Undefined when absent, unparseable, not positive or too long for a timer.
 */
export function serverRetryDelay(headers: Headers, now: number = Date.now()): number | undefined {
  let ms: number | undefined;
  const afterMs = headers.get('retry-after-ms');
  if (afterMs !== null) {
    const value = Number.parseFloat(afterMs);
    if (!Number.isNaN(value)) ms = value;
  }
  const after = headers.get('retry-after');
  if (ms === undefined && after !== null) {
    const seconds = Number.parseFloat(after);
    ms = Number.isNaN(seconds) ? Date.parse(after) - now : seconds * 1000;
  }
  return ms !== undefined && ms > 0 && ms <= MAX_SERVER_DELAY_MS ? ms : undefined;
}

/**
 * Whether an error response may be retried: `x-should-retry: true|false` decides when present,
 * otherwise 408, 409, 429 and every status >= 500 are retried.
 */
export function isRetryableResponse(status: number, headers: Headers): boolean {
  const override = headers.get('x-should-retry');
  if (override === 'true') return true;
  if (override === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Delay before poll number `poll` (0 for the first): `initial` · 1.5^poll, capped at `max`. */
export function pollDelay(poll: number, initial: number, max: number): number {
  return Math.min(initial * 1.5 ** poll, max);
}
