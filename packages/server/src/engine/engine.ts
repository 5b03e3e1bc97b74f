import { setMaxListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { paramsGarbage } from '../large-garbage.js';
import { ownTurn } from '../own-turn.js';
import type { ProviderBatchStore } from '../store/provider-batch-store.js';
import { CLAIM_PARAMS_BYTES, type ClaimedRequest, type QueueStore } from '../store/store.js';
import { PriceList } from '../pricing/price-list.js';
import { answerCost } from './answer-cost.js';
import type { Lanes } from './lanes.js';
import { LeaseRenewal } from './lease-renewal.js';
import { messagesRequests } from './messages-requests.js';
import { openAIRequests } from './openai-requests.js';
import { ParamsBudget } from './params-budget.js';
import { CHAT_COMPLETIONS, ProviderRouting, type ProviderRoutingOptions } from './provider-routing.js';
import { readStoredPrefix } from '../translate/prefix-key.js';
import type { RequestKind } from './request-kind.js';
import { ResultWriter, type ResultWriterOptions } from './result-writer.js';
import { retryAt, type RetryPolicy } from './retry-policy.js';
import { StoreNews } from './store-news.js';

/** With `providerForAll` and `onRouted` of the provider routing. */
export interface EngineOptions extends Omit<ProviderRoutingOptions, 'store' | 'route'> {
  store: QueueStore & ResultWriterOptions['store'] & { providerBatches?: Pick<ProviderBatchStore, 'routeQueued'> };
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
  /** Prices of the models answered, for each batch's cost; with none, answers count as unpriced. */
  prices?: PriceList;
  /** The provider-batch backend a model is routed to, if any: its requests are handed over, not called. */
  providerRoute?: (model: string) => string | undefined;
  /** Requests held at once to route to provider-batch backends. */
  providerSlots?: number;
}

/** Params text parsed and sent at once: parsed, a few MiB of small values can take twenty times as much. */
const PARAMS_IN_FLIGHT_BYTES = 2 * 1024 * 1024;
/** Params text let through to be parsed in one turn of the event loop, between turns in which the API answers. */
const PARAMS_PER_TURN_BYTES = 256 * 1024;

/** Most requests held, as a multiple of `maxHeld`, when prefix gates hold some back. */
const HELD_BACK_FACTOR = 4;
/** Lanes' limits' worth of requests the engine keeps claimed (bench/README finding 30); `maxHeld` is sized by it. */
export const LIMITS_CLAIMED = 3;

/**
 * The pump: claims requests, calls the backend with at most `concurrency` calls in flight, and
 * hands results to the {@link ResultWriter}. Leases are renewed while calls run and until their
 * results are written ({@link LeaseRenewal}); a result is written only while this engine still
 * holds the request's lease.
 */
export class Engine {
  /** The requests being run, each with the promise that settles once it is done. */
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Aborted when the engine stops: the signal of every call it makes. */
  private readonly stopping = new AbortController();
  private readonly results: ResultWriter;
  private readonly routing: ProviderRouting;
  private readonly leases: LeaseRenewal;
  /** Params text of the requests held: claims stop adding to it past `CLAIM_PARAMS_BYTES`. */
  private heldParams = 0;
  /** Backend pauses and batches being canceled (their requests not yet sent are given back), as last read. */
  private readonly news: StoreNews;
  /** The suspect (store/quarantine.ts) this engine last claimed: no other is claimed while it runs or its result is unwritten. */
  private suspect: number | undefined;
  private pumping = false;
  /** Whether the last claim found fewer requests than it asked for: nothing more is queued. */
  private drained = false;
  private pumpScheduled = false;
  private pumpAgain = false;
  private running = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  /** How the requests of OpenAI batches are handled, by their batch's endpoint. */
  private readonly openAIKinds: (endpoint: string | null) => RequestKind;
  private readonly paramsBudget = new ParamsBudget(PARAMS_IN_FLIGHT_BYTES, PARAMS_PER_TURN_BYTES);
  private readonly prices: PriceList;

  constructor(private readonly options: EngineOptions) {
    this.openAIKinds = openAIRequests(() => options.clock.now());
    this.news = new StoreNews(options);
    this.prices = options.prices ?? new PriceList();
    // Calls wait while twice what the engine holds is under way or unwritten: a database that falls behind slows the calls.
    this.results = new ResultWriter({ ...options, maxUnwritten: 2 * options.maxHeld, onRouted: () => this.routing.report(this.drained && !this.pumping && this.inFlight.size === 0 && !this.results.routesWaiting) });
    this.routing = new ProviderRouting({ ...options, store: options.store.providerBatches, route: (route) => this.results.route(route) });
    this.leases = new LeaseRenewal({ ...options, held: () => [...this.inFlight.keys(), ...this.results.pendingKeys()] });
    // Every call in flight listens to it.
    setMaxListeners(0, this.stopping.signal);
  }

  start(): void {
    this.running = true;
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 250);
    this.leases.start();
    this.wake();
  }

  /** Looks for work now: called when a batch is created (`routed`: its requests went to the provider batches as it opened) and whenever a call finishes. */
  wake(routed = false): void {
    if (routed) this.routing.report(false);
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

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const now = this.options.clock.now();
        await this.news.refresh(now);
        // Routed in the store, more may be queued: the claim of a pass that routes nothing tells the provider batches.
        if ((await this.routing.routeQueued(now)) > 0) {
          [this.drained, this.pumpAgain] = [false, true];
          this.routing.report(false);
          await nextTurn();
          continue;
        }
        const free = this.claimable();
        const paramsRoom = CLAIM_PARAMS_BYTES - this.heldParams;
        if (free <= 0 || paramsRoom <= 0) break;
        const { store, owner, leaseMs, clusterLimit } = this.options;
        const claimed = await store.claimRequests(owner, free, now + leaseMs, now, clusterLimit, paramsRoom, this.suspectsClaimable());
        this.suspect = claimed.find((request) => request.suspect)?.key ?? this.suspect;
        // Fewer than asked, cut short neither by their params' size nor by a cluster limit: nothing more is queued.
        this.drained = clusterLimit === undefined && claimed.length < free && claimed.reduce((bytes, request) => bytes + Buffer.byteLength(request.params), 0) < paramsRoom;
        for (const request of claimed) if (!this.routing.routedWhole(request)) this.dispatch(request);
        // Routes still to be written report it themselves; with none, the provider batches hear it now.
        if (this.drained && this.routing.moreReported && this.inFlight.size === 0 && this.results.idle) this.routing.report(true);
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
   * How many requests to claim now. Alone on its store, the engine keeps {@link LIMITS_CLAIMED} times the lanes'
   * limits claimed and tops up a limit's worth at a time: claims are few and large (cheaper per request), and a
   * limit's worth waits beyond the calls in flight while a claim runs. Requests a prefix gate holds back while
   * slots are free do not count, so other groups come into view, up to {@link HELD_BACK_FACTOR} times `maxHeld`
   * in all. Under a cluster-wide limit, where every leased request counts, it claims only for free slots.
   */
  private claimable(): number {
    const { lanes, maxHeld, clusterLimit, providerSlots = 0 } = this.options;
    const held = this.inFlight.size;
    if (clusterLimit !== undefined) return Math.min(lanes.availableForBatch() + providerSlots, maxHeld - held);
    const open = lanes.openLimit();
    const target = Math.min(maxHeld, LIMITS_CLAIMED * open + providerSlots);
    const counted = held - lanes.heldBack();
    return counted > target - open ? 0 : Math.min(target - counted, HELD_BACK_FACTOR * maxHeld - held);
  }

  /** How many suspects the next claim may take: none while the one claimed last runs or its result is unwritten. */
  private suspectsClaimable(): number {
    const key = this.suspect;
    if (key !== undefined && (this.inFlight.has(key) || this.results.pendingKeys().includes(key))) return 0;
    this.suspect = undefined;
    return 1;
  }

  /** Told by the API of this process the moment a batch is canceled. */
  batchCanceling(batchId: string): void {
    this.news.canceled(batchId);
  }

  private dispatch(request: ClaimedRequest): void {
    const bytes = request.params.length;
    const done = this.run(request, this.stopping.signal)
      .catch((error: unknown) => {
        // A request the engine cannot handle ends errored instead of taking the process down.
        this.options.logger.error({ err: error, batch: request.batchId, customId: request.customId }, 'processing a request failed');
        this.results.complete(this.kindOf(request).errored(request.key, 'api_error', 'batchd could not process this request'));
      })
      .finally(() => {
        this.heldParams -= bytes;
        paramsGarbage.released(bytes);
        this.inFlight.delete(request.key);
        if (this.inFlight.size === 0) this.idle.splice(0).forEach((resolve) => resolve());
        this.wake();
      });
    this.heldParams += bytes;
    this.inFlight.set(request.key, done);
  }

  /** Runs one request as its kind says, once its params fit in the budget. */
  private async run(request: ClaimedRequest, signal: AbortSignal): Promise<void> {
    const giveBack = await this.paramsBudget.take(request.params.length);
    const release = await this.results.admit(signal);
    try {
      await this.runWithin(request, signal);
    } finally {
      release();
      giveBack();
    }
  }

  /** How a request is handled: by the dialect it came in through, and an OpenAI batch's by its endpoint. */
  private kindOf(request: ClaimedRequest): RequestKind {
    return request.dialect === 'messages' ? messagesRequests : this.openAIKinds(request.endpoint);
  }

  /** Parses, routes by model, calls, then stores, retries or fails. */
  private async runWithin(request: ClaimedRequest, signal: AbortSignal): Promise<void> {
    const kind = this.kindOf(request);
    const paramsText = request.params;
    // A long parse has a turn of the event loop of its own: the claim's work ends in the one before, the call's starts in the next.
    if (paramsText.length > PARAMS_PER_TURN_BYTES) await ownTurn();
    const parsed = kind.parse(paramsText);
    if (paramsText.length > PARAMS_PER_TURN_BYTES) await ownTurn();
    // From here the call holds the text (a backend that sends params unchanged sends it), not the request.
    request.params = '';
    if ('invalid' in parsed) {
      this.results.complete(kind.errored(request.key, 'invalid_request_error', parsed.invalid));
      return;
    }
    const provider = this.options.providerRoute?.(parsed.model);
    if (provider !== undefined) {
      // Provider batches carry Messages and chat completions requests; other OpenAI endpoints end here.
      if (request.endpoint && request.endpoint !== CHAT_COMPLETIONS) {
        this.results.complete(kind.errored(request.key, 'invalid_request_error', `${request.endpoint}: ${provider} is a provider batch backend, which runs /v1/chat/completions and Messages requests only`));
      } else this.results.route({ key: request.key, backend: provider });
      return;
    }
    const lane = this.options.lanes.for(parsed.model);
    if (!lane) {
      this.results.complete(kind.errored(request.key, 'not_found_error', `model: ${parsed.model} is not served by any configured backend`));
      return;
    }
    // A request claimed ahead may wait for its slot past its batch's expiry or cancel: it is then
    // not sent, but given back, and the store ends it expired or canceled.
    const stillWanted = () => this.options.clock.now() < request.expiresAt && !this.news.isCanceling(request.batchId);
    // Keyed at create by the lane that serves the model; a lane no longer cache-aware ignores it.
    const prefix = lane.gate && readStoredPrefix(request.prefixKey);
    const context = { key: request.key, lane, params: parsed.params, paramsText, signal, attempt: request.attempt, stillWanted, prefixKey: prefix?.key, prefixTokens: prefix?.tokens };
    const outcome = await kind.call(context);
    const now = this.options.clock.now();
    if (signal.aborted || outcome === null) return this.results.retry({ key: request.key, runAt: now });
    if (outcome.kind === 'succeeded') {
      this.results.complete(answerCost(this.prices, lane, outcome.completion, outcome.model, parsed.model));
      return;
    }
    const runAt = retryAt(outcome, request.attempt, now, request.expiresAt, this.options.retry);
    if (runAt === null) this.results.complete(kind.errored(request.key, outcome.errorType, outcome.message));
    else this.results.retry({ key: request.key, runAt });
  }

  /** Stops claiming, lets calls in flight finish for up to `graceMs`, aborts the rest and puts them back, and writes every result received. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    clearInterval(this.pollTimer);
    this.leases.stop();
    if (this.inFlight.size > 0) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timeout);
      const remaining = [...this.inFlight.values()];
      this.stopping.abort();
      await Promise.allSettled(remaining);
    }
    await this.results.stop();
  }
}
