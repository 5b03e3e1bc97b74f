import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from './adaptive-limit.js';

/** Feeds `count` successes of calls that found every slot taken. */
function succeed(limit: AdaptiveLimit, count: number, latencyMs = 50): void {
  for (let i = 0; i < count; i++) limit.onSuccess(latencyMs);
}

/**
 * A limit turned away at 33 calls, climbed back to 32, and probing 33 once the first probe
 * interval (1 s) has passed; `setNow` moves its clock.
 */
function probingAt33(probeRounds = 3): { limit: AdaptiveLimit; setNow: (ms: number) => void } {
  let now = 0;
  const limit = new AdaptiveLimit({ ceiling: 100, initial: 40, probeIntervalMs: 1000, probeRounds, now: () => now });
  limit.onOverload(33, limit.epoch);
  succeed(limit, 31);
  now = 1000;
  succeed(limit, 32);
  expect(limit.limit).toBe(33);
  return { limit, setNow: (ms) => (now = ms) };
}

describe('adaptive limit', () => {
  it('starts at a sixteenth of the ceiling, at least 8', () => {
    expect(new AdaptiveLimit({ ceiling: 512 }).limit).toBe(32);
    expect(new AdaptiveLimit({ ceiling: 64 }).limit).toBe(8);
    expect(new AdaptiveLimit({ ceiling: 4 }).limit).toBe(4);
  });

  it('grows by one per success until the first overload, up to the ceiling', () => {
    const limit = new AdaptiveLimit({ ceiling: 20, initial: 4, now: () => 0 });
    succeed(limit, 10);
    expect(limit.limit).toBe(14);
    succeed(limit, 50);
    expect(limit.limit).toBe(20);
  });

  it('learns nothing from calls that started with slots to spare', () => {
    const limit = new AdaptiveLimit({ ceiling: 20, initial: 4, now: () => 0 });
    for (let i = 0; i < 50; i++) limit.onSuccess(50, false);
    expect(limit.limit).toBe(4);
  });

  it('cuts to 0.95 of the calls in flight once per epoch, and again for calls started after a cut', () => {
    const limit = new AdaptiveLimit({ ceiling: 100, initial: 40, now: () => 0 });
    const before = limit.epoch;
    limit.onOverload(33, before);
    expect(limit.limit).toBe(31);
    limit.onOverload(20, before);
    expect(limit.limit).toBe(31);
    limit.onOverload(31, limit.epoch);
    expect(limit.limit).toBe(29);
  });

  it('climbs back to one below the level it was turned away at, holds, and probes it after the interval', () => {
    let now = 0;
    const limit = new AdaptiveLimit({ ceiling: 100, initial: 40, probeIntervalMs: 1000, now: () => now });
    limit.onOverload(33, limit.epoch);
    expect(limit.limit).toBe(31);
    succeed(limit, 31);
    expect(limit.limit).toBe(32);
    succeed(limit, 1000);
    expect(limit.limit).toBe(32);
    now = 1000;
    succeed(limit, 32);
    expect(limit.limit).toBe(33);
  });

  it('goes back to one below the level when a probe of it is turned away, not a twentieth below', () => {
    const { limit } = probingAt33();
    limit.onOverload(33, limit.epoch);
    expect(limit.limit).toBe(32);
    limit.onOverload(33, limit.epoch - 1);
    expect(limit.limit).toBe(32);
    // Turned away below the known level: the capacity shrank, and the limit backs off as on a first overload.
    limit.onOverload(32, limit.epoch);
    expect(limit.limit).toBe(30);
  });

  it('doubles the wait after each probe turned away at the same level', () => {
    const { limit, setNow } = probingAt33();
    limit.onOverload(33, limit.epoch);
    succeed(limit, 31);
    expect(limit.limit).toBe(32);
    setNow(2999);
    succeed(limit, 100);
    expect(limit.limit).toBe(32);
    setNow(3000);
    succeed(limit, 32);
    expect(limit.limit).toBe(33);
  });

  it('forgets the level once a probe holds, then probes upwards every few round trips', () => {
    const { limit } = probingAt33(3);
    succeed(limit, 3 * 33 - 1);
    expect(limit.limit).toBe(33);
    succeed(limit, 1);
    expect(limit.limit).toBe(34);
    succeed(limit, 3 * 34);
    expect(limit.limit).toBe(35);
  });

  it('does not grow while recent latency is well above the lowest long-run mean', () => {
    const limits = [0, 1].map(() => new AdaptiveLimit({ ceiling: 100, initial: 40, now: () => 0 }));
    for (const limit of limits) {
      for (let i = 0; i < 200; i++) limit.onSuccess(20, false);
      limit.onOverload(33, limit.epoch);
    }
    const [slowed, steady] = limits;
    succeed(slowed!, 500, 400);
    succeed(steady!, 31, 20);
    expect(slowed!.limit).toBe(31);
    expect(steady!.limit).toBe(32);
  });

  it('never drops below one call', () => {
    const limit = new AdaptiveLimit({ ceiling: 4, initial: 1, now: () => 0 });
    for (let i = 0; i < 5; i++) limit.onOverload(0, limit.epoch);
    expect(limit.limit).toBe(1);
  });
});
