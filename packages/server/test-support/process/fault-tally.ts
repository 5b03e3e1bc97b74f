import { seededRandom, type FakeFault } from '../fakes/fake-provider.js';

/**
 * The faults a `FakeProvider` started with `faults: { rate, kinds, seed }` (and nothing in its
 * `inject()` queue) answered to its first `calls` calls. The provider draws them from a mulberry32
 * PRNG seeded with `seed`: one draw per call decides whether it fails, and a second draw picks
 * the kind. Replaying the same draws here counts them by kind without instrumenting the provider;
 * tests cross-check the count against what the provider and batchd observed.
 */

export function tallyFaults(options: { rate: number; kinds: readonly FakeFault[]; seed: number }, calls: number): Map<FakeFault, number> {
  const random = seededRandom(options.seed);
  const counts = new Map<FakeFault, number>(options.kinds.map((kind) => [kind, 0]));
  for (let call = 0; call < calls; call++) {
    if (random() >= options.rate) continue;
    const kind = options.kinds[Math.floor(random() * options.kinds.length)]!;
    counts.set(kind, counts.get(kind)! + 1);
  }
  return counts;
}
