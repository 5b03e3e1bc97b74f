/**
 * The life of a provider batch in the fake batch providers, worked out from the clock whenever it
 * is read (no timers): each request finishes `delayMs + index * perRequestMs` after the create,
 * unless its script says `never`; a cancel ends the requests not finished by then as canceled
 * (the batch ends `cancelDelayMs` later); the requests not finished `expiresAfterMs` after the
 * create end expired.
 */

/** An error a request is scripted to end with. */
export interface ScriptedError {
  status: number;
  type: string;
  message: string;
}

/** What becomes of one request: answered, a scripted error, or never finished (until cancel or expiry). */
export type RequestScript = 'succeed' | 'never' | ScriptedError;

export type RequestState = 'processing' | 'succeeded' | 'errored' | 'canceled' | 'expired';

/** The timing of the fake's batches; the fields may be changed while it runs. */
export interface BatchTiming {
  /** From create until the requests finish. Defaults to 0. */
  delayMs: number;
  /** Added per request, by its index: the requests finish one after another. Defaults to 0. */
  perRequestMs: number;
  /** From create until unfinished requests expire. Defaults to 24 hours. */
  expiresAfterMs: number;
  /** From a cancel until the batch ends. Defaults to 0. */
  cancelDelayMs: number;
}

export const DEFAULT_TIMING: BatchTiming = { delayMs: 0, perRequestMs: 0, expiresAfterMs: 24 * 3_600_000, cancelDelayMs: 0 };

export interface FakeRequest {
  customId: string;
  /** The request's body, parsed. */
  body: unknown;
  script: RequestScript;
  /** When it finishes, or Infinity for never. */
  doneAtMs: number;
}

export class FakeBatch {
  readonly id: string;
  readonly createdAtMs: number;
  readonly requests: FakeRequest[];
  readonly expiresAtMs: number;
  readonly #cancelDelayMs: number;
  cancelAtMs?: number;
  readonly #lastDoneMs: number;

  constructor(id: string, createdAtMs: number, requests: { customId: string; body: unknown; script: RequestScript }[], timing: BatchTiming) {
    this.id = id;
    this.createdAtMs = createdAtMs;
    this.expiresAtMs = createdAtMs + timing.expiresAfterMs;
    this.#cancelDelayMs = timing.cancelDelayMs;
    this.requests = requests.map((request, index) => ({
      ...request,
      doneAtMs: request.script === 'never' ? Number.POSITIVE_INFINITY : createdAtMs + timing.delayMs + index * timing.perRequestMs,
    }));
    this.#lastDoneMs = this.requests.reduce((last, request) => Math.max(last, request.doneAtMs), createdAtMs);
  }

  /** When the requests stop being worked on: all finished, canceled, or expired. */
  get #cutoffMs(): number {
    return Math.min(this.#lastDoneMs, this.cancelAtMs ?? Number.POSITIVE_INFINITY, this.expiresAtMs);
  }

  /** When the batch ends (a cancel takes `cancelDelayMs`). */
  get endsAtMs(): number {
    if (this.cancelAtMs !== undefined && this.cancelAtMs < Math.min(this.#lastDoneMs, this.expiresAtMs)) return this.cancelAtMs + this.#cancelDelayMs;
    return this.#cutoffMs;
  }

  ended(nowMs: number): boolean {
    return nowMs >= this.endsAtMs;
  }

  /** Cancels at `nowMs` unless the batch has ended or is already canceling. */
  cancel(nowMs: number): void {
    if (this.cancelAtMs === undefined && !this.ended(nowMs)) this.cancelAtMs = nowMs;
  }

  /** Why the batch ended (or will): every request finished, a cancel, or expiry. */
  get endReason(): 'completed' | 'canceled' | 'expired' {
    const cutoff = this.#cutoffMs;
    if (cutoff === this.cancelAtMs) return 'canceled';
    return cutoff === this.expiresAtMs && this.#lastDoneMs > cutoff ? 'expired' : 'completed';
  }

  /** A request's state at `nowMs`. */
  stateOf(request: FakeRequest, nowMs: number): RequestState {
    const cutoff = this.#cutoffMs;
    if (request.doneAtMs <= Math.min(nowMs, cutoff)) return request.script === 'succeed' ? 'succeeded' : 'errored';
    if (nowMs < cutoff) return 'processing';
    return cutoff === this.cancelAtMs ? 'canceled' : 'expired';
  }

  /** How many requests are in each state at `nowMs`. */
  counts(nowMs: number): Record<RequestState, number> {
    const counts: Record<RequestState, number> = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const request of this.requests) counts[this.stateOf(request, nowMs)] += 1;
    return counts;
  }
}
