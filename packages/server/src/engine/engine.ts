import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { CLAIM_PARAMS_BYTES, type BatchStore, type ClaimedRequest, type Completion, type Dialect, type Retry } from '../store/store.js';
import { chatDialect } from './chat-dialect.js';
import type { Lanes } from './lanes.js';
import { messagesDialect } from './messages-dialect.js';
import { retryAt, type RetryPolicy } from './outcome.js';
import { paramsGarbage } from '../large-garbage.js';
import { ParamsBudget } from './params-budget.js';
import type { RequestDialect } from './request-dialect.js';

export interface EngineOptions {
  store: BatchStore;
  lanes: Lanes;
  clock: Clock;
  logger: Logger;
  /** Lease owner id of this process. */
  owner: string;
  /** Most requests held at once, running or waiting for a backend slot. */
  maxHeld: number;
  /** Most requests leased by every engine on the store together (nodes sharing one database). */
  clusterLimit?: number;
  leaseMs: number;
  retry: RetryPolicy;
  /** How often to look for work when nothing wakes the engine (retries coming due, other nodes). */
  pollIntervalMs?: number;
}

/** Wait before writing results again after a failed write. */
const FLUSH_RETRY_MS = 500;
/** How often backend pauses recorded by other nodes are read. */
const PAUSES_REFRESH_MS = 250;
/** Params text parsed and sent at once: parsed, a few MiB of small values can take twenty times as much. */
const PARAMS_IN_FLIGHT_BYTES = 2 * 1024 * 1024;

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Claims requests, calls the backend with at most `concurrency` calls in flight, and writes
 * results in groups, each group one transaction. Leases are renewed while calls run; a result
 * is written only while this engine still holds the request's lease.
 */
export class Engine {
  private readonly inFlight = new Map<number, InFlight>();
  /** Params text of the requests held: claims stop adding to it past `CLAIM_PARAMS_BYTES`. */
  private heldParams = 0;
  private completions: Completion[] = [];
  private retries: Retry[] = [];
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private flushRetry: NodeJS.Timeout | undefined;
  private pausesReadAt = 0;
  private pumping = false;
  private pumpScheduled = false;
  private pumpAgain = false;
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private idle: Array<() => void> = [];
  private readonly dialects: Record<Dialect, RequestDialect>;
  private readonly paramsBudget = new ParamsBudget(PARAMS_IN_FLIGHT_BYTES);

  constructor(private readonly options: EngineOptions) {
    this.dialects = { messages: messagesDialect, chat: chatDialect(() => options.clock.now()) };
  }

  start(): void {
    this.running = true;
    const { leaseMs, pollIntervalMs = 250 } = this.options;
    this.timers.push(setInterval(() => this.wake(), pollIntervalMs));
    this.timers.push(setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(leaseMs / 3))));
    this.wake();
  }

  /** Looks for work now: called when a batch is created and whenever a call finishes. */
  wake(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.pumpScheduled) return;
    // Claim on the next turn of the event loop, never in the same chain of promise callbacks:
    // with a backend that answers at once, that chain would otherwise starve HTTP and timers.
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.running && !this.pumping) void this.pump();
      else if (this.pumping) this.pumpAgain = true;
    });
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const now = this.options.clock.now();
        await this.refreshPauses(now);
        const free = this.claimable();
        const paramsRoom = CLAIM_PARAMS_BYTES - this.heldParams;
        if (free <= 0 || paramsRoom <= 0) break;
        const { store, owner, leaseMs, clusterLimit } = this.options;
        const claimed = await store.claimRequests(owner, free, now + leaseMs, now, clusterLimit, paramsRoom);
        for (const request of claimed) this.dispatch(request);
        if (claimed.length === free) this.pumpAgain = true;
        // A synchronous store claims without yielding: let the API answer between claims.
        if (this.pumpAgain) await nextTurn();
      } while (this.pumpAgain && this.running);
    } catch (error) {
      this.options.logger.error({ err: error }, 'claiming requests failed');
    } finally {
      this.pumping = false;
    }
  }

  /**
   * How many requests to claim now. Alone on its store, the engine claims ahead: it keeps up to
   * twice the lanes' current limits claimed, and tops up once a quarter of that has gone, so claims
   * are few and large and a freed slot never waits for one. Under a cluster-wide limit, where
   * every leased request counts, it claims only for slots that are free.
   */
  private claimable(): number {
    const { lanes, maxHeld, clusterLimit } = this.options;
    const held = this.inFlight.size;
    if (clusterLimit !== undefined) return Math.min(lanes.availableForBatch(), maxHeld - held);
    const target = Math.min(maxHeld, 2 * lanes.openLimit());
    return held > (target * 3) / 4 ? 0 : target - held;
  }

  /** Picks up the backend pauses other nodes recorded, at most every few hundred milliseconds. */
  private async refreshPauses(now: number): Promise<void> {
    const { store, lanes } = this.options;
    if (!store.backendPauses || now - this.pausesReadAt < PAUSES_REFRESH_MS) return;
    this.pausesReadAt = now;
    lanes.applyPauses(await store.backendPauses(now));
  }

  private dispatch(request: ClaimedRequest): void {
    const controller = new AbortController();
    const done = this.run(request, controller.signal)
      .catch((error: unknown) => {
        // A request the engine cannot handle ends errored instead of taking the process down.
        this.options.logger.error({ err: error, batch: request.batchId, customId: request.customId }, 'processing a request failed');
        this.complete(this.dialects[request.dialect].errored(request.key, 'api_error', 'batchd could not process this request'));
      })
      .finally(() => {
        this.heldParams -= request.params.length;
        paramsGarbage.released(request.params.length);
        this.inFlight.delete(request.key);
        if (this.inFlight.size === 0) this.idle.splice(0).forEach((resolve) => resolve());
        this.wake();
      });
    this.heldParams += request.params.length;
    this.inFlight.set(request.key, { controller, done });
  }

  /** Runs one request through its dialect once its params fit in the budget. */
  private async run(request: ClaimedRequest, signal: AbortSignal): Promise<void> {
    const giveBack = await this.paramsBudget.take(request.params.length);
    try {
      // Admitted as another request gives its budget back, it would parse within that one's turn,
      // each after the other with no turn for the API between: each starts on a turn of its own.
      await nextTurn();
      await this.runWithin(request, signal);
    } finally {
      giveBack();
    }
  }

  /** Parses, routes by model, calls, then stores, retries or fails. */
  private async runWithin(request: ClaimedRequest, signal: AbortSignal): Promise<void> {
    const dialect = this.dialects[request.dialect];
    const parsed = dialect.parse(request.params);
    if ('invalid' in parsed) {
      this.complete(dialect.errored(request.key, 'invalid_request_error', parsed.invalid));
      return;
    }
    const lane = this.options.lanes.for(parsed.model);
    if (!lane) {
      this.complete(dialect.errored(request.key, 'not_found_error', `model: ${parsed.model} is not served by any configured backend`));
      return;
    }
    // A request claimed ahead may wait for its slot past its batch's expiry: it is then not sent.
    const stillWanted = () => this.options.clock.now() < request.expiresAt;
    const outcome = await dialect.call(request.key, lane, parsed.params, signal, request.attempt, stillWanted);
    const now = this.options.clock.now();
    if (signal.aborted || outcome === null) {
      this.enqueueRetry({ key: request.key, runAt: now });
      return;
    }
    if (outcome.kind === 'succeeded') {
      this.complete(outcome.completion);
      return;
    }
    const runAt = retryAt(outcome, request.attempt, now, request.expiresAt, this.options.retry);
    if (runAt === null) this.complete(dialect.errored(request.key, outcome.errorType, outcome.message));
    else this.enqueueRetry({ key: request.key, runAt });
  }

  private complete(completion: Completion): void {
    this.completions.push(completion);
    this.scheduleFlush();
  }

  private enqueueRetry(retry: Retry): void {
    this.retries.push(retry);
    this.scheduleFlush();
  }

  /**
   * Writes results as they arrive: on the next turn of the event loop when no write is under way
   * (answers read in the same turn go together), else in one group the moment that write ends.
   * An answer thus waits for at most the write under way and its own: the window in which a
   * crash loses answers already received.
   */
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
    if (this.completions.length === 0 && this.retries.length === 0) return;
    const completions = this.completions;
    const retries = this.retries;
    this.completions = [];
    this.retries = [];
    this.flushing = (async () => {
      const { store, owner, clock, logger } = this.options;
      let written = false;
      try {
        const now = clock.now();
        if (completions.length > 0) await store.completeRequests(owner, completions, now);
        written = true;
        if (retries.length > 0) await store.retryRequests(owner, retries, now);
      } catch (error) {
        // Keep what was not written (its leases stay renewed) and try again shortly: the
        // database may be full or read-only for a while, and the answers are already paid for.
        logger.error({ err: error, results: completions.length, retries: retries.length }, 'writing results failed; will try again');
        if (!written) this.completions.unshift(...completions);
        this.retries.unshift(...retries);
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
    if (!this.flushRetry && this.completions.length + this.retries.length > 0) void this.flush();
  }

  /** Renews the leases of requests running and of those whose results are not written yet. */
  private async renewLeases(): Promise<void> {
    const keys = [...this.inFlight.keys(), ...this.completions.map((c) => c.key), ...this.retries.map((r) => r.key)];
    if (keys.length === 0) return;
    const { store, owner, clock, leaseMs, logger } = this.options;
    try {
      await store.renewLeases(owner, keys, clock.now() + leaseMs);
    } catch (error) {
      logger.error({ err: error }, 'renewing leases failed');
    }
  }

  /**
   * Stops claiming, lets calls in flight finish for up to `graceMs`, aborts the rest and puts
   * them back in the queue, and writes every result already received.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.inFlight.size > 0) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timeout);
      const remaining = [...this.inFlight.values()];
      for (const { controller } of remaining) controller.abort();
      await Promise.allSettled(remaining.map(({ done }) => done));
    }
    await this.flush();
    clearTimeout(this.flushRetry);
  }
}
