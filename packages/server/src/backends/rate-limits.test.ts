import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseRateLimits, parseRetryAfterMs } from './rate-limits.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('parseDurationMs', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['0s', 0],
    ['1.5s', 1500],
    ['7', 7000],
    ['500us', 0.5],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '5x', '1s extra', 's'])('%j is not a duration', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe('parseRateLimits', () => {
  it('is null when no rate-limit header is present', () => {
    expect(parseRateLimits({ 'content-type': 'application/json' }, NOW)).toBeNull();
  });

  it('reports nothing exhausted while every budget has some left', () => {
    const headers = {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01Z',
      'anthropic-ratelimit-tokens-remaining': '10000',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:01Z',
    };
    expect(parseRateLimits(headers, NOW)).toEqual({});
  });

  it.each(['requests', 'tokens', 'input-tokens', 'output-tokens'])('reads an exhausted anthropic %s budget', (budget) => {
    const headers = {
      [`anthropic-ratelimit-${budget}-limit`]: '100',
      [`anthropic-ratelimit-${budget}-remaining`]: '0',
      [`anthropic-ratelimit-${budget}-reset`]: '2026-01-01T00:00:30Z',
    };
    expect(parseRateLimits(headers, NOW)).toEqual({ exhaustedUntilMs: NOW + 30_000 });
  });

  it('takes the latest reset among exhausted budgets', () => {
    const headers = {
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:10Z',
      'anthropic-ratelimit-output-tokens-remaining': '0',
      'anthropic-ratelimit-output-tokens-reset': '2026-01-01T00:01:00+00:00',
      'anthropic-ratelimit-tokens-remaining': '5',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:05:00Z',
    };
    expect(parseRateLimits(headers, NOW)).toEqual({ exhaustedUntilMs: NOW + 60_000 });
  });

  it.each([
    ['requests', '1s', 1000],
    ['requests', '6m0s', 360_000],
    ['tokens', '20ms', 20],
  ])('reads an exhausted x-ratelimit %s budget resetting in %s', (budget, reset, ms) => {
    const headers = {
      [`x-ratelimit-limit-${budget}`]: '60',
      [`x-ratelimit-remaining-${budget}`]: '0',
      [`x-ratelimit-reset-${budget}`]: reset,
    };
    expect(parseRateLimits(headers, NOW)).toEqual({ exhaustedUntilMs: NOW + ms });
  });

  it('ignores an exhausted budget whose reset cannot be read', () => {
    expect(parseRateLimits({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': 'later' }, NOW)).toEqual({});
    expect(parseRateLimits({ 'anthropic-ratelimit-tokens-remaining': '0' }, NOW)).toEqual({});
  });

  it('reads the first of repeated headers', () => {
    expect(parseRateLimits({ 'x-ratelimit-remaining-requests': ['0', '5'], 'x-ratelimit-reset-requests': ['2s'] }, NOW)).toEqual({
      exhaustedUntilMs: NOW + 2000,
    });
  });
});

describe('parseRetryAfterMs', () => {
  it('prefers retry-after-ms and ignores unreadable values', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '120', 'retry-after': '5' }, NOW)).toBe(120);
    expect(parseRetryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '5' }, NOW)).toBe(5000);
    expect(parseRetryAfterMs({ 'retry-after': 'Wed, 01 Jan 2026 00:00:02 GMT' }, NOW)).toBe(2000);
    expect(parseRetryAfterMs({}, NOW)).toBeUndefined();
  });
});
