import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import { startBatchdFor } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { runSdkScript } from '../support/run-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { median, secondsSince } from '../support/stats.js';
import { param, type Scenario } from './scenario.js';

/**
 * Latency of a small batch: `requests` requests against a provider taking `latencyMs`, timed from
 * sending the create to the first retrieve that shows `ended` (retrieving every `pollMs`). One
 * server serves every run, after one unmeasured warm-up run. Baseline: the plain SDK script making
 * the same calls all at once, in a fresh process each run.
 */
export const smallBatch: Scenario = {
  name: 'small-batch',
  summary: '10 requests, provider latency 50 ms: creation → ended, median of several runs',
  sizes: fullAndTiny({ requests: 10, latencyMs: 50, runs: 9, pollMs: 5, concurrency: 64 }, { runs: 2 }),

  async run(params, context) {
    const requests = param(params, 'requests');
    const latencyMs = param(params, 'latencyMs');
    const runs = param(params, 'runs');
    const body = createBodyBuffer(requests, (i) => messageParams(i, 20, 64));
    const provider = await FakeProvider.start({ shape: 'anthropic', latencyMs, record: false });
    const timings: number[] = [];
    const serverTimings: number[] = [];
    const sdkTimings: number[] = [];
    let coldMs = 0;
    try {
      const server = await startBatchdFor(provider, join(context.workDir, 'batchd'), param(params, 'concurrency'), context.cpuProfileDir);
      const client = new BatchdClient(server.url);
      try {
        for (let run = 0; run <= runs; run++) {
          const start = performance.now();
          const created = await client.createBatch(body);
          const ended = await client.waitForEnd(created.id, param(params, 'pollMs'), 30_000);
          const ms = secondsSince(start) * 1000;
          if (ended.request_counts.succeeded !== requests) throw new Error(`run ${run}: ${JSON.stringify(ended.request_counts)}`);
          if (run === 0) {
            coldMs = ms;
          } else {
            timings.push(ms);
            serverTimings.push(Date.parse(ended.ended_at ?? '') - Date.parse(ended.created_at));
          }
          await delay(100);
        }
      } finally {
        client.close();
        await server.stop();
      }
      for (let run = 0; run < runs; run++) {
        const sdk = await runSdkScript({ url: provider.url, requests, concurrency: requests, textLength: 20, maxTokens: 64 }, 30_000);
        if (sdk.error) throw new Error(`the SDK script failed: ${sdk.error.message}`);
        sdkTimings.push(sdk.seconds * 1000);
      }
    } finally {
      await provider.close();
    }
    const typical = median(timings);
    return {
      figures: [
        figure('create → ended p50', 'ms', typical, { baseline: { name: 'SDK script p50', value: median(sdkTimings) } }),
        figure('beyond provider latency p50', 'ms', typical - latencyMs, { target: { on: 'value', compare: '<=', limit: 150 } }),
      ],
      details: {
        coldRunMs: coldMs,
        minMs: Math.min(...timings),
        maxMs: Math.max(...timings),
        serverRecordedP50Ms: median(serverTimings),
      },
    };
  },
};
