import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchesStore } from '../store/store.js';
import { SharedFollowReads } from './shared-follow-reads.js';

/** A store whose completion signal the test fires, counting its batch reads. */
function signallingStore() {
  let signal: (() => void) | null = null;
  let batchReads = 0;
  const store = {
    subscribeCompletions(listener: () => void) {
      signal = listener;
      return () => (signal = null);
    },
    async getBatch() {
      batchReads += 1;
      return null;
    },
  } as unknown as BatchesStore;
  return { store, fire: () => signal?.(), subscribed: () => signal !== null, batchReads: () => batchReads };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedFollowReads', () => {
  it('wakes every follower together, at most once an interval that grows with the followers, up to a second', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, fire } = signallingStore();
    const shared = new SharedFollowReads(store, 5);
    const wakes = [0, 0, 0];
    const stops = wakes.map((_, i) => shared.subscribe(() => (wakes[i] = wakes[i]! + 1)));
    expect(shared.intervalMs).toBe(15);
    fire();
    await vi.advanceTimersByTimeAsync(0);
    expect(wakes).toEqual([1, 1, 1]);
    // Writes within the interval wake the followers once, at its end.
    for (let i = 0; i < 10; i++) fire();
    await vi.advanceTimersByTimeAsync(14);
    expect(wakes).toEqual([1, 1, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(wakes).toEqual([2, 2, 2]);
    for (const stop of stops) stop();

    const many = Array.from({ length: 1000 }, () => shared.subscribe(() => undefined));
    expect(shared.intervalMs).toBe(1000);
    for (const stop of many) stop();
  });

  it('answers followers asking for the same batch within an interval with one read, and stops listening with the last', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, fire, subscribed, batchReads } = signallingStore();
    const shared = new SharedFollowReads(store, 100);
    const stop = shared.subscribe(() => undefined);
    expect(subscribed()).toBe(true);
    await Promise.all(Array.from({ length: 50 }, () => shared.getBatch('w', 'b')));
    await shared.getBatch('w', 'b');
    expect(batchReads()).toBe(1);
    // A write ends the interval's reads: they may miss its results.
    fire();
    await vi.advanceTimersByTimeAsync(0);
    await shared.getBatch('w', 'b');
    expect(batchReads()).toBe(2);
    stop();
    expect(subscribed()).toBe(false);
  });

  it('keeps at most 8 MB of results for other followers, however much one follower reads', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const MB = 1024 * 1024;
    let pageReads = 0;
    const store = {
      subscribeCompletions: () => () => undefined,
      async *readCompletedResults(_batchId: string, afterSeq: number) {
        pageReads += 1;
        if (afterSeq < 20) yield { lines: Buffer.alloc(MB, 10), lastSeq: afterSeq + 1 };
      },
    } as unknown as BatchesStore;
    const shared = new SharedFollowReads(store, 1000);
    const stop = shared.subscribe(() => undefined);
    let pages = 0;
    for await (const page of shared.pagesAfter('b', 0, 1000)) pages += page.lines.length / MB;
    expect(pages).toBe(20);
    expect(shared.retainedBytes).toBeGreaterThan(0);
    expect(shared.retainedBytes).toBeLessThanOrEqual(8 * MB);
    // The first pages are kept for the interval, the later ones are read again.
    const before = pageReads;
    for await (const page of shared.pagesAfter('b', 0, 1000)) void page;
    expect(pageReads - before).toBeGreaterThan(0);
    expect(pageReads - before).toBeLessThan(21);
    await vi.advanceTimersByTimeAsync(1000);
    expect(shared.retainedBytes).toBe(0);
    stop();
  });
});
