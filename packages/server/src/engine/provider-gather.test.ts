import { describe, expect, it } from 'vitest';
import { GATHER_QUIET_MS, ProviderGather, ROUTING_QUIET_MS } from './provider-gather.js';

const T = 1_000_000;

describe('ProviderGather', () => {
  it('opens at once when the engine has routed everything it found queued', () => {
    const gather = new ProviderGather(100_000);
    gather.routed(false);
    expect(gather.check(4096, T)).toBe(T + ROUTING_QUIET_MS);
    gather.routed(true);
    expect(gather.check(10_000, T + 10)).toBe('open');
  });

  it('while the engine says more is queued, waits out the long gaps of a loaded machine between its writes', () => {
    const gather = new ProviderGather(100_000);
    gather.routed(false);
    expect(gather.check(4096, T)).toBe(T + ROUTING_QUIET_MS);
    expect(gather.check(4096, T + 5000)).toBe(T + ROUTING_QUIET_MS);
    gather.routed(false);
    expect(gather.check(8192, T + 6000)).toBe(T + 6000 + ROUTING_QUIET_MS);
    expect(gather.check(8192, T + 6000 + ROUTING_QUIET_MS)).toBe('open');
  });

  it('without word from the engine, waits until no request has arrived for a quiet spell', () => {
    const gather = new ProviderGather(100_000);
    expect(gather.check(10, T)).toBe(T + GATHER_QUIET_MS);
    expect(gather.check(20, T + 500)).toBe(T + 500 + GATHER_QUIET_MS);
    expect(gather.check(20, T + 500 + GATHER_QUIET_MS - 1)).toBe(T + 500 + GATHER_QUIET_MS);
    expect(gather.check(20, T + 500 + GATHER_QUIET_MS)).toBe('open');
  });

  it('opens once the limit is reached, and after 30 s of requests that keep arriving', () => {
    expect(new ProviderGather(50).check(50, T)).toBe('open');
    const gather = new ProviderGather(100_000);
    let routed = 0;
    let now = T;
    while (gather.check((routed += 1), now) !== 'open') now += 500;
    expect(now - T).toBe(30_000);
  });

  it('an open uses up the engine\'s word: the next requests gather afresh, as do those after an empty spell', () => {
    const gather = new ProviderGather(100_000);
    gather.routed(true);
    expect(gather.check(100, T)).toBe('open');
    expect(gather.check(5, T + 1)).toBe(T + 1 + GATHER_QUIET_MS);
    gather.routed(true);
    expect(gather.check(0, T + 2)).toBe(Number.POSITIVE_INFINITY);
    expect(gather.check(5, T + 3)).toBe(T + 3 + GATHER_QUIET_MS);
  });
});
