import type { UpkeepStore } from './store.js';

/** A store whose maintenance sweeps are those of its `upkeep` module (see `sqlite-upkeep.ts`, `postgres-upkeep.ts`). */
export abstract class StoreWithUpkeep implements UpkeepStore {
  protected abstract readonly upkeep: UpkeepStore;

  reclaimExpiredLeases(now: number): Promise<number> {
    return this.upkeep.reclaimExpiredLeases(now);
  }

  expireBatches(now: number): Promise<number> {
    return this.upkeep.expireBatches(now);
  }

  archiveBatches(now: number): Promise<number> {
    return this.upkeep.archiveBatches(now);
  }

  purge(limit: number): Promise<number> {
    return this.upkeep.purge(limit);
  }

  purgeCreateRecords(now: number, limit: number): Promise<number> {
    return this.upkeep.purgeCreateRecords(now, limit);
  }
}
