import { batchdAndBareLoop, capacityRunDetails } from '../support/capacity-run.js';
import { figure } from '../support/report.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Scenario } from './scenario.js';

/**
 * Saturation at a larger capacity with jittered latency: each call takes a log-normal time
 * (median 200 ms, p99 1 s, drawn from a seed in arrival order), so latency alone says little about
 * load and batchd must find C = 256 from the 429s. The bare loop at C sees the same draws.
 */

/** The mean of a log-normal latency given its median and p99: median × exp(σ² / 2). */
function meanLatencyMs(medianMs: number, p99Ms: number): number {
  const sigma = Math.log(p99Ms / medianMs) / 2.3263478740408408;
  return medianMs * Math.exp((sigma * sigma) / 2);
}

export const saturationJitter: Scenario = {
  name: 'saturation-jitter',
  summary: 'provider with capacity C=256 in flight and log-normal latency (median 200 ms, p99 1 s): throughput against a bare loop at C, and share of 429s',
  sizes: fullAndTiny({ requests: 30_000, capacity: 256, medianMs: 200, p99Ms: 1000, seed: 1, concurrency: 512, textLength: 20 }, { requests: 1_000 }),

  async run(params, context) {
    const meanMs = meanLatencyMs(param(params, 'medianMs'), param(params, 'p99Ms'));
    const ideal = (param(params, 'capacity') / meanMs) * 1000;
    const { batchd, bareRate } = await batchdAndBareLoop(params, context, ideal);
    const idealBaseline = { name: 'C/mean L', value: ideal };
    return {
      figures: [
        figure('batchd throughput', 'req/s', batchd.rate, { baseline: { name: 'bare loop at C', value: bareRate }, target: { on: 'ratio', compare: '>=', limit: 0.95 } }),
        figure('batchd 429 share', '%', batchd.share429, { target: { on: 'value', compare: '<=', limit: 1 } }),
        figure('bare loop at C', 'req/s', bareRate, { baseline: idealBaseline }),
      ],
      details: { ...capacityRunDetails(batchd, meanMs), meanLatencyMs: meanMs },
    };
  },
};
