import { describe, expect, it } from 'vitest';
import { MAX_TOKENS_PER_ANSWER, tokenCount } from './token-count.js';

describe('tokenCount', () => {
  it('keeps whole counts a provider reports', () => {
    expect(tokenCount(0)).toBe(0);
    expect(tokenCount(1234)).toBe(1234);
  });

  it('counts 0 for what is not a sensible count, and bounds the rest, so totals and cost stay exact integers', () => {
    for (const misreported of ['100', null, undefined, -5, Number.NaN, Number.POSITIVE_INFINITY, {}, [7]]) expect(tokenCount(misreported)).toBe(0);
    expect(tokenCount(12.7)).toBe(12);
    expect(tokenCount(1e30)).toBe(MAX_TOKENS_PER_ANSWER);
  });
});
