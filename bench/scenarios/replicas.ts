import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineCacheModel } from '../../packages/server/test-support/fakes/engine-cache-model.js';
import { FakeProvider, seededRandom } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { sampleBackend } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, MODEL, prose } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { secondsSince } from '../support/stats.js';
import { param, type Scenario } from './scenario.js';

/**
 * One backend of four engine replicas, each a fake OpenAI-compatible provider serving through an
 * `EngineCacheModel` (an LRU prefix cache of `cachePrompts` system prompts, a prefix cached once its
 * prefill is done, prefill one prompt at a time at `prefillTokensPerMs`), and a batch of
 * `requests` spread over `prompts` long system prompts in shuffled order. Run twice: cache-aware
 * (batchd's default: prefix affinity with bounded load, the lane's prefix gate, priming per
 * replica), and with `--cache-aware off`, where calls go to the least loaded replica, round robin
 * among equals. The hit rate is the share of requests whose prefix the replica had cached when
 * they arrived; the optimum is 1 − prompts / requests. Details give `requests@hit rate` per replica.
 */

interface Run {
  hitRate: number;
  throughput: number;
  /** The backend's mean adaptive limit and calls in flight while the batch ran. */
  meanLimit: number;
  meanInFlight: number;
  /** The most calls one replica held at once, over all replicas. */
  maxInFlight: number;
  perReplica: string;
}

/** A Fisher–Yates shuffle of `items` in place, by `random`. */
function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function runOnce(params: Record<string, number>, dir: string, cacheAware: boolean, cpuProfileDir: string | undefined): Promise<Run> {
  const prompts = param(params, 'prompts');
  const requests = param(params, 'requests');
  const promptChars = param(params, 'promptChars');
  const cacheTokens = Math.ceil((param(params, 'cachePrompts') * promptChars) / 4) + 64;
  const models = [0, 1, 2, 3].map(() => new EngineCacheModel({ cacheTokens, prefillTokensPerMs: param(params, 'prefillTokensPerMs'), decodeMs: 5 }));
  const engines = await Promise.all(models.map((model) => FakeProvider.start({ shape: 'openai', serve: model.serve, record: false })));
  const order = shuffled(Array.from({ length: requests }, (_, i) => i % prompts), seededRandom(7));
  const system = Array.from({ length: prompts }, (_, p) => prose(p + 1000, promptChars));
  const body = createBodyBuffer(requests, (i) => ({ model: MODEL, max_tokens: 16, system: system[order[i]!]!, messages: [{ role: 'user', content: `Question ${i}?` }] }));
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'batchd.json');
  writeFileSync(config, JSON.stringify({ backends: [{ name: 'engines', type: 'openai', urls: engines.map((e) => e.url), concurrency: param(params, 'concurrency') }] }));
  const server = await BatchdProcess.start({ dir, flags: { config, 'cache-aware': cacheAware ? 'on' : 'off' }, cpuProfileDir });
  const client = new BatchdClient(server.url);
  try {
    const start = performance.now();
    const created = await client.createBatch(body);
    const stopSampling = sampleBackend(client, 100);
    const ended = await client.waitForEnd(created.id, 50, 600_000);
    const lane = await stopSampling();
    if (ended.request_counts.succeeded !== requests) throw new Error(`cache-aware ${cacheAware}: ${JSON.stringify(ended.request_counts)}`);
    const throughput = requests / secondsSince(start);
    const hits = models.reduce((sum, model) => sum + model.counts.hits, 0);
    return {
      hitRate: hits / requests,
      throughput,
      meanLimit: lane.meanLimit,
      meanInFlight: lane.meanInFlight,
      maxInFlight: Math.max(...engines.map((engine) => engine.maxInFlight)),
      perReplica: models.map((model) => `${model.counts.requests}@${model.hitRate.toFixed(2)}`).join(' '),
    };
  } finally {
    client.close();
    await server.stop();
    await Promise.all(engines.map((e) => e.close()));
  }
}

const summary = (name: string, run: Run) =>
  `${name}: hit rate ${run.hitRate.toFixed(3)}, ${run.throughput.toFixed(0)} req/s, limit ${run.meanLimit.toFixed(1)}, in flight ${run.meanInFlight.toFixed(1)}, per replica ${run.perReplica}`;

export const replicas: Scenario = {
  name: 'replicas',
  summary: 'four engine replicas with prefix caches: hit rate with prefix affinity against round robin',
  sizes: fullAndTiny(
    { prompts: 32, requests: 1600, promptChars: 8000, cachePrompts: 16, prefillTokensPerMs: 100, concurrency: 32 },
    { prompts: 8, requests: 120, promptChars: 2000, cachePrompts: 4, concurrency: 8 },
  ),

  async run(params, context) {
    const affinity = await runOnce(params, join(context.workDir, 'affinity'), true, context.cpuProfileDir);
    context.log(summary('affinity', affinity));
    const roundRobin = await runOnce(params, join(context.workDir, 'round-robin'), false, context.cpuProfileDir);
    context.log(summary('round robin', roundRobin));
    return {
      figures: [
        figure('hit rate', 'share', affinity.hitRate, { baseline: { name: 'round robin', value: roundRobin.hitRate }, target: { on: 'value', compare: '>=', limit: 0.9 } }),
        figure('throughput', 'req/s', affinity.throughput, { baseline: { name: 'round robin', value: roundRobin.throughput } }),
      ],
      details: {
        optimumHitRate: 1 - param(params, 'prompts') / param(params, 'requests'),
        affinityPerReplica: affinity.perReplica,
        roundRobinPerReplica: roundRobin.perReplica,
        affinityMeanLimit: affinity.meanLimit,
        affinityMeanInFlight: affinity.meanInFlight,
        affinityMaxReplicaInFlight: affinity.maxInFlight,
        roundRobinMeanInFlight: roundRobin.meanInFlight,
        roundRobinMaxReplicaInFlight: roundRobin.maxInFlight,
      },
    };
  },
};
