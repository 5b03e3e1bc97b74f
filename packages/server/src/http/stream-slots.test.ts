import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { StreamSlots } from './stream-slots.js';

/** A reply whose response closes when told. */
function reply(): FastifyReply & { close(): void } {
  const raw = new EventEmitter();
  return { raw, close: () => raw.emit('close') } as unknown as FastifyReply & { close(): void };
}

describe('StreamSlots', () => {
  it('holds a place per stream until its response closes, per workspace', async () => {
    const slots = new StreamSlots(2, 50);
    const [a, b] = [reply(), reply()];
    await slots.hold(a, 'w1');
    await slots.hold(b, 'w1');
    await slots.hold(reply(), 'w2');
    expect([slots.openIn('w1'), slots.openIn('w2')]).toEqual([2, 1]);
    a.close();
    expect(slots.openIn('w1')).toBe(1);
  });

  it('lets a reader past the bound wait, and hands it the first place that frees', async () => {
    const slots = new StreamSlots(1, 5_000);
    const first = reply();
    await slots.hold(first, 'w');
    let handed = false;
    const waiting = slots.hold(reply(), 'w').then(() => (handed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed).toBe(false);
    first.close();
    await waiting;
    expect(slots.openIn('w')).toBe(1);
  });

  it('answers 429 when no place frees within the wait, and forgets a reader that goes while it waits', async () => {
    const slots = new StreamSlots(1, 30);
    await slots.hold(reply(), 'w');
    await expect(slots.hold(reply(), 'w')).rejects.toMatchObject({ status: 429, type: 'rate_limit_error', headers: { 'retry-after': '1' } });
    const gone = reply();
    const waiting = slots.hold(gone, 'w');
    gone.close();
    await expect(waiting).rejects.toMatchObject({ status: 429 });
    expect(slots.openIn('w')).toBe(1);
  });
});
