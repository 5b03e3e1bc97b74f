import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { GuardedTick, runStep } from '../engine/guarded-tick.js';
import type { ClaimedDelivery, PausePolicy, WebhookStore } from '../store/webhook-store.js';
import { pausePolicy } from './circuit-breaker.js';
import { eventsFor } from './events.js';
import { nextAttemptAt } from './retry-schedule.js';
import { sendWebhook, type Fetch } from './send-webhook.js';

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  clock: Clock;
  logger: Logger;
  /** Lease owner id of this process. */
  owner: string;
  /** Base of the `results_url` in event payloads. */
  publicUrl: () => string;
  /** How often to look for ended batches and due deliveries. */
  intervalMs: number;
  /** Longest a receiver may take to answer one attempt. */
  timeoutMs: number;
  /** Multiplies the retry schedule and the endpoints' pauses (1 in production). */
  retryScale: number;
  /** Most attempts this process has in flight at once. Default 16. */
  concurrency?: number;
  fetch?: Fetch;
}

/** Ended batches announced per transaction; a scan repeats until none is left. */
const ANNOUNCE_LIMIT = 100;
/** Delivered and failed deliveries are kept this long. */
const RETENTION_MS = 30 * 86_400_000;
/**
 * Deliveries purged per transaction, and most transactions per tick: up to 10,000 a tick, far
 * more than ticks make, so a backlog drains without holding up sending.
 */
const PURGE_LIMIT = 1_000;
const PURGE_STEPS = 10;
/** Attempts in flight at once to one endpoint, and to all endpoints of one workspace (over every process). */
const PER_ENDPOINT = 2;
const PER_WORKSPACE = 4;

/**
 * Sends webhook events, in its own loop beside the engine (which never waits for it). Each tick
 * announces batches that ended (the outbox scan, durable in the store), purges old settled
 * deliveries, then claims due deliveries under a lease, fairly across workspaces and endpoints,
 * and sends them with bounded concurrency. A delivery whose attempt was cut short by a crash is
 * due again when its lease lapses. Ticks never overlap and never throw.
 */
export class WebhookDispatcher {
  private readonly loop: GuardedTick;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly pause: PausePolicy;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.pause = pausePolicy(options.retryScale);
    this.loop = new GuardedTick(() => this.runTick(), options.intervalMs);
  }

  start(): void {
    this.loop.start();
    void this.tick();
  }

  async tick(): Promise<void> {
    if (!this.stopping.signal.aborted) await this.loop.tick();
  }

  private async runTick(): Promise<void> {
    const { store, clock, logger, publicUrl } = this.options;
    await this.step('announce ended batches', async () => {
      let announced: number;
      do {
        announced = await store.announceEndedBatches(clock.now(), ANNOUNCE_LIMIT, (batch) => eventsFor(batch, publicUrl()));
      } while (announced === ANNOUNCE_LIMIT && !this.stopping.signal.aborted);
    });
    await this.step('purge deliveries', async () => {
      const before = clock.now() - RETENTION_MS;
      let purged: number;
      let steps = 0;
      do {
        purged = await store.purgeDeliveries(before, PURGE_LIMIT);
        if (purged > 0) logger.debug({ purged }, 'purged webhook deliveries');
      } while (purged === PURGE_LIMIT && ++steps < PURGE_STEPS && !this.stopping.signal.aborted);
    });
    await this.step('claim deliveries', async () => {
      const room = (this.options.concurrency ?? 16) - this.inFlight.size;
      if (room <= 0 || this.stopping.signal.aborted) return;
      const at = clock.now();
      const limits = { total: room, perEndpoint: PER_ENDPOINT, perWorkspace: PER_WORKSPACE };
      const claimed = await store.claimDeliveries(this.options.owner, limits, at + 2 * this.options.timeoutMs, at);
      for (const delivery of claimed) this.send(delivery);
    });
  }

  private async step(name: string, work: () => Promise<void>): Promise<void> {
    await runStep(this.options.logger, 'webhook step failed', name, work);
  }

  /** Sends one attempt and records it; a free slot then looks for more due deliveries. */
  private send(delivery: ClaimedDelivery): void {
    const { store, clock, logger, owner, timeoutMs, retryScale, fetch = globalThis.fetch } = this.options;
    const attempt = (async () => {
      const outcome = await sendWebhook(fetch, delivery, clock.now(), timeoutMs, this.stopping.signal);
      // A process stopping leaves the attempt unrecorded: the delivery is due again when its lease lapses.
      if (this.stopping.signal.aborted) return;
      const now = clock.now();
      const delivered = outcome.error === null;
      const retryAt = delivered ? null : nextAttemptAt(delivery.attempt, now, retryScale);
      const disable = outcome.status === 410;
      await store.recordAttempt(owner, delivery.id, delivery.attempt, { ...outcome, delivered, retryAt, pause: this.pause, disable }, now);
      const log = { delivery: delivery.id, endpoint: delivery.endpointId, attempt: delivery.attempt, status: outcome.status };
      if (delivered) logger.debug(log, 'webhook delivered');
      else if (disable) logger.warn(log, 'webhook endpoint disabled: its receiver answered 410 Gone');
      else logger.warn({ ...log, error: outcome.error, retryAt }, retryAt === null ? 'webhook failed for good' : 'webhook attempt failed');
    })()
      .catch((error: unknown) => logger.error({ err: error, delivery: delivery.id }, 'recording a webhook attempt failed'))
      .finally(() => {
        this.inFlight.delete(attempt);
        void this.tick();
      });
    this.inFlight.add(attempt);
  }

  /** Stops ticking and abandons attempts in flight (they are retried when their leases lapse). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    await Promise.all(this.inFlight);
  }
}
