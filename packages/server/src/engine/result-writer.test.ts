import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import type { Completion } from '../store/store.js';
import { ResultWriter } from './result-writer.js';

/** A store whose writes wait until the test lets them end. */
function stalledStore() {
  const written: number[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    written,
    open: () => release(),
    store: {
      async completeRequests(_owner: string, completions: Completion[]) {
        await gate;
        written.push(...completions.map((completion) => completion.key));
      },
      async retryRequests() {},
    },
  };
}

const completion = (key: number): Completion => ({ key, type: 'succeeded', result: '{}' });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('result writer', () => {
  it('lets calls start only while those under way and the results unwritten stay under its bound', async () => {
    const db = stalledStore();
    const writer = new ResultWriter({ store: db.store, owner: 'o', clock: systemClock, logger: pino({ level: 'silent' }), maxUnwritten: 4 });
    const signal = new AbortController().signal;
    let started = 0;
    let key = 0;
    // Twelve calls, each handing its answer to the writer as soon as it is let through.
    const calls = Array.from({ length: 12 }, async () => {
      const release = await writer.admit(signal);
      started += 1;
      writer.complete(completion(key++));
      release();
    });
    for (let i = 0; i < 5; i++) await turn();
    // The first write holds its group and stalls: four answers are unwritten and no fifth call starts.
    expect(started).toBe(4);
    expect(writer.unwritten).toBe(4);

    db.open();
    await Promise.all(calls);
    await writer.stop();
    expect(db.written.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('lets a waiting call through when its signal aborts, so a stopping engine is not held', async () => {
    const db = stalledStore();
    const writer = new ResultWriter({ store: db.store, owner: 'o', clock: systemClock, logger: pino({ level: 'silent' }), maxUnwritten: 1 });
    writer.complete(completion(1));
    await turn();
    const stopping = new AbortController();
    let through = false;
    const waiting = writer.admit(stopping.signal).then((release) => {
      through = true;
      release();
    });
    await turn();
    expect(through).toBe(false);
    stopping.abort();
    await waiting;
    expect(through).toBe(true);
    db.open();
    await writer.stop();
    expect(db.written).toEqual([1]);
  });
});
