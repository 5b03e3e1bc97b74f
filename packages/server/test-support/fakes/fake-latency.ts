/** Seeded randomness for the fake provider: faults and latencies that are the same on every run. */

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A log-normal latency given by its median and 99th percentile, drawn from a seeded PRNG. */
export interface LogNormalLatency {
  medianMs: number;
  p99Ms: number;
  /** Defaults to 1. */
  seed?: number;
}

/** The standard normal's 99th percentile. */
const Z_99 = 2.3263478740408408;

/**
 * Draws latencies in milliseconds: exp(μ + σz) with μ = ln(median), σ = ln(p99 / median) / z₀.₉₉
 * and z standard normal (Box–Muller), so half the draws fall below the median and 1 % above p99.
 */
export function logNormalLatency(distribution: LogNormalLatency): () => number {
  if (!(distribution.medianMs > 0) || !(distribution.p99Ms >= distribution.medianMs)) {
    throw new Error(`a log-normal latency needs 0 < median ≤ p99, got median ${distribution.medianMs} ms, p99 ${distribution.p99Ms} ms`);
  }
  const random = seededRandom(distribution.seed ?? 1);
  const mu = Math.log(distribution.medianMs);
  const sigma = Math.log(distribution.p99Ms / distribution.medianMs) / Z_99;
  return () => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.exp(mu + sigma * z);
  };
}
