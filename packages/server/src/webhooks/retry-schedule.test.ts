import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS, retryScaleFor } from './retry-schedule.js';

describe('webhook retry schedule', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then gives up after the eighth attempt', () => {
    const waits = RETRY_DELAYS_MS.map((_, i) => nextAttemptAt(i + 1, 0, 1, () => 0.5));
    expect(waits).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(nextAttemptAt(8, 0)).toBeNull();
  });

  it('varies each wait by up to 10% either way and scales it', () => {
    expect(nextAttemptAt(2, 1000, 1, () => 0)).toBe(1000 + 270_000);
    expect(nextAttemptAt(2, 1000, 1, () => 1)).toBe(1000 + 330_000);
    expect(nextAttemptAt(2, 1000, 0.001, () => 0.5)).toBe(1000 + 300);
  });

  it('keeps the proportions of the schedule when the first wait is set', () => {
    const scale = retryScaleFor(1000);
    expect(RETRY_DELAYS_MS.map((_, i) => nextAttemptAt(i + 1, 0, scale, () => 0.5))).toEqual([1000, 60_000, 360_000, 1_440_000, 3_600_000, 7_200_000, 7_200_000]);
    expect(retryScaleFor(5_000)).toBe(1);
  });
});
