import type { BackendStatus } from '@batchd/sdk';
import type { Backend, BackendCall, BackendOutcome, ChatOutcome } from '../backends/backend.js';
import type { OpenStream } from '../backends/http-endpoint.js';
import { sendMessages } from '../translate/send-messages.js';
import { AdaptiveLimit } from './adaptive-limit.js';

export type Priority = 'interactive' | 'batch';

/** Counters a lane keeps for metrics and the dashboard. */
export type LaneStats = Pick<BackendStatus, 'calls' | 'succeeded' | 'rateLimited' | 'overloaded' | 'serverErrors' | 'authFailures'>;

export interface BackendLaneOptions {
  name: string;
  backend: Backend;
  /** Model name patterns this lane serves; `*` matches any run of characters. */
  models: string[];
  /** Most calls in flight; the adaptive limit stays at or below it. */
  ceiling: number;
  now?: () => number;
  /** Told when the provider says a budget is spent until `until`, so other nodes can pause too. */
  onPause?: (lane: string, until: number) => void;
  /** Told when the provider rejects our credentials (401/403), so an operator can act. */
  onAuthFailure?: (lane: string, outcome: BackendOutcome) => void;
}

/** What a call's answer is learnt against: the lane as it was when the call started. */
interface CallStart {
  /** Calls in flight, this one included. */
  inFlight: number;
  /** Every slot was taken: the limit, not the work, bounded the calls. */
  limitBound: boolean;
  epoch: number;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/**
 * One backend as the engine drives it: an adaptive concurrency limit, a pause while the
 * provider says a rate-limit budget is spent, and a wait line where interactive calls go first.
 */
export class BackendLane {
  readonly name: string;
  readonly backend: Backend;
  readonly limit: AdaptiveLimit;
  readonly stats: LaneStats = { calls: 0, succeeded: 0, rateLimited: 0, overloaded: 0, serverErrors: 0, authFailures: 0 };
  private readonly patterns: RegExp[];
  private readonly now: () => number;
  private readonly onAuthFailure: BackendLaneOptions['onAuthFailure'];
  private readonly onPause: BackendLaneOptions['onPause'];
  private running = 0;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private readonly waiting: Record<Priority, Array<(inFlight: number) => void>> = { interactive: [], batch: [] };

  constructor(options: BackendLaneOptions) {
    this.name = options.name;
    this.backend = options.backend;
    this.patterns = options.models.map(patternToRegExp);
    this.now = options.now ?? Date.now;
    this.limit = new AdaptiveLimit({ ceiling: options.ceiling, now: this.now });
    this.onAuthFailure = options.onAuthFailure;
    this.onPause = options.onPause;
  }

  serves(model: string): boolean {
    return this.patterns.some((pattern) => pattern.test(model));
  }

  get inFlight(): number {
    return this.running;
  }

  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /** How many more batch calls may start now without waiting. */
  availableForBatch(): number {
    if (this.paused) return 0;
    return Math.max(0, this.limit.limit - this.running - this.waiting.interactive.length - this.waiting.batch.length);
  }

  /**
   * Calls the backend once a slot is free, then learns from the answer. When `stillWanted`
   * says no once the slot is free, the call is not made and the answer is null.
   */
  async call(call: BackendCall, priority: Priority): Promise<BackendOutcome>;
  async call(call: BackendCall, priority: Priority, stillWanted: () => boolean): Promise<BackendOutcome | null>;
  async call(call: BackendCall, priority: Priority, stillWanted?: () => boolean): Promise<BackendOutcome | null> {
    return this.callWith((backend) => sendMessages(backend, call), priority, stillWanted);
  }

  /** As {@link call}, with the backend called by `send`: how requests of another dialect reach it. */
  async callWith<O extends BackendOutcome | ChatOutcome>(send: (backend: Backend) => Promise<O>, priority: Priority, stillWanted?: () => boolean): Promise<O | null> {
    const inFlightAtStart = await this.acquire(priority);
    if (stillWanted && !stillWanted()) {
      this.running--;
      this.release();
      return null;
    }
    const started = this.now();
    const limitBound = inFlightAtStart >= this.limit.limit;
    const epoch = this.limit.epoch;
    this.stats.calls++;
    try {
      const outcome = await send(this.backend);
      this.learn(outcome, this.now() - started, { inFlight: inFlightAtStart, limitBound, epoch });
      return outcome;
    } finally {
      this.running--;
      this.release();
    }
  }

  /**
   * Opens a streaming call as an interactive call; its slot is held until the stream closes.
   * Only for backends with `stream`.
   */
  async stream(call: BackendCall): Promise<OpenStream> {
    const open = this.backend.stream?.bind(this.backend);
    if (!open) throw new Error(`backend ${this.name} does not stream`);
    await this.acquire('interactive');
    this.stats.calls++;
    const done = () => {
      this.running--;
      this.release();
    };
    try {
      const answer = await open(call);
      if (answer.kind === 'stream') answer.body.once('close', done);
      else done();
      return answer;
    } catch (error) {
      done();
      throw error;
    }
  }

  private learn(outcome: BackendOutcome | ChatOutcome, latencyMs: number, start: CallStart): void {
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
   * Takes a slot at once when one is free and nobody of equal or higher priority waits; resolves
   * to the calls in flight once it has its slot, itself included.
   */
  private acquire(priority: Priority): Promise<number> {
    const free = !this.paused && this.running < this.limit.limit;
    const ahead = priority === 'interactive' ? this.waiting.interactive.length : this.waiting.interactive.length + this.waiting.batch.length;
    if (free && ahead === 0) {
      this.running++;
      return Promise.resolve(this.running);
    }
    return new Promise((resolve) => this.waiting[priority].push(resolve));
  }

  /** Hands free slots to waiters, interactive ones first. */
  private release(): void {
    while (!this.paused && this.running < this.limit.limit) {
      const next = this.waiting.interactive.shift() ?? this.waiting.batch.shift();
      if (!next) return;
      this.running++;
      next(this.running);
    }
  }
}
