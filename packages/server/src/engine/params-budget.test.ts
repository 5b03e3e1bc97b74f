import { describe, expect, it } from 'vitest';
import { ParamsBudget } from './params-budget.js';

describe('ParamsBudget', () => {
  it('lets requests through while their bytes fit, one alone whatever its size, in order of arrival', async () => {
    const budget = new ParamsBudget(100);
    const granted: string[] = [];
    const giveBack = new Map<string, () => void>();
    const take = (name: string, bytes: number) =>
      void budget.take(bytes).then((give) => {
        granted.push(name);
        giveBack.set(name, give);
      });
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    take('huge', 500);
    take('small', 10);
    await settle();
    expect(granted).toEqual(['huge']);
    // Given back twice, counted once: otherwise "b" below would fit at once.
    giveBack.get('huge')!();
    giveBack.get('huge')!();
    await settle();
    expect(granted).toEqual(['huge', 'small']);

    take('a', 60);
    take('b', 40);
    take('c', 1);
    await settle();
    expect(granted).toEqual(['huge', 'small', 'a']);
    giveBack.get('small')!();
    await settle();
    expect(granted).toEqual(['huge', 'small', 'a', 'b']);
    giveBack.get('a')!();
    await settle();
    expect(granted).toEqual(['huge', 'small', 'a', 'b', 'c']);
  });

  it('lets through no more than its bytes per turn of the event loop, one alone whatever its size', async () => {
    const budget = new ParamsBudget(1_000, 100);
    const granted: string[] = [];
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    for (const [name, bytes] of [['a', 60], ['b', 40], ['c', 10], ['huge', 500], ['d', 10]] as const) {
      void budget.take(bytes).then(() => granted.push(name));
    }
    await Promise.resolve();
    expect(granted).toEqual(['a', 'b']);
    await turn();
    expect(granted).toEqual(['a', 'b', 'c']);
    await turn();
    expect(granted).toEqual(['a', 'b', 'c', 'huge']);
    await turn();
    expect(granted).toEqual(['a', 'b', 'c', 'huge', 'd']);
  });
});
