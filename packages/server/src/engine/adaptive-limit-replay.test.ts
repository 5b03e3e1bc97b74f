import { describe, expect, it } from 'vitest';
import { logNormalLatency } from '../../test-support/fakes/fake-latency.js';
import { AdaptiveLimit } from './adaptive-limit.js';

/**
 * The adaptive limit against a simulated provider, on a virtual clock: `capacity` calls at once,
 * each taking a latency drawn in arrival order, 429 at once above that (retried 1 s later), as the
 * saturation benchmarks' fake provider does. Calls start whenever a slot under the limit is free.
 */

interface Replay {
  seconds: number;
  calls: number;
  rateLimited: number;
  /** The limit averaged over every answer after the first 429. */
  meanLimitAfterFirstCut: number;
}

interface Limit {
  readonly limit: number;
  readonly epoch: number;
  onSuccess(latencyMs: number, limitBound: boolean): void;
  onOverload(inFlight: number, epoch: number): void;
}

/**
 * With `readEveryMs`, the client reads answers (and its timers fire) only every that many
 * milliseconds, as a busy event loop does: the provider has freed a slot before the client knows.
 */
function replay(requests: number, capacity: number, latencyMs: () => number, makeLimit: (now: () => number) => Limit, readEveryMs = 0): Replay {
  let now = 0;
  const limit = makeLimit(() => now);
  const readAt = (at: number) => (readEveryMs > 0 ? Math.ceil(at / readEveryMs) * readEveryMs : at);
  type Event = { at: number; kind: 'answer' | 'read answer' | 'read 429' | 'retry'; inFlight: number; bound: boolean; epoch: number; startedAt: number };
  const events: Event[] = [];
  const schedule = (event: Event) => {
    const later = events.findIndex((e) => e.at > event.at);
    events.splice(later < 0 ? events.length : later, 0, event);
  };
  let queued = requests;
  let running = 0;
  let admitted = 0;
  let answered = 0;
  const result = { seconds: 0, calls: 0, rateLimited: 0, meanLimitAfterFirstCut: 0 };
  let limitSum = 0;
  let limitSamples = 0;
  const fill = () => {
    for (; running < limit.limit && queued > 0; queued--) {
      running++;
      result.calls++;
      const start = { inFlight: running, bound: running >= limit.limit, epoch: limit.epoch, startedAt: now };
      if (admitted < capacity) {
        admitted++;
        schedule({ ...start, at: now + latencyMs(), kind: 'answer' });
      } else schedule({ ...start, at: readAt(now + 1), kind: 'read 429' });
    }
  };
  fill();
  while (answered < requests) {
    const event = events.shift()!;
    now = event.at;
    if (event.kind === 'retry') queued++;
    else if (event.kind === 'answer') {
      admitted--;
      schedule({ ...event, at: readAt(now), kind: 'read answer' });
      continue;
    } else if (event.kind === 'read answer') {
      running--;
      answered++;
      limit.onSuccess(now - event.startedAt, event.bound);
    } else {
      running--;
      result.rateLimited++;
      limit.onOverload(event.inFlight, event.epoch);
      schedule({ ...event, at: readAt(now + 1000), kind: 'retry' });
    }
    if (result.rateLimited > 0 && event.kind !== 'retry') {
      limitSum += limit.limit;
      limitSamples++;
    }
    fill();
  }
  return { ...result, seconds: now / 1000, meanLimitAfterFirstCut: limitSum / limitSamples };
}

const jittered = () => logNormalLatency({ medianMs: 200, p99Ms: 1000, seed: 1 });
const adaptive = (now: () => number) => new AdaptiveLimit({ ceiling: 512, now });
const fixedAt = (capacity: number) => () => ({ limit: capacity, epoch: 0, onSuccess: () => {}, onOverload: () => {} });

describe('AdaptiveLimit replaying a provider of capacity 256 with log-normal latency (median 200 ms, p99 1 s)', () => {
  const run = replay(30_000, 256, jittered(), adaptive);
  const ideal = replay(30_000, 256, jittered(), fixedAt(256));

  it('holds the limit near the capacity once it has found it', () => {
    expect(run.meanLimitAfterFirstCut).toBeGreaterThanOrEqual(0.98 * 256);
    expect(run.meanLimitAfterFirstCut).toBeLessThanOrEqual(256);
  });

  it('draws at most 1 % of its calls as 429s', () => {
    expect(run.rateLimited).toBeGreaterThan(0);
    expect(run.rateLimited / run.calls).toBeLessThanOrEqual(0.01);
  });

  it('ends within 3 % of the simulated time a client told the capacity takes', () => {
    expect(ideal.rateLimited).toBe(0);
    expect(run.seconds / ideal.seconds).toBeLessThanOrEqual(1.03);
  });
});

describe('AdaptiveLimit replaying the same provider while answers are read only every 100 ms', () => {
  const run = replay(30_000, 256, jittered(), adaptive, 100);

  it('holds the limit within 2 % of the capacity after the first 429', () => {
    expect(run.meanLimitAfterFirstCut).toBeLessThanOrEqual(1.02 * 256);
  });

  it('draws at most 1 % of its calls as 429s', () => {
    expect(run.rateLimited / run.calls).toBeLessThanOrEqual(0.01);
  });
});
