import { describe, expect, it } from 'vitest';
import { pauseUntil } from './circuit-breaker.js';

describe('endpoint circuit breaker', () => {
  it('pauses after five failures in a row, a minute doubling to at most six hours, scaled', () => {
    expect([1, 2, 3, 4].map((failures) => pauseUntil(failures, 0))).toEqual([null, null, null, null]);
    expect([5, 6, 7, 8, 14, 40].map((failures) => pauseUntil(failures, 1000))).toEqual([
      1000 + 60_000, 1000 + 120_000, 1000 + 240_000, 1000 + 480_000, 1000 + 21_600_000, 1000 + 21_600_000,
    ]);
    expect(pauseUntil(6, 0, 0.001)).toBe(120);
  });
});
