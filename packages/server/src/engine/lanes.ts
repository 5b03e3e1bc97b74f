import type { BackendLane } from './backend-lane.js';
import type { ProviderBatchStats } from './provider-batch-stats.js';

/**
 * The configured backends in routing order: a model goes to the first lane that serves it. The
 * provider-batch backends are not lanes (no call of theirs is made per request); their counters
 * are kept here beside the lanes' for `/metrics`.
 */
export class Lanes {
  constructor(
    readonly all: BackendLane[],
    readonly providers: ProviderBatchStats[] = [],
  ) {}

  for(model: string): BackendLane | undefined {
    return this.all.find((lane) => lane.serves(model));
  }

  /** Batch calls that may start now across all lanes: how many requests to claim. */
  availableForBatch(): number {
    let total = 0;
    for (const lane of this.all) total += lane.availableForBatch();
    return total;
  }

  /** Batch calls the lanes' prefix gates hold back while slots are free. */
  heldBack(): number {
    let total = 0;
    for (const lane of this.all) total += lane.heldBack();
    return total;
  }

  /** The sum of the adaptive limits of the lanes not paused: the calls that may run at once now. */
  openLimit(): number {
    let total = 0;
    for (const lane of this.all) if (!lane.paused) total += lane.limit.limit;
    return total;
  }

  /** Applies pauses other nodes recorded, keyed by backend name. */
  applyPauses(pauses: Map<string, number>): void {
    for (const lane of this.all) {
      const until = pauses.get(lane.name);
      if (until !== undefined) lane.pause(until);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((lane) => lane.backend.close()));
  }
}
