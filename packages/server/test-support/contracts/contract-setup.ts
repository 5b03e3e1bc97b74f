import { afterEach, beforeEach } from 'vitest';
import type { BatchStore } from '../../src/store/store.js';

/** When the contracts' batches are created, in milliseconds since the epoch. */
export const T0 = 1_800_000_000_000;
export const HOUR = 3_600_000;

/**
 * Opens a fresh store with `makeStore` before each test of the enclosing `describe`, hands it to
 * `use`, and closes it after the test.
 */
export function openStoreEachTest(makeStore: () => Promise<BatchStore>, use: (store: BatchStore) => void): void {
  let opened: BatchStore | undefined;
  beforeEach(async () => {
    opened = await makeStore();
    use(opened);
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
}
