/**
 * How many calls one backend may have in flight, adjusted from what the provider answers:
 * - slow start: +1 per success (the limit doubles each round trip) until the first overload;
 * - then +1 after `limit × probeRounds` successes, and only while latency stays near the
 *   fastest seen, so the limit probes above the provider's capacity rarely;
 * - on an overload signal (429, 529, 503, a timeout) it falls to 0.95 × the calls in flight,
 *   at most once per cool-down, so one burst of rejections cuts once.
 * `ceiling` bounds it (the operator's `--concurrency`).
 */
export interface AdaptiveLimitOptions {
  ceiling: number;
  initial?: number;
  /** Rounds of successes at the current limit before probing one higher. */
  probeRounds?: number;
  /** The fraction kept on an overload signal. */
  backoff?: number;
  /** Latency above this multiple of the fastest seen counts as unsteady: no growth. */
  latencyTolerance?: number;
  now?: () => number;
}

export class AdaptiveLimit {
  private value: number;
  private slowStart = true;
  private successes = 0;
  private fastestMs = Number.POSITIVE_INFINITY;
  private smoothedMs = 0;
  private cooldownUntil = 0;
  private readonly ceiling: number;
  private readonly probeRounds: number;
  private readonly backoff: number;
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(options: AdaptiveLimitOptions) {
    this.ceiling = options.ceiling;
    this.value = Math.min(options.initial ?? 8, options.ceiling);
    this.probeRounds = options.probeRounds ?? 3;
    this.backoff = options.backoff ?? 0.95;
    this.tolerance = options.latencyTolerance ?? 2;
    this.now = options.now ?? Date.now;
  }

  /** Whole calls allowed in flight now. */
  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  onSuccess(latencyMs: number): void {
    this.fastestMs = Math.min(this.fastestMs, latencyMs);
    this.smoothedMs = this.smoothedMs === 0 ? latencyMs : this.smoothedMs * 0.9 + latencyMs * 0.1;
    if (this.value >= this.ceiling) return;
    if (this.slowStart) {
      this.value = Math.min(this.ceiling, this.value + 1);
      return;
    }
    if (this.smoothedMs > this.fastestMs * this.tolerance + 5) return;
    this.successes++;
    if (this.successes >= this.limit * this.probeRounds) {
      this.successes = 0;
      this.value = Math.min(this.ceiling, this.value + 1);
    }
  }

  /** An answer that says the provider is over capacity; `inFlight` counts calls out when it came. */
  onOverload(inFlight: number): void {
    const now = this.now();
    this.slowStart = false;
    if (now < this.cooldownUntil) return;
    this.value = Math.max(1, Math.min(this.value, inFlight) * this.backoff);
    this.successes = 0;
    this.cooldownUntil = now + Math.max(50, this.smoothedMs);
  }
}
