import { describe, expect, it } from 'vitest';
import type { BackendCall, BackendOutcome, MessagesBackend } from '../backends/backend.js';
import type { RateLimitState } from '../backends/rate-limits.js';
import { BackendLane } from './backend-lane.js';

/** A backend whose calls stay open until the test settles them. */
class HeldBackend implements MessagesBackend {
  readonly name = 'held';
  readonly open: Array<{ label: string; settle: (outcome: BackendOutcome) => void }> = [];
  rate: RateLimitState = {};
  async send({ params }: BackendCall): Promise<BackendOutcome> {
    return new Promise((settle) => this.open.push({ label: String(params.label), settle }));
  }
  rateLimit(): RateLimitState {
    return this.rate;
  }
  async close() {}
}

const ok = { kind: 'message' } as unknown as BackendOutcome;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const signal = new AbortController().signal;

describe('backend lane', () => {
  it('serves models by pattern', () => {
    const lane = new BackendLane({ name: 'a', backend: new HeldBackend(), models: ['claude-*', 'exact'], ceiling: 1 });
    expect(lane.serves('claude-sonnet-4-5')).toBe(true);
    expect(lane.serves('exact')).toBe(true);
    expect(lane.serves('exactly')).toBe(false);
    expect(lane.serves('gpt-4o')).toBe(false);
  });

  it('holds calls over the limit and lets interactive ones go first', async () => {
    const backend = new HeldBackend();
    const lane = new BackendLane({ name: 'a', backend, models: ['*'], ceiling: 1 });
    const first = lane.call({ label: 'b1' }, signal, 'batch');
    const second = lane.call({ label: 'b2' }, signal, 'batch');
    const urgent = lane.call({ label: 'i1' }, signal, 'interactive');
    await tick();
    expect(backend.open.map((c) => c.label)).toEqual(['b1']);
    expect(lane.availableForBatch()).toBe(0);
    backend.open[0]!.settle(ok);
    await first;
    await tick();
    expect(backend.open.map((c) => c.label)).toEqual(['b1', 'i1']);
    backend.open[1]!.settle(ok);
    await urgent;
    await tick();
    expect(backend.open.map((c) => c.label)).toEqual(['b1', 'i1', 'b2']);
    backend.open[2]!.settle(ok);
    await second;
    expect(lane.stats).toMatchObject({ calls: 3, succeeded: 3 });
  });

  it('pauses while the provider says a budget is spent, then resumes', async () => {
    let now = 1000;
    const backend = new HeldBackend();
    const lane = new BackendLane({ name: 'a', backend, models: ['*'], ceiling: 4, now: () => now });
    const call = lane.call({ label: 'x' }, signal, 'batch');
    await tick();
    backend.rate = { exhaustedUntilMs: 1060 };
    backend.open[0]!.settle({ kind: 'error', retryable: true, status: 429, errorType: 'rate_limit_error', message: 'slow down' });
    await call;
    expect(lane.paused).toBe(true);
    expect(lane.availableForBatch()).toBe(0);
    expect(lane.stats.rateLimited).toBe(1);
    now = 1060;
    expect(lane.paused).toBe(false);
    expect(lane.availableForBatch()).toBeGreaterThan(0);
  });

  it('reports rejected credentials once per failure', async () => {
    const failures: string[] = [];
    const backend = new HeldBackend();
    const lane = new BackendLane({ name: 'upstream', backend, models: ['*'], ceiling: 2, onAuthFailure: (name) => failures.push(name) });
    const call = lane.call({ label: 'x' }, signal, 'batch');
    await tick();
    backend.open[0]!.settle({ kind: 'error', retryable: false, status: 401, errorType: 'authentication_error', message: 'invalid x-api-key' });
    expect((await call).kind).toBe('error');
    expect(failures).toEqual(['upstream']);
    expect(lane.stats.authFailures).toBe(1);
  });
});

describe('backend lane pauses', () => {
  it('tells other nodes when the provider says a budget is spent, and takes their pauses', async () => {
    let now = 1000;
    const told: Array<[string, number]> = [];
    const backend = new HeldBackend();
    const lane = new BackendLane({ name: 'hosted', backend, models: ['*'], ceiling: 2, now: () => now, onPause: (name, until) => told.push([name, until]) });
    const call = lane.call({ label: 'x' }, signal, 'batch');
    await tick();
    backend.rate = { exhaustedUntilMs: 1500 };
    backend.open[0]!.settle(ok);
    await call;
    expect(told).toEqual([['hosted', 1500]]);
    now = 1600;
    expect(lane.paused).toBe(false);
    lane.pause(1900);
    expect(lane.paused).toBe(true);
    lane.pause(1200);
    now = 1800;
    expect(lane.paused).toBe(true);
  });
});

describe('backend lane pause end', () => {
  it('lets waiting calls go when the pause ends, even when its timer fires before the clock says so', async () => {
    let now = 1000;
    const backend = new HeldBackend();
    const lane = new BackendLane({ name: 'a', backend, models: ['*'], ceiling: 2, now: () => now });
    lane.pause(1010);
    const waiting = lane.call({ label: 'w' }, signal, 'batch');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(backend.open).toHaveLength(0);
    now = 1010;
    while (backend.open.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    backend.open[0]!.settle(ok);
    await waiting;
    expect(lane.stats.calls).toBe(1);
  });

  it('on a backend of replicas, lets a waiting group whose replica has room go before one whose replica is full', async () => {
    const backend = Object.assign(new HeldBackend(), {
      replicas: () => [0, 1].map((i) => ({ url: `http://r${i}`, in_flight: 0, up: true, calls: 0, failures: 0 })),
      hasRoomFor: (key: string) => key !== 'crowded',
    });
    const answered = { kind: 'message', message: { usage: {} } } as unknown as BackendOutcome;
    const lane = new BackendLane({ name: 'a', backend, models: ['*'], ceiling: 1, prefixCache: { breakpointsOnly: false } });
    const call = (label: string, prefixKey: string) =>
      lane.callWith((b) => (b as HeldBackend).send({ params: { label }, signal }), 'batch', { prefixKey, prefixTokens: 100 });
    const first = call('first', 'other');
    const crowded = call('crowded', 'crowded');
    const roomy = call('roomy', 'roomy');
    await tick();
    backend.open.shift()!.settle(answered);
    await first;
    await tick();
    expect(backend.open.map((c) => c.label)).toEqual(['roomy']);
    backend.open.shift()!.settle(answered);
    await roomy;
    await tick();
    expect(backend.open.map((c) => c.label)).toEqual(['crowded']);
    backend.open.shift()!.settle(answered);
    await crowded;
  });
});
