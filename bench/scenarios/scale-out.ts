import { join } from 'node:path';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { withPostgres } from '../support/postgres-database.js';
import { BACKEND_KEY } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { secondsSince } from '../support/stats.js';
import { param, type Scenario } from './scenario.js';

/**
 * Scale-out on PostgreSQL: one API node (`serve --no-engine`) and 1, 2 or 4 `batchd worker`
 * processes on one database, against a provider whose answers take `latencyMs`, each worker held
 * to `perNode` calls in flight, so a node's concurrency is the bottleneck (16 calls of 200 ms:
 * 80 req/s, far below what one worker's CPU allows) and more nodes should add throughput.
 * Throughput is requests/s from the create's answer to seeing `ended` (the create is the API
 * node's work, the same for any number of workers); scaling efficiency is throughput with n
 * workers over n times the throughput with one.
 */
export const scaleOut: Scenario = {
  name: 'scale-out',
  summary: '1, 2 and 4 worker processes on one PostgreSQL database; throughput and scaling efficiency',
  sizes: fullAndTiny({ requests: 4000, latencyMs: 200, perNode: 16 }, { requests: 200, latencyMs: 20, perNode: 4 }),

  async run(params, context) {
    const requests = param(params, 'requests');
    const perNode = param(params, 'perNode');
    const body = createBodyBuffer(requests, (i) => messageParams(i, 20, 64));
    const provider = await FakeProvider.start({ shape: 'anthropic', latencyMs: param(params, 'latencyMs'), apiKey: BACKEND_KEY, record: false });
    const throughput = new Map<number, number>();
    const details: Record<string, number> = {};
    try {
      await withPostgres(async (databases) => {
        for (const workers of [1, 2, 4]) {
          const flags = { db: await databases.fresh(), backend: 'anthropic', 'backend-url': provider.url, concurrency: perNode };
          const env = { BATCHD_BACKEND_API_KEY: BACKEND_KEY };
          const dir = join(context.workDir, `n${workers}`);
          const api = await BatchdProcess.start({ dir, flags: { ...flags, 'no-engine': true }, env });
          const nodes = await Promise.all(Array.from({ length: workers }, () => BatchdProcess.start({ dir, command: 'worker', flags, env, cpuProfileDir: context.cpuProfileDir })));
          const client = new BatchdClient(api.url);
          try {
            const createStart = performance.now();
            const created = await client.createBatch(body);
            const createSeconds = secondsSince(createStart);
            const start = performance.now();
            const ended = await client.waitForEnd(created.id, 50, 600_000);
            if (ended.request_counts.succeeded !== requests) throw new Error(`${workers} workers: ${JSON.stringify(ended.request_counts)}`);
            throughput.set(workers, requests / secondsSince(start));
            // Where the time went: the create (the API node's, not timed), created_at to ended_at as batchd recorded them, and the workers' CPU.
            details[`createSeconds${workers}`] = createSeconds;
            details[`serverSeconds${workers}`] = (Date.parse(ended.ended_at ?? '') - Date.parse(ended.created_at)) / 1000;
            details[`workerCpuMsPerRequest${workers}`] = (nodes.reduce((sum, node) => sum + node.cpuSeconds(), 0) * 1000) / requests;
            context.log(`${workers} worker(s): ${throughput.get(workers)!.toFixed(0)} req/s; create ${createSeconds.toFixed(2)} s, created_at → ended_at ${details[`serverSeconds${workers}`]!.toFixed(2)} s`);
          } finally {
            client.close();
            await Promise.all([api.stop(), ...nodes.map((node) => node.stop())]);
          }
        }
      });
    } finally {
      await provider.close();
    }
    const one = throughput.get(1)!;
    const ideal = (n: number) => ({ name: `${n} × one worker`, value: n * one });
    const bound = perNode / (param(params, 'latencyMs') / 1000);
    return {
      figures: [
        figure('1 worker throughput', 'req/s', one, { baseline: { name: 'perNode / latency', value: bound } }),
        figure('2 workers throughput', 'req/s', throughput.get(2)!, { baseline: ideal(2), target: { on: 'ratio', compare: '>=', limit: 0.9 } }),
        figure('4 workers throughput', 'req/s', throughput.get(4)!, { baseline: ideal(4), target: { on: 'ratio', compare: '>=', limit: 0.9 } }),
      ],
      details: { perNodeConcurrency: perNode, idealOneWorker: bound, ...details },
    };
  },
};
