import { describe, expect, it } from 'vitest';
import { isRetryableResponse, pollDelay, retryDelay, serverRetryDelay, sleep } from './backoff.js';

describe('retryDelay', () => {
  it('doubles from 0.5 s, caps at 8 s and takes off at most 25 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((retry) => retryDelay(retry, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    expect(retryDelay(0, () => 0.999999)).toBeCloseTo(375, 3);
    expect(retryDelay(4, () => 0.5)).toBe(7000);
  });
});

describe('serverRetryDelay', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const delay = (headers: Record<string, string>): number | undefined => serverRetryDelay(new Headers(headers), now);

  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect(delay({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(250);
    expect(delay({ 'retry-after': '2' })).toBe(2000);
    expect(delay({ 'retry-after': '0.5' })).toBe(500);
    expect(delay({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' })).toBe(3000);
  });

  it('ignores missing, unparseable, past and non-positive values', () => {
    expect(delay({})).toBeUndefined();
    expect(delay({ 'retry-after': 'soon' })).toBeUndefined();
    expect(delay({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' })).toBeUndefined();
    expect(delay({ 'retry-after': '0' })).toBeUndefined();
    expect(delay({ 'retry-after-ms': '-5' })).toBeUndefined();
    expect(delay({ 'retry-after-ms': 'x', 'retry-after': '1' })).toBe(1000);
  });
});

describe('isRetryableResponse', () => {
  it('retries 408, 409, 429 and 5xx unless x-should-retry says otherwise', () => {
    const none = new Headers();
    expect([400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 503, 529].filter((s) => isRetryableResponse(s, none))).toEqual([
      408, 409, 429, 500, 503, 529,
    ]);
    expect(isRetryableResponse(400, new Headers({ 'x-should-retry': 'true' }))).toBe(true);
    expect(isRetryableResponse(503, new Headers({ 'x-should-retry': 'false' }))).toBe(false);
  });
});

describe('pollDelay', () => {
  it('grows by half each poll up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((poll) => pollDelay(poll, 1000, 3000))).toEqual([1000, 1500, 2250, 3000, 3000]);
  });
});

describe('sleep', () => {
  it('resolves after the delay and rejects with the reason when aborted', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await expect(sleep(1, controller.signal)).rejects.toThrow('stop');
  });
});
