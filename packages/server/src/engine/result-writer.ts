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
  /** Backend calls wait in {@link ResultWriter.admit} while this many are under way or received and not yet written. */
  maxUnwritten?: number;
}

/** Wait before writing results again after a failed write. */
const FLUSH_RETRY_MS = 500;

/**
 * The engine's write-behind buffer: results and retries are written in groups, each group one
 * transaction, as they arrive: on the next turn of the event loop when no write is under way
 * (answers read in the same turn go together), else in one group the moment that write ends.
 * An answer thus waits for at most the write under way and its own: the window in which a
 * crash loses answers already received. When the database falls behind or fails, new backend
 * calls wait ({@link admit}), so what is held unwritten, and lost in a crash, stays bounded.
 */
export class ResultWriter {
  private completions: Completion[] = [];
  private retries: Retry[] = [];
  private routes: Route[] = [];
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private flushRetry: NodeJS.Timeout | undefined;
  /** How many the write under way holds. */
  private writing = 0;
  /** Backend calls let through {@link admit} and not yet released. */
  private calling = 0;
  /** Calls waiting in {@link admit}, each counted in `calling` as it is let through. */
  private admitWaiters = new Set<() => void>();

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

  /** Received and not yet written, the write under way included. */
  get unwritten(): number {
    return this.writing + this.completions.length + this.retries.length + this.routes.length;
  }

  /**
   * Lets a backend call start once the calls let through and the results not yet written number
   * fewer than `maxUnwritten` (or at once when `signal` aborts), and counts it until the returned
   * release, called once its result is handed over.
   */
  async admit(signal: AbortSignal): Promise<() => void> {
    if (this.calling + this.unwritten < (this.options.maxUnwritten ?? Infinity) || signal.aborted) this.calling += 1;
    else {
      await new Promise<void>((resolve) => {
        const admitted = () => {
          signal.removeEventListener('abort', aborted);
          resolve();
        };
        const aborted = () => {
          this.admitWaiters.delete(admitted);
          this.calling += 1;
          resolve();
        };
        this.admitWaiters.add(admitted);
        signal.addEventListener('abort', aborted, { once: true });
      });
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.calling -= 1;
      this.admitWaiting();
    };
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
    this.writing = completions.length + retries.length + routes.length;
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
      this.writing = 0;
    }
    this.admitWaiting();
    if (!this.flushRetry && this.completions.length + this.retries.length + this.routes.length > 0) void this.flush();
  }

  private admitWaiting(): void {
    const max = this.options.maxUnwritten ?? Infinity;
    for (const admitted of this.admitWaiters) {
      if (this.calling + this.unwritten >= max) return;
      this.admitWaiters.delete(admitted);
      this.calling += 1;
      admitted();
    }
  }
}
