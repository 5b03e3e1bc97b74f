import { batchdAndBareLoop, capacityRunDetails, startCapacityProvider } from '../support/capacity-run.js';
import { figure } from '../support/report.js';
import { runSdkScript } from '../support/run-script.js';
import type { SdkScriptReport } from '../support/sdk-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Params, type Scenario } from './scenario.js';

/**
 * A provider that serves `capacity` calls at once, each taking `latencyMs`, and answers 429
 * (retry-after 1 s) above that: no client can do better than capacity / latency calls a second,
 * and a bare loop told the capacity shows what is attainable on this machine. batchd starts
 * below the capacity and must find it by itself (its ceiling is `concurrency`).
 */

interface SdkArm {
  report: SdkScriptReport;
  received: number;
}

async function sdkArm(params: Params, concurrency: number, timeoutMs: number): Promise<SdkArm> {
  const provider = await startCapacityProvider(params);
  try {
    const report = await runSdkScript(
      { url: provider.url, requests: param(params, 'requests'), concurrency, textLength: param(params, 'textLength'), maxTokens: 64 },
      timeoutMs,
    );
    return { report, received: provider.received };
  } finally {
    await provider.close();
  }
}

export const saturation: Scenario = {
  name: 'saturation',
  summary: 'provider with capacity C=32 in flight and latency L=50 ms: throughput against a bare loop at C, and share of 429s',
  sizes: fullAndTiny({ requests: 10_000, capacity: 32, latencyMs: 50, concurrency: 64, sdkLow: 16, sdkHigh: 512, textLength: 20 }, { requests: 200 }),

  async run(params, context) {
    const requests = param(params, 'requests');
    const ideal = (param(params, 'capacity') / param(params, 'latencyMs')) * 1000;
    const { batchd, bareRate, timeoutMs } = await batchdAndBareLoop(params, context, ideal);
    const low = await sdkArm(params, param(params, 'sdkLow'), timeoutMs * 2);
    if (low.report.error) throw new Error(`the SDK script at ${param(params, 'sdkLow')} failed: ${low.report.error.message}`);
    const lowRate = low.report.completed / low.report.seconds;
    const high = await sdkArm(params, param(params, 'sdkHigh'), timeoutMs);
    const highRate = high.report.completed / high.report.seconds;
    const idealBaseline = { name: 'C/L', value: ideal };

    return {
      figures: [
        figure('batchd throughput', 'req/s', batchd.rate, { baseline: { name: 'bare loop at C', value: bareRate }, target: { on: 'ratio', compare: '>=', limit: 0.97 } }),
        figure('batchd 429 share', '%', batchd.share429, { target: { on: 'value', compare: '<=', limit: 1 } }),
        figure('batchd throughput vs C/L', 'req/s', batchd.rate, { baseline: idealBaseline }),
        figure('bare loop at C', 'req/s', bareRate, { baseline: idealBaseline }),
        figure(`SDK ${param(params, 'sdkLow')} throughput`, 'req/s', lowRate, { baseline: idealBaseline }),
        figure(`SDK ${param(params, 'sdkHigh')} completed`, '%', (100 * high.report.completed) / requests),
      ],
      details: {
        ...capacityRunDetails(batchd, param(params, 'latencyMs')),
        sdkLowSeconds: low.report.seconds,
        sdkLow429s: low.received - low.report.completed,
        sdkHighSeconds: high.report.seconds,
        sdkHighCompleted: high.report.completed,
        sdkHigh429Share: high.received === 0 ? 0 : (100 * (high.received - high.report.completed)) / high.received,
        sdkHighError: high.report.error ? `${high.report.error.name} (${high.report.error.status ?? 'no status'}): ${high.report.error.message}` : null,
        batchdVsSdkLow: batchd.rate / lowRate,
      },
    };
  },
};
