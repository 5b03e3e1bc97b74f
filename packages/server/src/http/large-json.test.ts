import { describe, expect, it } from 'vitest';
import { largeJson, largeJsonWaiting, takeLargeJson } from './large-json.js';

const MiB = 1024 * 1024;

/** Whether `promise` has settled once pending callbacks and the next turn have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('large JSON by client address', () => {
  it("holds one address to half of the bytes while another's go, and forgets an address that holds nothing", async () => {
    const first = await takeLargeJson('10.0.0.1', 30 * MiB);
    const second = takeLargeJson('10.0.0.1', 30 * MiB);
    expect(await settled(second)).toBe(false);
    const other = await takeLargeJson('10.0.0.2', 30 * MiB);
    expect([largeJson.taken, largeJsonWaiting()]).toEqual([60 * MiB, { waiting: 1, addresses: 2 }]);

    // Room in the process's bytes is not enough: the address's own half is full.
    other();
    expect(await settled(second)).toBe(false);
    expect(largeJsonWaiting()).toEqual({ waiting: 1, addresses: 1 });
    first();
    (await second)();
    expect([largeJson.taken, largeJsonWaiting()]).toEqual([0, { waiting: 0, addresses: 0 }]);
  });

  it('lets small values of one address share its half, first come first served', async () => {
    const held = await Promise.all([1, 2, 3].map(() => takeLargeJson('10.0.0.3', 10 * MiB)));
    const fourth = takeLargeJson('10.0.0.3', 10 * MiB);
    expect(await settled(fourth)).toBe(false);
    held[0]!();
    const giveBack = await fourth;
    for (const give of [...held.slice(1), giveBack]) give();
    expect([largeJson.taken, largeJsonWaiting()]).toEqual([0, { waiting: 0, addresses: 0 }]);
  });
});
