import { describe, expect, it } from 'vitest';
import { logNormalLatency } from '../test-support/fakes/fake-latency.js';

/** The fake provider's jittered latency has the median and p99 it is given, the same on every run. */

const DRAWS = 100_000;

function sample(draw: () => number): number[] {
  return Array.from({ length: DRAWS }, draw);
}

describe('logNormalLatency', () => {
  it('puts half the draws below the median and 1 % above the p99', () => {
    const draws = sample(logNormalLatency({ medianMs: 200, p99Ms: 1000, seed: 7 }));
    const belowMedian = draws.filter((ms) => ms < 200).length;
    const aboveP99 = draws.filter((ms) => ms > 1000).length;
    expect(belowMedian / DRAWS).toBeCloseTo(0.5, 2);
    expect(aboveP99).toBeGreaterThan(0.008 * DRAWS);
    expect(aboveP99).toBeLessThan(0.012 * DRAWS);
    expect(draws.every((ms) => ms > 0 && Number.isFinite(ms))).toBe(true);
  });

  it('draws the same sequence from the same seed and another from another seed', () => {
    const first = sample(logNormalLatency({ medianMs: 200, p99Ms: 1000, seed: 3 }));
    expect(sample(logNormalLatency({ medianMs: 200, p99Ms: 1000, seed: 3 }))).toEqual(first);
    expect(sample(logNormalLatency({ medianMs: 200, p99Ms: 1000, seed: 4 }))).not.toEqual(first);
  });

  it('is a fixed latency when p99 equals the median', () => {
    expect(new Set(sample(logNormalLatency({ medianMs: 50, p99Ms: 50 }))).size).toBe(1);
  });

  it('refuses a median of zero or a p99 below the median', () => {
    expect(() => logNormalLatency({ medianMs: 0, p99Ms: 10 })).toThrow(/median/);
    expect(() => logNormalLatency({ medianMs: 200, p99Ms: 100 })).toThrow(/p99/);
  });
});
