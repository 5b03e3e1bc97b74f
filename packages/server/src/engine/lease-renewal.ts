import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { QueueStore } from '../store/store.js';

export interface LeaseRenewalOptions {
  store: Pick<QueueStore, 'renewLeases'>;
  /** Lease owner id of this process. */
  owner: string;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  /** The requests whose leases to keep: those running and those whose results are not written yet. */
  held: () => number[];
}

/** Renews the leases of the requests the engine holds, three times per lease. */
export class LeaseRenewal {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LeaseRenewalOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const { store, owner, clock, leaseMs, logger, held } = this.options;
    const keys = held();
    if (keys.length === 0) return;
    try {
      await store.renewLeases(owner, keys, clock.now() + leaseMs);
    } catch (error) {
      logger.error({ err: error }, 'renewing leases failed');
    }
  }
}
