import { setImmediate as nextTurn } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { LargeGarbage } from './large-garbage.js';

const MiB = 1024 * 1024;

describe('LargeGarbage', () => {
  it('collects large strings let go of once they pass the threshold, not before', async () => {
    const garbage = new LargeGarbage(32 * MiB);
    let held: string[] | null = Array.from({ length: 4 }, (_, i) => `${i}${'x'.repeat(10 * MiB)}`.slice(1));
    const withStrings = getHeapStatistics().used_heap_size;
    expect(held).toHaveLength(4);
    held = null;
    garbage.released(31 * MiB);
    await nextTurn();
    expect(getHeapStatistics().used_heap_size).toBeGreaterThan(withStrings - 10 * MiB);
    garbage.released(1 * MiB);
    await nextTurn();
    await nextTurn();
    expect(getHeapStatistics().used_heap_size).toBeLessThan(withStrings - 30 * MiB);
  });
});
