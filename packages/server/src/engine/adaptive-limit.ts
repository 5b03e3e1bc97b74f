/**
 * How many calls one backend may have in flight, adjusted from what the provider answers:
 * - slow start: +1 per success (the limit doubles each round trip) until the first overload;
 * - on an overload signal (429, 529, 503, a timeout) it falls to `backoff` × the calls in flight
 *   and remembers that level: the provider's capacity as last seen. Only calls started since the
 *   last cut count (each call carries the `epoch` it started in), so one burst of rejections
 *   cuts once, and a limit still too high after a cut is cut again at once;
 * - below that level it climbs back by one per round trip; one below it, it holds, and probes
 *   the level again only after `probeIntervalMs`, an interval that doubles each time the probe
 *   is turned away again, so a provider at a steady capacity sees rare probes;
 * - once a probe holds for `probeRounds` round trips, the capacity has grown: the level is
 *   forgotten and the limit probes upwards by one every `probeRounds` round trips.
 * It grows only from calls that started with every slot taken (a lane with spare slots learns
 * nothing about its capacity) and while latency stays near the fastest seen.
 * `ceiling` bounds it (the operator's `--concurrency`).
 */
export interface AdaptiveLimitOptions {
  ceiling: number;
  initial?: number;
  /** Rounds of successes at or above the last overload level before probing one higher. */
  probeRounds?: number;
  /** The fraction kept on an overload signal. */
  backoff?: number;
  /** Latency above this multiple of the fastest seen counts as unsteady: no growth. */
  latencyTolerance?: number;
  /** Wait at one below the last overload level before probing it again; doubles per failed probe. */
  probeIntervalMs?: number;
  /** The longest wait between probes of the same level. */
  maxProbeIntervalMs?: number;
  now?: () => number;
}

export class AdaptiveLimit {
  private value: number;
  private slowStart = true;
  private successes = 0;
  private fastestMs = Number.POSITIVE_INFINITY;
  private smoothedMs = 0;
  private cuts = 0;
  /** Calls in flight when the provider last said it was over capacity; 0 when unknown. */
  private overloadLevel = 0;
  private probeWaitMs: number;
  private nextProbeAt = 0;
  private readonly ceiling: number;
  private readonly probeRounds: number;
  private readonly backoff: number;
  private readonly tolerance: number;
  private readonly probeIntervalMs: number;
  private readonly maxProbeIntervalMs: number;
  private readonly now: () => number;

  constructor(options: AdaptiveLimitOptions) {
    this.ceiling = options.ceiling;
    this.value = Math.min(options.initial ?? 8, options.ceiling);
    this.probeRounds = options.probeRounds ?? 3;
    this.backoff = options.backoff ?? 0.95;
    this.tolerance = options.latencyTolerance ?? 2;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.maxProbeIntervalMs = options.maxProbeIntervalMs ?? 30_000;
    this.probeWaitMs = this.probeIntervalMs;
    this.now = options.now ?? Date.now;
  }

  /** Whole calls allowed in flight now. */
  get limit(): number {
    return Math.max(1, Math.floor(this.value));
  }

  /** A call answered; `limitBound` says it started with every slot taken. */
  onSuccess(latencyMs: number, limitBound = true): void {
    this.fastestMs = Math.min(this.fastestMs, latencyMs);
    this.smoothedMs = this.smoothedMs === 0 ? latencyMs : this.smoothedMs * 0.9 + latencyMs * 0.1;
    if (!limitBound || this.value >= this.ceiling) return;
    if (this.slowStart) {
      this.grow();
      return;
    }
    if (this.smoothedMs > this.fastestMs * this.tolerance + 5) return;
    this.successes++;
    const limit = this.limit;
    if (this.overloadLevel === 0 || limit >= this.overloadLevel) {
      if (this.successes < limit * this.probeRounds) return;
      // Held at or above the level where the provider last refused: its capacity has grown.
      this.overloadLevel = 0;
      this.probeWaitMs = this.probeIntervalMs;
      this.grow();
    } else if (this.successes >= limit && (limit < this.overloadLevel - 1 || this.now() >= this.nextProbeAt)) {
      // A round trip below the level climbs one; one below it, only a due probe does.
      this.grow();
    }
  }

  /** Counts the cuts so far: a call started in an earlier epoch says nothing about the current limit. */
  get epoch(): number {
    return this.cuts;
  }

  /**
   * An answer that says the provider is over capacity, to a call that started in `epoch` with
   * `inFlight` calls out (itself included).
   */
  onOverload(inFlight: number, epoch: number): void {
    this.slowStart = false;
    if (epoch < this.cuts) return;
    const now = this.now();
    const level = Math.max(1, Math.min(this.value, inFlight));
    // A probe turned away at the level already known: wait longer before the next one.
    if (this.overloadLevel !== 0 && level >= this.overloadLevel) this.probeWaitMs = Math.min(this.maxProbeIntervalMs, this.probeWaitMs * 2);
    this.overloadLevel = Math.ceil(level);
    this.nextProbeAt = now + this.probeWaitMs;
    this.value = Math.max(1, level * this.backoff);
    this.successes = 0;
    this.cuts++;
  }

  private grow(): void {
    this.successes = 0;
    this.value = Math.min(this.ceiling, Math.floor(this.value) + 1);
  }
}
