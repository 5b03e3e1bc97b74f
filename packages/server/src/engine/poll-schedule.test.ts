import { describe, expect, it } from 'vitest';
import { nextPollAt } from './poll-schedule.js';

const MINUTE = 60_000;
const counts = (processing: number, succeeded: number, errored = 0) => ({ processing, succeeded, errored, canceled: 0, expired: 0 });

describe('nextPollAt', () => {
  it('is due at once for a provider batch never polled', () => {
    expect(nextPollAt({ createdAt: 0, counts: counts(100, 0), polledAt: null }, MINUTE)).toBe(0);
  });

  it('waits an interval while no request has finished, as an Anthropic batch reports until it ends', () => {
    expect(nextPollAt({ createdAt: 0, counts: counts(100, 0), polledAt: 3 * MINUTE }, MINUTE)).toBe(4 * MINUTE);
  });

  it('waits an interval when the requests, at the rate they finish, would outlast it', () => {
    // 10 of 100 in a minute: 9 minutes more.
    expect(nextPollAt({ createdAt: 0, counts: counts(90, 8, 2), polledAt: MINUTE }, MINUTE)).toBe(2 * MINUTE);
  });

  it('comes when the last request would finish, at the rate they have, when that is sooner', () => {
    // 75 of 100 in a minute since the intent: the last 25 take 20 s more.
    expect(nextPollAt({ createdAt: 0, counts: counts(25, 70, 5), polledAt: MINUTE }, MINUTE)).toBe(MINUTE + 20_000);
  });

  it('never comes sooner than a quarter interval after the last poll', () => {
    expect(nextPollAt({ createdAt: 0, counts: counts(1, 99), polledAt: MINUTE }, MINUTE)).toBe(MINUTE + 15_000);
    // Every request finished, the batch not ended yet (OpenAI's finalizing): asked four times an interval.
    expect(nextPollAt({ createdAt: 0, counts: counts(0, 100), polledAt: MINUTE }, MINUTE)).toBe(MINUTE + 15_000);
  });

  it('waits an interval when the last poll is not after the intent', () => {
    expect(nextPollAt({ createdAt: MINUTE, counts: counts(50, 50), polledAt: MINUTE }, MINUTE)).toBe(2 * MINUTE);
  });
});
