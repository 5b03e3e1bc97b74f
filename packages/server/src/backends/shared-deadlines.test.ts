import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SharedDeadlines } from './shared-deadlines.js';

describe('SharedDeadlines', () => {
  it('shares one signal among calls starting within a slot, and times them out together', async () => {
    let clock = 0;
    const deadlines = new SharedDeadlines(100, () => clock);
    const caller = new AbortController();
    const first = deadlines.enter(caller.signal);
    clock = 1;
    const second = deadlines.enter(caller.signal);
    clock = 2.5;
    const third = deadlines.enter(caller.signal);
    expect(second.signal).toBe(first.signal);
    expect(third.signal).not.toBe(first.signal);
    await once(first.signal, 'abort');
    expect([first.timedOut, second.timedOut]).toEqual([true, true]);
    expect(third.signal.aborted).toBe(false);
    third.release();
  });

  it('keeps a slot running while any call holds it, and starts a new one once all let go', async () => {
    const deadlines = new SharedDeadlines(60_000, () => 0);
    const caller = new AbortController();
    const first = deadlines.enter(caller.signal);
    const second = deadlines.enter(caller.signal);
    first.release();
    first.release();
    expect(deadlines.enter(caller.signal).signal).toBe(second.signal);
    second.release();
    expect(second.signal.aborted).toBe(false);
  });

  it("aborts every call of the caller's slots, not as a timeout, when the caller aborts", () => {
    let clock = 0;
    const deadlines = new SharedDeadlines(60_000, () => clock);
    const caller = new AbortController();
    const other = new AbortController();
    const early = deadlines.enter(caller.signal);
    clock = 5_000;
    const late = deadlines.enter(caller.signal);
    const elsewhere = deadlines.enter(other.signal);
    caller.abort();
    expect([early.signal.aborted, late.signal.aborted, elsewhere.signal.aborted]).toEqual([true, true, false]);
    expect([early.timedOut, late.timedOut]).toEqual([false, false]);
    for (const ticket of [early, late, elsewhere]) ticket.release();
  });

  it('aborts at once a call whose caller has already aborted', () => {
    const deadlines = new SharedDeadlines(60_000);
    const ticket = deadlines.enter(AbortSignal.abort());
    expect(ticket.signal.aborted).toBe(true);
    ticket.release();
  });

  it('starts a new slot once one is held by as many calls as it takes', () => {
    const deadlines = new SharedDeadlines(60_000, () => 0);
    const caller = new AbortController();
    const tickets = Array.from({ length: 17 }, () => deadlines.enter(caller.signal));
    expect(new Set(tickets.map((ticket) => ticket.signal)).size).toBe(2);
    for (const ticket of tickets) ticket.release();
  });
});
