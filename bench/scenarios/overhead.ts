import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { runBatchAgainstProvider } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { runBareLoop, runSdkScript } from '../support/run-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Scenario } from './scenario.js';

/**
 * batchd's own cost per request: a provider that answers at once, so the time is batchd's
 * (claims, HTTP calls, result writes). Two baselines against the same provider, each in its own
 * process: a bare keep-alive loop at batchd's concurrency (what is attainable here, with nothing
 * stored) and the plain SDK script at concurrency 64, doing the same calls as a user would.
 */
export const overhead: Scenario = {
  name: 'overhead',
  summary: '100,000 requests against a provider that answers at once: requests/s create → ended vs the plain SDK script',
  sizes: fullAndTiny({ requests: 100_000, concurrency: 64, sdkRequests: 30_000, sdkConcurrency: 64, textLength: 20, maxTokens: 64 }, { requests: 300, sdkRequests: 300 }),

  async run(params, context) {
    const requests = param(params, 'requests');
    const textLength = param(params, 'textLength');
    const maxTokens = param(params, 'maxTokens');
    const body = createBodyBuffer(requests, (i) => messageParams(i, textLength, maxTokens));
    const timeoutMs = 60_000 + requests * 5;

    const provider = await FakeProvider.start({ shape: 'anthropic', record: false });
    try {
      const run = await runBatchAgainstProvider({
        provider,
        dir: context.workDir,
        concurrency: param(params, 'concurrency'),
        body,
        requests,
        pollMs: 50,
        timeoutMs,
        cpuProfileDir: context.cpuProfileDir,
      });
      context.log(`batchd: ${(requests / run.seconds).toFixed(0)} req/s`);
      // The script's rate is steady from its first seconds: a third of the requests measure it, in a minute less.
      const sdk = await runSdkScript(
        { url: provider.url, requests: param(params, 'sdkRequests'), concurrency: param(params, 'sdkConcurrency'), textLength, maxTokens },
        timeoutMs,
      );
      if (sdk.error) throw new Error(`the SDK script failed: ${sdk.error.name}: ${sdk.error.message}`);
      const bare = await runBareLoop({ url: provider.url, requests, concurrency: param(params, 'concurrency'), textLength, maxTokens }, timeoutMs);
      const batchdRate = requests / run.seconds;
      const sdkRate = sdk.completed / sdk.seconds;
      const bareRate = bare.completed / bare.seconds;
      context.log(`bare loop: ${bareRate.toFixed(0)} req/s, SDK script: ${sdkRate.toFixed(0)} req/s`);
      return {
        figures: [
          figure('throughput vs bare loop', 'req/s', batchdRate, {
            baseline: { name: 'bare loop at 64', value: bareRate },
            target: { on: 'ratio', compare: '>=', limit: 0.6 },
          }),
          figure('throughput', 'req/s', batchdRate, {
            baseline: { name: 'SDK script', value: sdkRate },
            target: { on: 'ratio', compare: '>=', limit: 1.5 },
          }),
          figure('CPU per request', 'ms', (1000 * run.serverCpuSeconds) / requests, {
            baseline: { name: 'SDK script', value: (1000 * sdk.cpuSeconds) / sdk.completed },
          }),
        ],
        details: {
          batchdSeconds: run.seconds,
          createSeconds: run.createSeconds,
          serverSeconds: run.serverSeconds,
          sdkSeconds: sdk.seconds,
          bareLoopSeconds: bare.seconds,
          bareLoopCpuSeconds: bare.cpuSeconds,
          serverCpuSeconds: run.serverCpuSeconds,
          serverMainThreadCpuSeconds: run.serverMainCpuSeconds,
          sdkCpuSeconds: sdk.cpuSeconds,
          backendCalls: run.backend.calls,
          concurrencyLimitAtEnd: run.backend.concurrency_limit,
          serverPeakRssMB: run.peakRssBytes / 1e6,
        },
      };
    } finally {
      await provider.close();
    }
  },
};
