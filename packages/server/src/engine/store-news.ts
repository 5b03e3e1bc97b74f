import type { QueueStore } from '../store/store.js';
import type { Lanes } from './lanes.js';

/** How often what other processes record is read again. */
const REFRESH_MS = 250;

/**
 * What the engine learns from the store that any process may change: the backend pauses other
 * nodes recorded (applied to the lanes), and the batches being canceled. Each is read at most
 * every few hundred milliseconds.
 */
export class StoreNews {
  private pausesReadAt = 0;
  private cancelingReadAt = 0;
  private canceling = new Set<string>();

  constructor(private readonly options: { store: Pick<QueueStore, 'cancelingBatchIds' | 'backendPauses'>; lanes: Pick<Lanes, 'applyPauses'> }) {}

  /** Reads what is due to be read again. */
  async refresh(now: number): Promise<void> {
    const { store, lanes } = this.options;
    if (store.backendPauses && now - this.pausesReadAt >= REFRESH_MS) {
      this.pausesReadAt = now;
      lanes.applyPauses(await store.backendPauses(now));
    }
    if (now - this.cancelingReadAt >= REFRESH_MS) {
      this.cancelingReadAt = now;
      this.canceling = new Set(await store.cancelingBatchIds());
    }
  }

  /** Whether batch `batchId` is being canceled, as last read or told. */
  isCanceling(batchId: string): boolean {
    return this.canceling.has(batchId);
  }

  /** Told by the API of this process the moment a batch is canceled. */
  canceled(batchId: string): void {
    this.canceling.add(batchId);
  }
}
