import { describe, expect, it } from 'vitest';
import { ownTurn } from './own-turn.js';

describe('ownTurn', () => {
  it('lets one step through per turn of the event loop, in the order asked, whoever asks', async () => {
    let turn = 0;
    let counting = true;
    const count = () => {
      turn++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const seen: Array<[string, number]> = [];
    const worker = async (name: string) => {
      for (let step = 0; step < 3; step++) {
        await ownTurn();
        seen.push([`${name}${step}`, turn]);
      }
    };
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    counting = false;
    expect(seen.map(([step]) => step)).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
    const turns = seen.map(([, at]) => at);
    expect(new Set(turns).size).toBe(turns.length);
  });

  it('never resolves in the turn that asked, even when no one else waits', async () => {
    let ranBetween = false;
    setImmediate(() => (ranBetween = true));
    await ownTurn();
    expect(ranBetween).toBe(true);
  });
});
