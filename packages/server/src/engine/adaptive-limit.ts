/**
 * How many calls one backend may have in flight, adjusted from what the provider answers:
 * - slow start: from a sixteenth of the ceiling (at least 8), +1 per success of a call that
 *   found every slot taken, until the first overload. When an answer raises the limit, the lane
 *   starts two calls and only the second finds every slot taken, so the limit grows by about half
 *   each round trip, which keeps slow start's overshoot (429s at once) to half the capacity;
 * - on an overload signal (429, 529, 503, a timeout) it falls to `backoff` × the calls in flight
 *   and remembers that level: the provider's capacity as last seen. Only calls started since the
 *   last cut count (each call carries the `epoch` it started in), so one burst of rejections
 *   cuts once, and a limit still too high after a cut is cut again at once;
 * - below that level it climbs back each round trip by half the way to one below it (at least
 *   one), so a cut at a large capacity is made good in a few round trips; one below it, it holds, and probes
 *   the level again only after `probeIntervalMs`, an interval that doubles each time the probe
 *   is turned away again, so a provider at a steady capacity sees rare probes; a probe turned
 *   away sets the limit back to one below the level, where it held before;
 * - once a probe holds for `probeRounds` round trips, the capacity has grown: the level is
 *   forgotten and the limit probes upwards by one every `probeRounds` round trips.
 * It grows only from calls that started with every slot taken (a lane with spare slots learns
 * nothing about its capacity) and while latency stays near the lowest seen: the recent mean
 * (over about ten calls) against the lowest long-run mean (over about a hundred), so a provider
 * whose latency merely varies from call to call (a few fast answers among slow ones) does not
 * read as one that is queueing.
 * `ceiling` bounds it (the operator's `--concurrency`).
 */
export interface AdaptiveLimitOptions {
  ceiling: number;
  /** Defaults to a sixteenth of the ceiling, at least {@link MIN_INITIAL}. */
  initial?: number;
  /** Rounds of successes at or above the last overload level before probing one higher. */
  probeRounds?: number;
  /** The fraction kept on an overload signal. */
  backoff?: number;
  /** Recent latency above this multiple of the lowest long-run mean seen counts as unsteady: no growth. */
  latencyTolerance?: number;
  /** Wait at one below the last overload level before probing it again; doubles per failed probe. */
  probeIntervalMs?: number;
  /** The longest wait between probes of the same level. */
  maxProbeIntervalMs?: number;
  now?: () => number;
}

/** The least limit slow start begins at. */
const MIN_INITIAL = 8;

/** The weight of each answer in the long-run mean latency: about the last hundred count. */
const LONG_RUN_WEIGHT = 0.01;

export class AdaptiveLimit {
  private value: number;
  private slowStart = true;
  private successes = 0;
  /** Mean latency of the last ten calls or so. */
  private smoothedMs = 0;
  /** Mean latency of the last hundred calls or so (of all calls until there are a hundred), and the lowest it has been since. */
  private longRunMs = 0;
  private lowestLongRunMs = Number.POSITIVE_INFINITY;
  private answered = 0;
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
    this.value = Math.min(options.initial ?? Math.max(MIN_INITIAL, Math.floor(options.ceiling / 16)), options.ceiling);
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
    this.smoothedMs = this.smoothedMs === 0 ? latencyMs : this.smoothedMs * 0.9 + latencyMs * 0.1;
    this.answered++;
    const weight = Math.max(LONG_RUN_WEIGHT, 1 / this.answered);
    this.longRunMs = this.longRunMs * (1 - weight) + latencyMs * weight;
    if (weight === LONG_RUN_WEIGHT) this.lowestLongRunMs = Math.min(this.lowestLongRunMs, this.longRunMs);
    if (!limitBound || this.value >= this.ceiling) return;
    if (this.slowStart) {
      this.grow();
      return;
    }
    if (this.smoothedMs > this.lowestLongRunMs * this.tolerance + 5) return;
    this.successes++;
    const limit = this.limit;
    if (this.overloadLevel === 0 || limit >= this.overloadLevel) {
      if (this.successes < limit * this.probeRounds) return;
      // Held at or above the level where the provider last refused: its capacity has grown.
      this.overloadLevel = 0;
      this.probeWaitMs = this.probeIntervalMs;
      this.grow();
    } else if (this.successes >= limit && (limit < this.overloadLevel - 1 || this.now() >= this.nextProbeAt)) {
      // A round trip below the level climbs half the way back; one below it, only a due probe climbs one.
      this.grow(Math.max(1, Math.floor((this.overloadLevel - 1 - limit) / 2)));
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
    const known = this.overloadLevel;
    // A probe turned away at the level already known: the capacity is as it was, so the limit goes
    // back to one below it (not below that), and waits longer before the next probe.
    const probeRefused = known !== 0 && level >= known;
    if (probeRefused) this.probeWaitMs = Math.min(this.maxProbeIntervalMs, this.probeWaitMs * 2);
    this.overloadLevel = probeRefused ? known : Math.ceil(level);
    this.nextProbeAt = now + this.probeWaitMs;
    this.value = probeRefused ? Math.max(1, known - 1) : Math.max(1, level * this.backoff);
    this.successes = 0;
    this.cuts++;
  }

  private grow(step = 1): void {
    this.successes = 0;
    this.value = Math.min(this.ceiling, Math.floor(this.value) + step);
  }
}
