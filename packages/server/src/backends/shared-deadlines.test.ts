import { describe, expect, it, vi } from 'vitest';
import { SharedDeadlines, type DeadlineTicket } from './shared-deadlines.js';

/** A call's abort, counting how often it was called. */
const call = () => vi.fn<() => void>();

describe('SharedDeadlines', () => {
  it('times out together the calls starting within a slot, and no call of a later slot', async () => {
    let clock = 0;
    const deadlines = new SharedDeadlines(100, () => clock);
    const caller = new AbortController();
    const tickets: DeadlineTicket[] = [];
    const [b, c] = [call(), call()];
    // When the first slot's deadline aborts its first call, the later slot's has not fired.
    let laterAbortedFirst: boolean | undefined;
    const firstAborted = new Promise<void>((resolve) => {
      const first = deadlines.enter(caller.signal, () => {
        laterAbortedFirst = c.mock.calls.length > 0;
        resolve();
      });
      tickets.push(first);
    });
    clock = 1;
    const second = deadlines.enter(caller.signal, b);
    clock = 2.5;
    const third = deadlines.enter(caller.signal, c);
    await firstAborted;
    expect(b).toHaveBeenCalledTimes(1);
    expect(laterAbortedFirst).toBe(false);
    expect([tickets[0]!.timedOut, second.timedOut, third.timedOut]).toEqual([true, true, false]);
    third.release();
  });

  it('never aborts a call that let go, and keeps the slot for the calls still holding it', async () => {
    const deadlines = new SharedDeadlines(100, () => 0);
    const caller = new AbortController();
    const [a, b] = [call(), call()];
    const first = deadlines.enter(caller.signal, a);
    const second = deadlines.enter(caller.signal, b);
    first.release();
    first.release();
    await vi.waitFor(() => expect(b).toHaveBeenCalledTimes(1), { timeout: 1_000, interval: 5 });
    expect(a).not.toHaveBeenCalled();
    expect(second.timedOut).toBe(true);
    second.release();
  });

  it('starts a new slot once every call of one let go', async () => {
    let clock = 0;
    const deadlines = new SharedDeadlines(100, () => clock);
    const caller = new AbortController();
    const early = call();
    deadlines.enter(caller.signal, early).release();
    clock = 0.5;
    const late = call();
    const ticket = deadlines.enter(caller.signal, late);
    await vi.waitFor(() => expect(late).toHaveBeenCalledTimes(1), { timeout: 1_000, interval: 5 });
    expect(early).not.toHaveBeenCalled();
    expect(ticket.timedOut).toBe(true);
  });

  it("aborts every call of the caller's slots, not as a timeout, when the caller aborts", () => {
    let clock = 0;
    const deadlines = new SharedDeadlines(60_000, () => clock);
    const caller = new AbortController();
    const other = new AbortController();
    const [a, b, c] = [call(), call(), call()];
    const early = deadlines.enter(caller.signal, a);
    clock = 5_000;
    const late = deadlines.enter(caller.signal, b);
    const elsewhere = deadlines.enter(other.signal, c);
    caller.abort();
    expect([a.mock.calls.length, b.mock.calls.length, c.mock.calls.length]).toEqual([1, 1, 0]);
    expect([early.timedOut, late.timedOut]).toEqual([false, false]);
    for (const ticket of [early, late, elsewhere]) ticket.release();
  });

  it('aborts at once a call whose caller has already aborted', () => {
    const deadlines = new SharedDeadlines(60_000);
    const abort = call();
    const ticket = deadlines.enter(AbortSignal.abort(), abort);
    expect(abort).toHaveBeenCalledTimes(1);
    expect(ticket.timedOut).toBe(false);
    ticket.release();
  });
});
