import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { nameOn, withStore, type BenchStore, type StoreKind } from '../support/bench-store.js';
import { copyRows, insertRows, parseBody } from '../support/ingest-baseline.js';
import { migratePostgres } from '../../packages/server/src/store/postgres/migrations.js';
import { figure } from '../support/report.js';
import { messageParams, writeCreateBody } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { secondsSince } from '../support/stats.js';
import { param, type Params, type RunContext, type Scenario, type ScenarioOutput } from './scenario.js';

const MB = 1e6;

interface Arm {
  seconds: number;
  cpuSeconds: number;
}

/** One create through a fresh batchd process; returns its time, CPU time and peak RSS. */
async function batchdArm(bodyPath: string, bytes: number, requests: number, dir: string, store: BenchStore, context: RunContext): Promise<Arm & { peakRssBytes: number }> {
  const server = await BatchdProcess.start({
    dir,
    flags: { backend: 'emulator', concurrency: 1, 'emulator-latency-ms': 1000, ...(await store.fresh()) },
    cpuProfileDir: context.cpuProfileDir,
  });
  const client = new BatchdClient(server.url);
  try {
    const cpuAtStart = server.cpuSeconds();
    const start = performance.now();
    const batch = await client.createBatch(() => createReadStream(bodyPath), bytes);
    const seconds = secondsSince(start);
    const cpuSeconds = server.cpuSeconds() - cpuAtStart;
    if (batch.request_counts.processing !== requests) throw new Error(`create stored ${batch.request_counts.processing} of ${requests} requests`);
    return { seconds, cpuSeconds, peakRssBytes: server.memory().peakRssBytes };
  } finally {
    client.close();
    await server.stop();
  }
}

/**
 * The baseline in this process: parse, then insert into a fresh file, or copy into a fresh
 * database (migrated before the clock starts, as batchd's is when it starts).
 */
async function baselineArm(bodyPath: string, dbPath: string, store: BenchStore): Promise<Arm & { parseSeconds: number }> {
  const { db } = await store.fresh();
  if (db) await migratePostgres(db);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const rows = await parseBody(bodyPath);
  const parseSeconds = secondsSince(start);
  if (db) await copyRows(db, rows);
  else insertRows(dbPath, rows);
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: secondsSince(start), parseSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/**
 * One create of `requests` requests (about 1 KB each) over HTTP, streamed from a file, on SQLite
 * or PostgreSQL. The emulator answers one request a second meanwhile, so processing does not
 * compete with the create.
 * The two arms alternate `repeats` times and each side's fastest run counts, which keeps a noisy
 * neighbour from deciding the ratio.
 */
const ingestOn = (kind: StoreKind, insert: string, ratioTarget?: number): Scenario => ({
  name: nameOn('ingest', kind),
  summary: `create one batch of 100,000 requests (~100 MB) over HTTP on ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: seconds, MB/s, server peak RSS`,
  sizes: fullAndTiny({ requests: 100_000, textLength: 880, repeats: 2 }, { requests: 200, repeats: 1 }),
  run: (params, context) => withStore(kind, (store) => runIngest(params, context, store, insert, ratioTarget)),
});

async function runIngest(params: Params, context: RunContext, store: BenchStore, insert: string, ratioTarget?: number): Promise<ScenarioOutput> {
  const requests = param(params, 'requests');
  const bodyPath = join(context.workDir, 'create-body.json');
  const bytes = await writeCreateBody(bodyPath, requests, (i) => messageParams(i, param(params, 'textLength')));
  context.log(`body: ${(bytes / MB).toFixed(1)} MB`);

  let batchd = { seconds: Number.POSITIVE_INFINITY, cpuSeconds: Number.POSITIVE_INFINITY, peakRssBytes: 0 };
  let baseline = { seconds: Number.POSITIVE_INFINITY, cpuSeconds: Number.POSITIVE_INFINITY, parseSeconds: 0 };
  for (let i = 0; i < param(params, 'repeats'); i++) {
    const run = await batchdArm(bodyPath, bytes, requests, join(context.workDir, `batchd-${i}`), store, context);
    const peakRssBytes = Math.max(batchd.peakRssBytes, run.peakRssBytes);
    batchd = run.seconds < batchd.seconds ? { ...run, peakRssBytes } : { ...batchd, peakRssBytes };
    const bare = await baselineArm(bodyPath, join(context.workDir, `baseline-${i}.sqlite`), store);
    if (bare.seconds < baseline.seconds) baseline = bare;
    context.log(`run ${i + 1}: batchd ${run.seconds.toFixed(2)} s, parse + ${insert} ${bare.seconds.toFixed(2)} s`);
  }

  return {
    figures: [
      figure('create time', 's', batchd.seconds, {
        baseline: { name: `parse + ${insert}`, value: baseline.seconds },
        ...(ratioTarget === undefined ? {} : { target: { on: 'ratio', compare: '<=', limit: ratioTarget } as const }),
      }),
      figure('throughput', 'MB/s', bytes / MB / batchd.seconds, { baseline: { name: `parse + ${insert}`, value: bytes / MB / baseline.seconds } }),
      figure('create CPU', 's', batchd.cpuSeconds, { baseline: { name: `parse + ${insert}`, value: baseline.cpuSeconds } }),
      figure('server peak RSS', 'MB', batchd.peakRssBytes / MB, { target: { on: 'value', compare: '<=', limit: 300 } }),
    ],
    details: {
      bodyBytes: bytes,
      baselineParseSeconds: baseline.parseSeconds,
      baselineInsertSeconds: baseline.seconds - baseline.parseSeconds,
    },
  };
}

export const ingest = ingestOn('sqlite', 'insert', 1.3);
/** On PostgreSQL the issue sets no target: the ratio is reported. */
export const ingestPg = ingestOn('postgres', 'COPY');
