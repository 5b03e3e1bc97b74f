import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from './adaptive-limit.js';

describe('adaptive limit', () => {
  it('grows by one per success until the first overload, up to the ceiling', () => {
    const limit = new AdaptiveLimit({ ceiling: 20, initial: 4, now: () => 0 });
    for (let i = 0; i < 10; i++) limit.onSuccess(50);
    expect(limit.limit).toBe(14);
    for (let i = 0; i < 50; i++) limit.onSuccess(50);
    expect(limit.limit).toBe(20);
  });

  it('cuts to 0.95 of the calls in flight once per cool-down, then probes slowly', () => {
    let now = 0;
    const limit = new AdaptiveLimit({ ceiling: 100, initial: 40, now: () => now });
    limit.onSuccess(50);
    limit.onOverload(33);
    expect(limit.limit).toBe(31);
    limit.onOverload(20);
    expect(limit.limit).toBe(31);
    now += 1000;
    for (let i = 0; i < 3 * 31 - 1; i++) limit.onSuccess(50);
    expect(limit.limit).toBe(31);
    limit.onSuccess(50);
    expect(limit.limit).toBe(32);
  });

  it('does not grow while latency is well above the fastest seen', () => {
    const limit = new AdaptiveLimit({ ceiling: 100, initial: 10, now: () => 0 });
    limit.onSuccess(20);
    limit.onOverload(10);
    const before = limit.limit;
    for (let i = 0; i < 500; i++) limit.onSuccess(400);
    expect(limit.limit).toBe(before);
  });

  it('never drops below one call', () => {
    let now = 0;
    const limit = new AdaptiveLimit({ ceiling: 4, initial: 1, now: () => now });
    for (let i = 0; i < 5; i++) {
      now += 1000;
      limit.onOverload(0);
    }
    expect(limit.limit).toBe(1);
  });
});
