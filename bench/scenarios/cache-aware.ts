import { join } from 'node:path';
import { EngineCacheModel } from '../../packages/server/test-support/fakes/engine-cache-model.js';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { PromptCacheModel } from '../../packages/server/test-support/fakes/prompt-cache-model.js';
import { sharedPrefixRequests, type SharedPrefixOptions } from '../../packages/server/test-support/fakes/shared-prefix-requests.js';
import { runBatchAgainstProvider } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, MODEL } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Params, type RunContext, type Scenario } from './scenario.js';

/**
 * Cache-aware scheduling, each batch run twice in one run: with `--cache-aware on` (the default
 * for `anthropic` and `openai` backends) and `off` (arrival order), against fake providers that
 * model a prompt cache and an engine's prefix cache (`packages/server/test-support/fakes/`).
 */

interface Arm<M> {
  /** From sending the create to seeing the batch ended. */
  seconds: number;
  serverCpuSeconds: number;
  /** The provider's cache model, with its counts. */
  model: M;
}

interface ArmSetup<M> {
  /** A fresh cache model for each run. */
  model: () => M & { serve: (body: unknown) => Promise<unknown> };
  shape: 'anthropic' | 'openai';
  body: Buffer;
  requests: number;
}

/**
 * Runs the batch `rounds` times each way, alternating (on, off, on, off, …), each time through
 * a fresh batchd in front of a fresh provider; answers each way's fastest run, so neither way
 * pays alone for a cold machine.
 */
async function runBothWays<M>(setup: ArmSetup<M>, params: Params, context: RunContext): Promise<{ on: Arm<M>; off: Arm<M> }> {
  const runs: { on: Array<Arm<M>>; off: Array<Arm<M>> } = { on: [], off: [] };
  for (let round = 0; round < param(params, 'rounds'); round++) {
    for (const cacheAware of ['on', 'off'] as const) runs[cacheAware].push(await runArm(setup, params, context, cacheAware, round));
  }
  const fastest = (arms: Array<Arm<M>>) => arms.reduce((best, arm) => (arm.seconds < best.seconds ? arm : best));
  return { on: fastest(runs.on), off: fastest(runs.off) };
}

async function runArm<M>(setup: ArmSetup<M>, params: Params, context: RunContext, cacheAware: 'on' | 'off', round: number): Promise<Arm<M>> {
  const model = setup.model();
  const { body, requests } = setup;
  const provider = await FakeProvider.start({ shape: setup.shape, serve: model.serve, record: false });
  try {
    const run = await runBatchAgainstProvider({
      provider,
      dir: join(context.workDir, `${cacheAware}-${round}`),
      concurrency: param(params, 'concurrency'),
      body,
      requests,
      pollMs: 20,
      timeoutMs: 60_000 + requests * 100,
      cpuProfileDir: context.cpuProfileDir,
      flags: { 'cache-aware': cacheAware },
    });
    context.log(`cache-aware ${cacheAware}: ${run.seconds.toFixed(2)} s`);
    return { seconds: run.seconds, serverCpuSeconds: run.serverCpuSeconds, model };
  } finally {
    await provider.close();
  }
}

function batchBody(options: SharedPrefixOptions): Buffer {
  const requests = sharedPrefixRequests(options);
  return createBodyBuffer(requests.length, (i) => requests[i]!.params);
}

export const promptCache: Scenario = {
  name: 'prompt-cache',
  summary: 'D documents × 5 questions, each document a cached system prompt: cache-read share against the optimum, wall time against caching off',
  sizes: fullAndTiny({ documents: 400, questions: 5, documentChars: 4_400, latencyMs: 50, concurrency: 64, rounds: 2 }, { documents: 40, latencyMs: 20, rounds: 1 }),

  async run(params, context) {
    const documents = param(params, 'documents');
    const questions = param(params, 'questions');
    const requests = documents * questions;
    // In document order, as a caller writes them: sent as they come, a document's questions all arrive before any answer.
    const body = batchBody({ prefixes: documents, perPrefix: questions, prefixChars: param(params, 'documentChars'), cacheControl: true, model: MODEL });
    const { on, off } = await runBothWays({ model: () => new PromptCacheModel({ latencyMs: param(params, 'latencyMs') }), shape: 'anthropic', body, requests }, params, context);
    const arms = { on: on.model, off: off.model };
    const share = (100 * arms.on.counts.reads) / requests;
    const optimum = (100 * (requests - documents)) / requests;
    return {
      figures: [
        figure('cache-read share', '%', share, { baseline: { name: 'optimum', value: optimum }, target: { on: 'ratio', compare: '>=', limit: 0.95 } }),
        figure('wall time', 's', on.seconds, { baseline: { name: 'cache-aware off', value: off.seconds }, target: { on: 'ratio', compare: '<=', limit: 1.2 } }),
        figure('cache-read share, cache-aware off', '%', (100 * arms.off.counts.reads) / requests),
      ],
      details: {
        requests,
        writesOn: arms.on.counts.writes,
        readsOn: arms.on.counts.reads,
        writesOff: arms.off.counts.writes,
        readsOff: arms.off.counts.reads,
        serverCpuSecondsOn: on.serverCpuSeconds,
        serverCpuSecondsOff: off.serverCpuSeconds,
      },
    };
  },
};

export const engineCache: Scenario = {
  name: 'engine-cache',
  summary: 'P system prompts × R requests, shuffled, against an engine whose LRU prefix cache holds C of them: throughput against arrival order, hit rate',
  sizes: fullAndTiny(
    { prompts: 30, perPrompt: 20, promptChars: 8_000, cachedPrompts: 6, prefillTokensPerMs: 50, decodeMs: 50, concurrency: 32, rounds: 2 },
    { prompts: 10, perPrompt: 12, cachedPrompts: 3, decodeMs: 20, rounds: 1 },
  ),

  async run(params, context) {
    const prompts = param(params, 'prompts');
    const perPrompt = param(params, 'perPrompt');
    const requests = prompts * perPrompt;
    const promptChars = param(params, 'promptChars');
    const body = batchBody({ prefixes: prompts, perPrefix: perPrompt, prefixChars: promptChars, cacheControl: false, model: MODEL, seed: 11 });
    // Room for `cachedPrompts` system prompts (their JSON, about four characters a token) and not one more.
    const engine = () =>
      new EngineCacheModel({
        cacheTokens: Math.ceil(((promptChars + 100) / 4) * (param(params, 'cachedPrompts') + 0.5)),
        prefillTokensPerMs: param(params, 'prefillTokensPerMs'),
        decodeMs: param(params, 'decodeMs'),
      });
    const { on, off } = await runBothWays({ model: engine, shape: 'openai', body, requests }, params, context);
    const arms = { on: on.model, off: off.model };
    const optimum = (requests - prompts) / requests;
    return {
      figures: [
        figure('throughput', 'req/s', requests / on.seconds, { baseline: { name: 'arrival order', value: requests / off.seconds }, target: { on: 'ratio', compare: '>=', limit: 2 } }),
        figure('hit rate', '', arms.on.hitRate, { baseline: { name: 'optimum', value: optimum }, target: { on: 'value', compare: '>=', limit: 0.85 } }),
        figure('hit rate, arrival order', '', arms.off.hitRate),
      ],
      details: {
        requests,
        secondsOn: on.seconds,
        secondsOff: off.seconds,
        cachedTokensOn: arms.on.counts.cachedTokens,
        cachedTokensOff: arms.off.counts.cachedTokens,
        serverCpuSecondsOn: on.serverCpuSeconds,
        serverCpuSecondsOff: off.serverCpuSeconds,
      },
    };
  },
};
