import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ProviderBatchStore } from '../store/provider-batch-store.js';
import type { QueueStore, Completion, Retry } from '../store/store.js';

/** A request handed to the provider-batch backend that serves its model. */
export interface Route {
  key: number;
  backend: string;
}

export interface ResultWriterOptions {
  store: Pick<QueueStore, 'completeRequests' | 'retryRequests'> & { providerBatches?: Pick<ProviderBatchStore, 'routeToProvider'> };
  /** Lease owner id of this process: results are written only for requests it still holds. */
  owner: string;
  clock: Clock;
  logger: Logger;
  /** Called once routes are written. */
  onRouted?: () => void;
}

/** Wait before writing results again after a failed write. */
const FLUSH_RETRY_MS = 500;

/**
 * The engine's write-behind buffer: results and retries are written in groups, each group one
 * transaction, as they arrive: on the next turn of the event loop when no write is under way
 * (answers read in the same turn go together), else in one group the moment that write ends.
 * An answer thus waits for at most the write under way and its own: the window in which a
 * crash loses answers already received.
 */
export class ResultWriter {
  private completions: Completion[] = [];
  private retries: Retry[] = [];
  private routes: Route[] = [];
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private flushRetry: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResultWriterOptions) {}

  complete(completion: Completion): void {
    this.completions.push(completion);
    this.scheduleFlush();
  }

  retry(retry: Retry): void {
    this.retries.push(retry);
    this.scheduleFlush();
  }

  route(route: Route): void {
    this.routes.push(route);
    this.scheduleFlush();
  }

  /** The requests whose results, retries or routes are not written yet: their leases must stay held. */
  pendingKeys(): number[] {
    return [...this.completions, ...this.retries, ...this.routes].map((pending) => pending.key);
  }

  /** Whether routes wait to be written. */
  get routesWaiting(): boolean {
    return this.routes.length > 0;
  }

  /** Whether nothing is waiting to be written and no write is under way. */
  get idle(): boolean {
    return this.flushing === null && !this.flushScheduled && this.completions.length + this.retries.length + this.routes.length === 0;
  }

  /** Writes everything received so far and stops trying again after a failed write. */
  async stop(): Promise<void> {
    await this.flush();
    clearTimeout(this.flushRetry);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled || this.flushRetry) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.completions.length + this.retries.length + this.routes.length === 0) return;
    const { completions, retries, routes } = this;
    this.completions = [];
    this.retries = [];
    this.routes = [];
    this.flushing = (async () => {
      const { store, owner, clock, logger } = this.options;
      let written = false;
      try {
        const now = clock.now();
        if (completions.length > 0) await store.completeRequests(owner, completions, now);
        written = true;
        if (retries.length > 0) await store.retryRequests(owner, retries, now);
        if (routes.length > 0) {
          await store.providerBatches!.routeToProvider(owner, routes);
          this.options.onRouted?.();
        }
      } catch (error) {
        // Keep what was not written (its leases stay renewed) and try again shortly: the
        // database may be full or read-only for a while, and the answers are already paid for.
        logger.error({ err: error, results: completions.length, retries: retries.length }, 'writing results failed; will try again');
        if (!written) this.completions.unshift(...completions);
        this.retries.unshift(...retries);
        this.routes.unshift(...routes);
        this.flushRetry ??= setTimeout(() => {
          this.flushRetry = undefined;
          void this.flush();
        }, FLUSH_RETRY_MS);
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
    if (!this.flushRetry && this.completions.length + this.retries.length + this.routes.length > 0) void this.flush();
  }
}
