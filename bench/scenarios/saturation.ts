import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { runBatchAgainstProvider } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { runBareLoop, runSdkScript } from '../support/run-script.js';
import type { SdkScriptReport } from '../support/sdk-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Params, type Scenario } from './scenario.js';

/**
 * A provider that serves `capacity` calls at once, each taking `latencyMs`, and answers 429
 * (retry-after 1 s) above that: the best anyone can do is capacity / latency calls a second.
 * batchd starts below the capacity and must find it by itself (its ceiling is `concurrency`).
 */

function startProvider(params: Params): Promise<FakeProvider> {
  return FakeProvider.start({ shape: 'anthropic', capacity: param(params, 'capacity'), latencyMs: param(params, 'latencyMs'), record: false });
}

interface SdkArm {
  report: SdkScriptReport;
  received: number;
}

async function sdkArm(params: Params, concurrency: number, timeoutMs: number): Promise<SdkArm> {
  const provider = await startProvider(params);
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

/** A keep-alive HTTP loop sending exactly `capacity` calls at a time: what is attainable here. */
async function bareArm(params: Params, timeoutMs: number) {
  const provider = await startProvider(params);
  try {
    const options = { url: provider.url, requests: param(params, 'requests'), concurrency: param(params, 'capacity'), textLength: param(params, 'textLength'), maxTokens: 64 };
    return await runBareLoop(options, timeoutMs);
  } finally {
    await provider.close();
  }
}

export const saturation: Scenario = {
  name: 'saturation',
  summary: 'provider with capacity C=32 in flight and latency L=50 ms: throughput as a fraction of C/L and share of 429s',
  sizes: fullAndTiny({ requests: 10_000, capacity: 32, latencyMs: 50, concurrency: 64, sdkLow: 16, sdkHigh: 512, textLength: 20 }, { requests: 200 }),

  async run(params, context) {
    const requests = param(params, 'requests');
    const ideal = (param(params, 'capacity') / param(params, 'latencyMs')) * 1000;
    const timeoutMs = 30_000 + (requests / ideal) * 4000;
    const body = createBodyBuffer(requests, (i) => messageParams(i, param(params, 'textLength'), 64));

    const provider = await startProvider(params);
    let run;
    let service;
    try {
      run = await runBatchAgainstProvider({
        provider,
        dir: context.workDir,
        concurrency: param(params, 'concurrency'),
        body,
        requests,
        pollMs: 20,
        timeoutMs,
        sampleBackendMs: 50,
        cpuProfileDir: context.cpuProfileDir,
      });
      service = provider.service;
    } finally {
      await provider.close();
    }
    const processingSeconds = run.seconds - run.createSeconds;
    const rate = requests / processingSeconds;
    const share429 = (100 * run.backend.rateLimited) / run.backend.calls;
    context.log(`batchd: ${rate.toFixed(0)} req/s, ${share429.toFixed(2)}% 429`);

    const low = await sdkArm(params, param(params, 'sdkLow'), timeoutMs * 2);
    if (low.report.error) throw new Error(`the SDK script at ${param(params, 'sdkLow')} failed: ${low.report.error.message}`);
    const lowRate = low.report.completed / low.report.seconds;
    const high = await sdkArm(params, param(params, 'sdkHigh'), timeoutMs);
    const bare = await bareArm(params, timeoutMs);
    if (bare.refused > 0) throw new Error(`the bare loop at the capacity was refused ${bare.refused} times`);
    const bareRate = bare.completed / bare.seconds;
    const highRate = high.report.completed / high.report.seconds;
    const idealBaseline = { name: 'C/L', value: ideal };

    return {
      figures: [
        figure('batchd throughput', 'req/s', rate, { baseline: idealBaseline, target: { on: 'ratio', compare: '>=', limit: 0.95 } }),
        figure('batchd 429 share', '%', share429, { target: { on: 'value', compare: '<=', limit: 1 } }),
        figure('bare loop at C', 'req/s', bareRate, { baseline: idealBaseline }),
        figure(`SDK ${param(params, 'sdkLow')} throughput`, 'req/s', lowRate, { baseline: idealBaseline }),
        figure(`SDK ${param(params, 'sdkHigh')} completed`, '%', (100 * high.report.completed) / requests),
      ],
      details: {
        batchdSeconds: processingSeconds,
        createSeconds: run.createSeconds,
        serverCpuSeconds: run.serverCpuSeconds,
        batchdCalls: run.backend.calls,
        batchdRateLimited: run.backend.rateLimited,
        concurrencyLimitAtEnd: run.backend.concurrency_limit,
        meanConcurrencyLimit: run.lane.meanLimit,
        meanInFlightInBatchd: run.lane.meanInFlight,
        meanInFlightAtProvider: (rate * param(params, 'latencyMs')) / 1000,
        meanBackendsRequestMs: run.lane.meanRequestMs,
        providerMeanServiceMs: service.meanServiceMs,
        providerUtilization: service.utilization,
        sdkLowSeconds: low.report.seconds,
        sdkLow429s: low.received - low.report.completed,
        sdkHighSeconds: high.report.seconds,
        sdkHighCompleted: high.report.completed,
        sdkHigh429Share: high.received === 0 ? 0 : (100 * (high.received - high.report.completed)) / high.received,
        sdkHighError: high.report.error ? `${high.report.error.name} (${high.report.error.status ?? 'no status'}): ${high.report.error.message}` : null,
        batchdVsSdkLow: rate / lowRate,
        batchdVsBareLoop: rate / bareRate,
      },
    };
  },
};
