import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import type { Params, RunContext } from '../scenarios/scenario.js';
import { param } from '../scenarios/scenario.js';
import { runBatchAgainstProvider, type ProviderRunReport } from './provider-run.js';
import { createBodyBuffer, messageParams } from './request-bodies.js';
import { runBareLoop } from './run-script.js';

/**
 * A provider that serves `capacity` calls at once and answers 429 (retry-after 1 s) above that,
 * each call taking `latencyMs`, or a log-normal draw (`medianMs`, `p99Ms`, `seed`) when the
 * parameters name one; and the two clients the saturation scenarios compare on it: batchd, which
 * must find the capacity by itself under its `concurrency` ceiling, and a bare keep-alive loop
 * told the capacity (what is attainable here). Each gets a fresh provider with the same latencies.
 */

export function startCapacityProvider(params: Params): Promise<FakeProvider> {
  const capacity = param(params, 'capacity');
  if (params.p99Ms === undefined) return FakeProvider.start({ shape: 'anthropic', capacity, latencyMs: param(params, 'latencyMs'), record: false });
  const latency = { medianMs: param(params, 'medianMs'), p99Ms: param(params, 'p99Ms'), seed: param(params, 'seed') };
  return FakeProvider.start({ shape: 'anthropic', capacity, latency, record: false });
}

export interface CapacityRun {
  run: ProviderRunReport;
  /** Requests a second from the create's answer to `ended`. */
  rate: number;
  /** Calls answered 429, in % of all calls. */
  share429: number;
  service: FakeProvider['service'];
}

/** batchd against a fresh provider, `/v1/batchd/backends` sampled every 50 ms. */
async function batchdAtCapacity(params: Params, context: RunContext, timeoutMs: number): Promise<CapacityRun> {
  const requests = param(params, 'requests');
  const body = createBodyBuffer(requests, (i) => messageParams(i, param(params, 'textLength'), 64));
  const provider = await startCapacityProvider(params);
  try {
    const run = await runBatchAgainstProvider({
      provider,
      body,
      requests,
      concurrency: param(params, 'concurrency'),
      dir: context.workDir,
      cpuProfileDir: context.cpuProfileDir,
      sampleBackendMs: 50,
      pollMs: 20,
      timeoutMs,
    });
    const rate = requests / (run.seconds - run.createSeconds);
    const share429 = (100 * run.backend.rateLimited) / run.backend.calls;
    context.log(`batchd: ${rate.toFixed(0)} req/s, ${share429.toFixed(2)}% 429`);
    return { run, rate, share429, service: provider.service };
  } finally {
    await provider.close();
  }
}

/** The bare loop at exactly `capacity` calls at a time against a fresh provider: requests a second. */
async function bareLoopAtCapacity(params: Params, context: RunContext, timeoutMs: number): Promise<number> {
  const provider = await startCapacityProvider(params);
  try {
    const options = { url: provider.url, requests: param(params, 'requests'), concurrency: param(params, 'capacity'), textLength: param(params, 'textLength'), maxTokens: 64 };
    const bare = await runBareLoop(options, timeoutMs);
    if (bare.refused > 0) throw new Error(`the bare loop at the capacity was refused ${bare.refused} times`);
    const rate = bare.completed / bare.seconds;
    context.log(`bare loop: ${rate.toFixed(0)} req/s`);
    return rate;
  } finally {
    await provider.close();
  }
}

/**
 * batchd, then the bare loop, each against a fresh provider, with a timeout of 30 s plus four
 * times what the requests take at `idealRate` (requests a second).
 */
export async function batchdAndBareLoop(params: Params, context: RunContext, idealRate: number): Promise<{ batchd: CapacityRun; bareRate: number; timeoutMs: number }> {
  const timeoutMs = 30_000 + (param(params, 'requests') / idealRate) * 4000;
  const batchd = await batchdAtCapacity(params, context, timeoutMs);
  const bareRate = await bareLoopAtCapacity(params, context, timeoutMs);
  return { batchd, bareRate, timeoutMs };
}

/** The details both saturation scenarios report about batchd's run. */
export function capacityRunDetails({ run, rate, service }: CapacityRun, latencyMs: number): Record<string, number> {
  return {
    batchdSeconds: run.seconds - run.createSeconds,
    createSeconds: run.createSeconds,
    serverCpuSeconds: run.serverCpuSeconds,
    batchdCalls: run.backend.calls,
    batchdRateLimited: run.backend.rateLimited,
    concurrencyLimitAtEnd: run.backend.concurrency_limit,
    meanConcurrencyLimit: run.lane.meanLimit,
    meanInFlightInBatchd: run.lane.meanInFlight,
    meanInFlightAtProvider: (rate * latencyMs) / 1000,
    meanBackendsRequestMs: run.lane.meanRequestMs,
    providerMeanServiceMs: service.meanServiceMs,
    providerUtilization: service.utilization,
  };
}
