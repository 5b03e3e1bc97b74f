import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { StreamSlots } from './stream-slots.js';

/** A reply whose response closes when told. */
function reply(): FastifyReply & { close(): void } {
  const raw = new EventEmitter();
  return { raw, close: () => raw.emit('close') } as unknown as FastifyReply & { close(): void };
}

/** Whether `hold` settles within a few milliseconds: at once when a place is free. */
async function settlesAtOnce(holding: Promise<void>): Promise<boolean> {
  return Promise.race([holding.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20))]);
}

describe('StreamSlots', () => {
  it('holds a place per stream until its response closes, per workspace', async () => {
    const slots = new StreamSlots(2, 5_000);
    const first = reply();
    await slots.hold(first, 'w1');
    await slots.hold(reply(), 'w1');
    expect(await settlesAtOnce(slots.hold(reply(), 'w2'))).toBe(true);
    const third = slots.hold(reply(), 'w1');
    expect(await settlesAtOnce(third)).toBe(false);
    // The first stream's end hands its place to the reader waiting.
    first.close();
    expect(await settlesAtOnce(third)).toBe(true);
    expect(await settlesAtOnce(slots.hold(reply(), 'w1'))).toBe(false);
  });

  it('answers 429 when no place frees within the wait, and forgets a reader that goes while it waits', async () => {
    const slots = new StreamSlots(1, 30);
    const held = reply();
    await slots.hold(held, 'w');
    await expect(slots.hold(reply(), 'w')).rejects.toMatchObject({ status: 429, type: 'rate_limit_error', headers: { 'retry-after': '1' } });
    const gone = reply();
    const waiting = slots.hold(gone, 'w');
    gone.close();
    await expect(waiting).rejects.toMatchObject({ status: 429 });
    // Neither refused reader kept a place: the one the held stream frees is free at once.
    held.close();
    expect(await settlesAtOnce(slots.hold(reply(), 'w'))).toBe(true);
  });
});
