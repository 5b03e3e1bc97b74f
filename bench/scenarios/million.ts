import { join } from 'node:path';
import pg from 'pg';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { withStore, type StoreKind } from '../support/bench-store.js';
import { bytesUnder, drainBatches, waitForResultsFiles, type DrainReport } from '../support/drain-batches.js';
import { BACKEND_KEY } from '../support/provider-run.js';
import { figure, type Detail, type Figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { runBareLoop } from '../support/run-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { param, type Params, type RunContext, type Scenario } from './scenario.js';

/**
 * A million requests: `batches` batches of `perBatch` requests, created back to back, drained
 * through a fake provider that answers each call after `latencyMs` with no capacity limit, at
 * `--concurrency C`, so the ceiling is C/L requests a second; once on SQLite and once on
 * PostgreSQL. The baseline is a bare keep-alive loop at the same C and L (its own process).
 *
 * Fairness is the even share: how many requests of each batch were done while all of them were
 * created and none had finished, the smallest over the largest (1 when the scheduler shares
 * evenly, near 0 when it serves batches one after another). It leaves out the head start the
 * creates give the first batches: each create takes seconds while the earlier batches already
 * run, so the first batch's end over the last one's and the spread of done fractions at the
 * midpoint, reported beside it, measure the stagger of the creates as much as the scheduler.
 */

const MB = 1e6;

function startProvider(params: Params): Promise<FakeProvider> {
  return FakeProvider.start({ shape: 'anthropic', latencyMs: param(params, 'latencyMs'), record: false });
}

/** `pg_database_size` of the database at `url`. */
async function postgresBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes);
  } finally {
    await client.end();
  }
}

interface StoreRun {
  drain: DrainReport;
  /** Database bytes (SQLite file after a clean stop, or `pg_database_size`) and results files. */
  databaseBytes: number;
  resultsFileBytes: number;
}

async function runOnStore(kind: StoreKind, params: Params, body: Buffer, context: RunContext): Promise<StoreRun> {
  const batches = param(params, 'batches');
  const perBatch = param(params, 'perBatch');
  const ideal = (param(params, 'concurrency') / param(params, 'latencyMs')) * 1000;
  const dir = join(context.workDir, kind);
  const resultsDir = join(dir, 'batchd.sqlite.results');
  const provider = await startProvider(params);
  try {
    return await withStore(kind, async (store) => {
      const db = await store.fresh();
      const flags = { backend: 'anthropic', 'backend-url': provider.url, concurrency: param(params, 'concurrency'), 'results-file-min-requests': perBatch, ...db };
      const server = await BatchdProcess.start({ dir, flags, env: { BATCHD_BACKEND_API_KEY: BACKEND_KEY }, cpuProfileDir: context.cpuProfileDir });
      let drain;
      try {
        const timeoutMs = 60_000 + ((batches * perBatch) / ideal) * 10_000;
        drain = await drainBatches({ server, body, batches, perBatch, sampleMs: param(params, 'sampleMs'), timeoutMs });
        if (!db.db) await waitForResultsFiles(resultsDir, batches, 60_000);
      } finally {
        await server.stop();
      }
      const resultsFileBytes = bytesUnder(resultsDir);
      const databaseBytes = (db.db ? await postgresBytes(db.db) : 0) + bytesUnder(dir) - resultsFileBytes;
      return { drain, databaseBytes, resultsFileBytes };
    });
  } finally {
    await provider.close();
  }
}

interface BareLoop {
  rate: number;
  /** CPU ms per request of the loop's process and of this one (the fake provider). */
  loopCpuMs: number;
  providerCpuMs: number;
}

/** A keep-alive loop at the same concurrency against the same kind of provider: what is attainable here. */
async function bareLoop(params: Params): Promise<BareLoop> {
  const provider = await startProvider(params);
  try {
    const options = { url: provider.url, requests: param(params, 'bareRequests'), concurrency: param(params, 'concurrency'), textLength: param(params, 'textLength'), maxTokens: 64 };
    const cpuAtStart = process.cpuUsage();
    const report = await runBareLoop(options, 120_000 + options.requests * 5);
    const cpu = process.cpuUsage(cpuAtStart);
    if (report.refused > 0) throw new Error(`the bare loop was refused ${report.refused} times`);
    const perRequestMs = (seconds: number) => (1000 * seconds) / report.completed;
    return { rate: report.completed / report.seconds, loopCpuMs: perRequestMs(report.cpuSeconds), providerCpuMs: perRequestMs((cpu.user + cpu.system) / 1e6) };
  } finally {
    await provider.close();
  }
}

function storeFigures(store: StoreKind, run: StoreRun, requests: number, bare: number): Figure[] {
  const { drain } = run;
  return [
    figure(`${store} drained throughput`, 'req/s', requests / drain.drainSeconds, { baseline: { name: 'bare loop at C', value: bare }, target: { on: 'ratio', compare: '>=', limit: 0.9 } }),
    figure(`${store} server peak RSS`, 'MB', Math.max(drain.peakRssBytes, drain.sampled.maxRssBytes) / MB, { target: { on: 'value', compare: '<=', limit: 300 } }),
    figure(`${store} even share`, 'ratio', drain.evenShare, { target: { on: 'value', compare: '>=', limit: 0.9 } }),
    figure(`${store} first / last batch end`, 'ratio', drain.firstEndSeconds / drain.lastEndSeconds),
    figure(`${store} done spread at midpoint`, 'fraction', drain.midpointSpread),
    figure(`${store} bytes on disk per request`, 'B', (run.databaseBytes + run.resultsFileBytes) / requests),
  ];
}

function storeDetails(store: StoreKind, run: StoreRun, requests: number): Record<string, Detail> {
  const { drain } = run;
  return {
    [`${store}DrainSeconds`]: drain.drainSeconds,
    [`${store}CreateSeconds`]: drain.createSeconds,
    [`${store}CpuMsPerRequest`]: (1000 * drain.serverCpuSeconds) / requests,
    [`${store}MainThreadCpuMsPerRequest`]: (1000 * drain.serverMainCpuSeconds) / requests,
    [`${store}BenchCpuMsPerRequest`]: (1000 * drain.benchCpuSeconds) / requests,
    [`${store}MaxSampledRssMB`]: drain.sampled.maxRssBytes / MB,
    [`${store}MaxSampledAnonMB`]: drain.sampled.maxAnonBytes / MB,
    [`${store}MaxSampledFileMB`]: drain.sampled.maxFileBytes / MB,
    [`${store}FirstEndSeconds`]: drain.firstEndSeconds,
    [`${store}LastEndSeconds`]: drain.lastEndSeconds,
    [`${store}EvenShareSeconds`]: drain.evenShareSeconds,
    [`${store}MidpointDone`]: drain.midpointDone,
    [`${store}ProgressSamples`]: drain.progressSamples,
    [`${store}DatabaseMB`]: run.databaseBytes / MB,
    [`${store}ResultsFilesMB`]: run.resultsFileBytes / MB,
  };
}

export const million: Scenario = {
  name: 'million',
  summary: '10 batches of 100,000 created back to back, C=256 and L=50 ms, on SQLite and PostgreSQL: drained throughput, RSS, fairness, bytes on disk',
  sizes: fullAndTiny(
    { batches: 10, perBatch: 100_000, concurrency: 256, latencyMs: 50, bareRequests: 100_000, textLength: 20, sampleMs: 1000 },
    { batches: 3, perBatch: 600, bareRequests: 2000, sampleMs: 20 },
  ),

  async run(params, context) {
    const requests = param(params, 'batches') * param(params, 'perBatch');
    const body = createBodyBuffer(param(params, 'perBatch'), (i) => messageParams(i, param(params, 'textLength'), 64));
    const ideal = (param(params, 'concurrency') / param(params, 'latencyMs')) * 1000;
    const sqlite = await runOnStore('sqlite', params, body, context);
    context.log(`sqlite: ${(requests / sqlite.drain.drainSeconds).toFixed(0)} req/s`);
    const bare = await bareLoop(params);
    context.log(`bare loop: ${bare.rate.toFixed(0)} req/s`);
    const postgres = await runOnStore('postgres', params, body, context);
    context.log(`postgres: ${(requests / postgres.drain.drainSeconds).toFixed(0)} req/s`);
    return {
      figures: [
        ...storeFigures('sqlite', sqlite, requests, bare.rate),
        ...storeFigures('postgres', postgres, requests, bare.rate),
        figure('bare loop at C', 'req/s', bare.rate, { baseline: { name: 'C/L', value: ideal } }),
      ],
      details: {
        requests,
        createBodyMB: body.length / MB,
        bareLoopCpuMsPerRequest: bare.loopCpuMs,
        bareLoopProviderCpuMsPerRequest: bare.providerCpuMs,
        ...storeDetails('sqlite', sqlite, requests), ...storeDetails('postgres', postgres, requests) },
    };
  },
};
