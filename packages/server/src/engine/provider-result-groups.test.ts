import { describe, expect, it } from 'vitest';
import type { ProviderCompletion } from '../store/provider-batch-store.js';
import { ProviderResultGroups, RESULTS_GROUP, RESULTS_GROUP_CHARS } from './provider-result-groups.js';

const completion = (key: number, result = '{}'): ProviderCompletion => ({ key, type: 'succeeded', result });

describe('ProviderResultGroups', () => {
  it('writes full groups as results arrive, one write at a time, and the rest on flush', async () => {
    const written: number[][] = [];
    let running = 0;
    let most = 0;
    const groups = new ProviderResultGroups(async (completions) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      written.push(completions.map((c) => c.key));
      running -= 1;
    });
    for (let key = 1; key <= 2 * RESULTS_GROUP + 10; key++) await groups.add(completion(key));
    await groups.flush();
    expect(written.map((keys) => keys.length)).toEqual([RESULTS_GROUP, RESULTS_GROUP, 10]);
    expect(written.flat()).toEqual(Array.from({ length: 2 * RESULTS_GROUP + 10 }, (_, i) => i + 1));
    expect(most).toBe(1);
  });

  it('closes a group early once its result texts reach the character bound', async () => {
    const sizes: number[] = [];
    const groups = new ProviderResultGroups(async (completions) => void sizes.push(completions.length));
    const big = 'x'.repeat(RESULTS_GROUP_CHARS / 4);
    for (let key = 1; key <= 9; key++) await groups.add(completion(key, big));
    await groups.flush();
    expect(sizes).toEqual([4, 4, 1]);
  });

  it('stops at a failed write: nothing after it is written, and flush throws it', async () => {
    const written: number[] = [];
    const groups = new ProviderResultGroups(async (completions) => {
      if (completions[0]!.key === 1) throw new Error('disk full');
      written.push(...completions.map((c) => c.key));
    });
    for (let key = 1; key <= RESULTS_GROUP; key++) await groups.add(completion(key));
    await groups.add(completion(RESULTS_GROUP + 1));
    await expect(groups.flush()).rejects.toThrow('disk full');
    expect(written).toEqual([]);
  });
});
