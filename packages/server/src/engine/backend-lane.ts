import type { BackendStatus } from '@batchd/sdk';
import type { Backend, BackendOutcome, ChatAnswer, ChatOutcome } from '../backends/backend.js';
import type { OpenStream } from '../backends/http-endpoint.js';
import { matchesAnyModel } from '../model-pattern.js';
import type { Dialect, UsageTotals } from '../store/store.js';
import { prefixKey, type PrefixKey } from '../translate/prefix-key.js';
import { sendMessages } from '../translate/send-messages.js';
import { AdaptiveLimit } from './adaptive-limit.js';
import { cachedTokensOf, PrefixGate, type PrefixRef } from './prefix-gate.js';

export type Priority = 'interactive' | 'batch';

/** Counters a lane keeps for metrics and the dashboard. */
export type LaneStats = Pick<BackendStatus, 'calls' | 'succeeded' | 'rateLimited' | 'overloaded' | 'serverErrors' | 'authFailures'>;

/** Tokens of the answers written for requests sent through a lane; `input` counts uncached input only. */
export interface LaneTokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Adds an answer's usage to `tokens`. */
export function addTokens(tokens: LaneTokens, usage: UsageTotals): void {
  tokens.input += usage.input_tokens;
  tokens.output += usage.output_tokens;
  tokens.cacheRead += usage.cache_read_input_tokens;
  tokens.cacheWrite += usage.cache_creation_input_tokens;
}

export interface BackendLaneOptions {
  name: string;
  backend: Backend;
  /** The backend's type as configured (`anthropic`, `openai`, `anthropic-batch`, …); defaults to `emulator`. */
  kind?: string;
  /** Model name patterns this lane serves; `*` matches any run of characters. */
  models: string[];
  /** Most calls in flight; the adaptive limit stays at or below it. */
  ceiling: number;
  now?: () => number;
  /** Told when the provider says a budget is spent until `until`, so other nodes can pause too. */
  onPause?: (lane: string, until: number) => void;
  /** Told when the provider rejects our credentials (401/403), so an operator can act. */
  onAuthFailure?: (lane: string, outcome: BackendOutcome) => void;
  /**
   * Cache-aware calls (see {@link PrefixGate}); absent, calls go in arrival order. With
   * `breakpointsOnly`, only prefixes ending at a `cache_control` breakpoint count (a provider that
   * caches only on request); `capacityTokens` is the size of the provider's prefix cache.
   */
  prefixCache?: { breakpointsOnly: boolean; capacityTokens?: number };
}

/** What a batch call waits with, besides its priority. */
export interface CallOptions {
  /** Asked once a slot is free: when it says no, the call is not made and the answer is null. */
  stillWanted?: () => boolean;
  /** The request's prefix key and size (see {@link BackendLane.prefixOf}), for cache-aware calls. */
  prefixKey?: string;
  prefixTokens?: number;
}

interface Waiter {
  resolve: (inFlight: number) => void;
  prefix?: PrefixRef;
}

/** What a call's answer is learnt against: the lane as it was when the call started. */
interface CallStart {
  /** Calls in flight, this one included. */
  inFlight: number;
  /** Every slot was taken: the limit, not the work, bounded the calls. */
  limitBound: boolean;
  epoch: number;
}

/**
 * One backend as the engine drives it: an adaptive concurrency limit, a pause while the
 * provider says a rate-limit budget is spent, and a wait line where interactive calls go first.
 */
export class BackendLane {
  readonly name: string;
  readonly backend: Backend;
  /** The backend's type as configured: calls are priced by it. */
  readonly kind: string;
  readonly limit: AdaptiveLimit;
  readonly stats: LaneStats = { calls: 0, succeeded: 0, rateLimited: 0, overloaded: 0, serverErrors: 0, authFailures: 0 };
  /** Tokens of the batch answers written, for metrics; the engine adds to them. */
  readonly tokens: LaneTokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  private readonly servesModel: (model: string) => boolean;
  private readonly now: () => number;
  private readonly onAuthFailure: BackendLaneOptions['onAuthFailure'];
  private readonly onPause: BackendLaneOptions['onPause'];
  private running = 0;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private readonly waiting: Record<Priority, Waiter[]> = { interactive: [], batch: [] };
  private readonly prefixCache: BackendLaneOptions['prefixCache'];
  /** Present when the lane is cache-aware. */
  readonly gate: PrefixGate | undefined;
  /** The backend has several replicas, each with a cache of its own. */
  private readonly replicated: boolean;

  constructor(options: BackendLaneOptions) {
    this.name = options.name;
    this.backend = options.backend;
    this.kind = options.kind ?? 'emulator';
    this.servesModel = matchesAnyModel(options.models);
    this.now = options.now ?? Date.now;
    this.limit = new AdaptiveLimit({ ceiling: options.ceiling, now: this.now });
    this.onAuthFailure = options.onAuthFailure;
    this.onPause = options.onPause;
    this.prefixCache = options.prefixCache;
    // A provider that caches only on request (Anthropic) keeps entries for minutes, far more than a batch has in flight.
    const learn = options.prefixCache?.breakpointsOnly === false;
    this.gate = options.prefixCache && new PrefixGate({ capacityTokens: options.prefixCache.capacityTokens, learn });
    this.replicated = options.backend.hasRoomFor !== undefined && (options.backend.replicas?.().length ?? 0) > 1;
  }

  /** True when the lane groups only prefixes that end at a `cache_control` breakpoint. */
  get breakpointsOnly(): boolean {
    return this.prefixCache?.breakpointsOnly ?? false;
  }

  /** The prefix this lane groups a request by, when it is cache-aware and the request has one its provider caches. */
  prefixOf(params: Record<string, unknown>, dialect: Dialect): PrefixKey | undefined {
    return this.prefixCache && prefixKey(params, dialect, { breakpointsOnly: this.prefixCache.breakpointsOnly });
  }

  serves(model: string): boolean {
    return this.servesModel(model);
  }

  get inFlight(): number {
    return this.running;
  }

  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /** Batch calls its prefix gate holds back while slots are free: waiting for a group's first answer, or for room in the cache. */
  heldBack(): number {
    return this.gate && !this.paused && this.running < this.limit.limit ? this.gate.waiting : 0;
  }

  /** How many more batch calls may start now without waiting. */
  availableForBatch(): number {
    if (this.paused) return 0;
    return Math.max(0, this.limit.limit - this.running - this.waiting.interactive.length - this.waiting.batch.length);
  }

  /**
   * Calls the backend with Messages params (and their text, when at hand) once a slot is free,
   * then learns from the answer; `routingKey` picks the replica (see `backends/replicas/`).
   */
  async call(params: Record<string, unknown>, signal: AbortSignal, priority: Priority, routingKey?: string, paramsText?: string): Promise<BackendOutcome> {
    return (await this.callWith((backend) => sendMessages(backend, { params, paramsText, signal, routingKey }), priority))!;
  }

  /**
   * As {@link call}, with the backend called by `send`. When `stillWanted` says no once the slot
   * is free, the call is not made and the answer is null. A call with a prefix waits its turn in
   * the lane's {@link PrefixGate}.
   */
  async callWith<O extends BackendOutcome | ChatOutcome | ChatAnswer>(send: (backend: Backend) => Promise<O>, priority: Priority, options: CallOptions = {}): Promise<O | null> {
    const prefix = this.gate && options.prefixKey !== undefined ? { key: options.prefixKey, tokens: options.prefixTokens ?? 0 } : undefined;
    const inFlightAtStart = await this.acquire(priority, prefix);
    if (options.stillWanted && !options.stillWanted()) {
      this.running--;
      this.finishPrefix(prefix, undefined);
      this.release();
      return null;
    }
    const started = this.now();
    const limitBound = inFlightAtStart >= this.limit.limit;
    const epoch = this.limit.epoch;
    this.stats.calls++;
    let answered: O | undefined;
    try {
      answered = await send(this.backend);
      this.learn(answered, this.now() - started, { inFlight: inFlightAtStart, limitBound, epoch });
      return answered;
    } finally {
      this.running--;
      this.finishPrefix(prefix, answered);
      this.release();
    }
  }

  /** Tells the gate a call of `prefix` ended: not sent (no outcome), failed, or answered. */
  private finishPrefix(prefix: PrefixRef | undefined, outcome: BackendOutcome | ChatOutcome | ChatAnswer | undefined): void {
    if (!prefix) return;
    this.gate!.finish(prefix, outcome === undefined ? 'not-sent' : outcome.kind === 'error' ? 'failed' : { cachedTokens: cachedTokensOf(outcome) });
  }

  /**
   * Opens a streaming call with `open` as an interactive call; its slot is held until the stream
   * closes. `open` calls the backend's own stream (`stream`, `streamChat`).
   */
  async stream(open: (backend: Backend) => Promise<OpenStream>): Promise<OpenStream> {
    await this.acquire('interactive');
    this.stats.calls++;
    const done = () => {
      this.running--;
      this.release();
    };
    try {
      const answer = await open(this.backend);
      if (answer.kind === 'stream') answer.body.once('close', done);
      else done();
      return answer;
    } catch (error) {
      done();
      throw error;
    }
  }

  private learn(outcome: BackendOutcome | ChatOutcome | ChatAnswer, latencyMs: number, start: CallStart): void {
    const exhaustedUntil = this.backend.rateLimit?.().exhaustedUntilMs;
    if (exhaustedUntil !== undefined && exhaustedUntil > this.pausedUntil && exhaustedUntil > this.now()) {
      this.pause(exhaustedUntil);
      this.onPause?.(this.name, exhaustedUntil);
    }
    if (outcome.kind !== 'error') {
      this.stats.succeeded++;
      this.limit.onSuccess(latencyMs, start.limitBound);
      return;
    }
    const { status } = outcome;
    if (status === 429) this.stats.rateLimited++;
    if (status === 529 || status === 503) this.stats.overloaded++;
    if (status >= 500) this.stats.serverErrors++;
    if (status === 401 || status === 403) {
      this.stats.authFailures++;
      this.onAuthFailure?.(this.name, outcome);
    }
    if (status === 429 || status === 529 || status === 503 || outcome.errorType === 'timeout_error') this.limit.onOverload(start.inFlight, start.epoch);
  }

  /** Holds calls until `until`: the provider (or another node) said a budget is spent. */
  pause(until: number): void {
    if (until <= this.now() || until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.resumeAtPauseEnd();
  }

  /** Hands slots to waiters when the pause ends; a timer that fires a little early waits again. */
  private resumeAtPauseEnd(): void {
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => (this.paused ? this.resumeAtPauseEnd() : this.release()), Math.max(1, this.pausedUntil - this.now()));
    this.pauseTimer.unref();
  }

  /**
   * Waits in line for a slot (taken at once when one is free and nobody of equal or higher
   * priority that may go waits); resolves to the calls in flight once it has its slot, itself included.
   */
  private acquire(priority: Priority, prefix?: PrefixRef): Promise<number> {
    if (prefix) this.gate!.enqueue(prefix);
    const slot = new Promise<number>((resolve) => this.waiting[priority].push({ resolve, prefix }));
    this.release();
    return slot;
  }

  /** Hands free slots to waiters: interactive ones first, then the first batch call its prefix gate lets go. */
  private release(): void {
    while (!this.paused && this.running < this.limit.limit) {
      const next = this.waiting.interactive.shift() ?? this.nextBatchCall();
      if (!next) return;
      if (next.prefix) this.gate!.start(next.prefix);
      this.running++;
      next.resolve(this.running);
    }
  }

  /**
   * Takes the first waiting batch call that may go: one without a prefix or of a group already
   * running and primed, else the first of a group the gate lets start, so a group's requests run
   * close together. On a backend of several replicas, a call whose replica has room goes before
   * one that would spill onto a replica whose cache lacks its prefix.
   */
  private nextBatchCall(): Waiter | undefined {
    const line = this.waiting.batch;
    const gate = this.gate;
    if (!gate) return line.shift();
    const warm = (waiter: Waiter) => !waiter.prefix || gate.warm(waiter.prefix);
    const starts = (waiter: Waiter) => waiter.prefix !== undefined && gate.admits(waiter.prefix);
    const roomy = this.replicated ? (waiter: Waiter) => !waiter.prefix || this.backend.hasRoomFor!(waiter.prefix.key) : undefined;
    const ways = roomy ? [(w: Waiter) => warm(w) && roomy(w), (w: Waiter) => starts(w) && roomy(w), warm, starts] : [warm, starts];
    let index = -1;
    for (const may of ways) if (index < 0) index = line.findIndex(may);
    return index < 0 ? undefined : line.splice(index, 1)[0];
  }
}
