import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { RssSampler } from '../support/proc-stats.js';
import { REPO_ROOT } from '../support/repo-paths.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { secondsSince } from '../support/stats.js';
import { param, type Scenario } from './scenario.js';

const FAKE_MAIN = join(REPO_ROOT, 'bench/dist/packages/server/test-support/fakes/fake-batches-main.js');
const KEY = 'bench-provider-key';
const MB = 1024 * 1024;

/** The fake Message Batches API in a process of its own; resolves with its URL once it listens. */
async function startFake(processingMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [FAKE_MAIN, JSON.stringify({ shape: 'anthropic', apiKey: KEY, timing: { delayMs: processingMs } })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  return { url: (JSON.parse(line.split('\n')[0]!) as { url: string }).url, child };
}

/**
 * A batch through `anthropic-batch`: `requests` requests go to a fake Message Batches API (in its
 * own process) that ends a provider batch `processingMs` after its create. Timed from sending the
 * create to the first retrieve that shows the batch ended; the time batchd adds is that minus the
 * provider's processing, to be at most one poll interval plus routing, submitting and the download.
 * The server's resident size is sampled throughout.
 */
export const providerBatch: Scenario = {
  name: 'provider-batch',
  summary: '100,000 requests through anthropic-batch against a fake provider: time added beyond its processing, server peak RSS',
  sizes: {
    full: { requests: 100_000, processingMs: 5_000, pollMs: 2_000 },
    tiny: { requests: 1000, processingMs: 500, pollMs: 500 },
  },

  async run(params, context) {
    const requests = param(params, 'requests');
    const processingMs = param(params, 'processingMs');
    const pollMs = param(params, 'pollMs');
    const fake = await startFake(processingMs);
    const dir = join(context.workDir, 'batchd');
    const config = join(context.workDir, 'provider-batch.json');
    writeFileSync(config, JSON.stringify({ backends: [{ name: 'claude-batch', type: 'anthropic-batch', url: fake.url, api_key_env: 'PROVIDER_KEY', models: ['*'] }] }));
    try {
      const server = await BatchdProcess.start({ dir, flags: { config, 'provider-poll-interval': `${pollMs}ms` }, env: { PROVIDER_KEY: KEY }, cpuProfileDir: context.cpuProfileDir });
      const client = new BatchdClient(server.url);
      const sampler = new RssSampler(server.pid, 20);
      try {
        const body = createBodyBuffer(requests, (i) => messageParams(i, 20, 64));
        const start = performance.now();
        const created = await client.createBatch(body);
        const ended = await client.waitForEnd(created.id, 50, 600_000);
        const seconds = secondsSince(start);
        if (ended.request_counts.succeeded !== requests) throw new Error(`the batch ended with ${JSON.stringify(ended.request_counts)}`);
        const peaks = sampler.stop();
        const added = seconds - processingMs / 1000;
        // When the intent of each provider batch was recorded, and last polled, after the create: routing and gathering, then polling.
        const { data } = await client.json<{ data: Array<{ created_at: string; polled_at: string | null }> }>('GET', `/v1/messages/batches/${created.id}/provider_batches`);
        const since = (iso: string | null) => (iso === null ? null : (Date.parse(iso) - Date.parse(created.created_at)) / 1000);
        const providerBatches = data.map((batch) => ({ intentSeconds: since(batch.created_at), lastPollSeconds: since(batch.polled_at) }));
        context.log(`${requests} requests ended in ${seconds.toFixed(1)} s; the provider took ${processingMs / 1000} s, poll interval ${pollMs / 1000} s`);
        return {
          figures: [
            figure('create → ended', 's', seconds),
            figure('added beyond provider processing', 's', added),
            figure('added beyond one poll interval', 's', added - pollMs / 1000),
            figure('server peak RSS', 'MB', peaks.maxRssBytes / MB, { target: { on: 'value', compare: '<=', limit: 600 } }),
          ],
          details: { requests, processingMs, pollMs, createBodyMB: body.length / MB, providerBatches: JSON.stringify(providerBatches) },
        };
      } finally {
        sampler.stop();
        client.close();
        await server.stop();
      }
    } finally {
      fake.child.kill('SIGTERM');
    }
  },
};
