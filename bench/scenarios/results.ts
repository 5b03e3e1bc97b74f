import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { anthropicMessage } from '../../packages/server/test-support/fakes/fake-answers.js';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { ownCpuMs, readFileTimed } from '../support/file-read.js';
import { nameOn, withStore, type BenchStore, type StoreKind } from '../support/bench-store.js';
import { RssSampler } from '../support/proc-stats.js';
import { BENCH_DIST } from '../support/repo-paths.js';
import { runBatchAgainstProvider } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams, prose } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { secondsSince } from '../support/stats.js';
import { param, type Params, type RunContext, type Scenario, type ScenarioOutput } from './scenario.js';

const MB = 1e6;

/**
 * Streaming the results of a large batch: a provider whose answers are long (about 3 KB per
 * result line) fills a batch, and on SQLite the benchmark waits while batchd writes the batch's
 * results file (timed from the batch's end; PostgreSQL serves results from its rows); then a
 * fresh batchd process on the same database serves the results over HTTP while the process's
 * resident size is sampled (in all, and its anonymous and file-backed parts). Baseline: reading the same bytes back from a file (in the page cache).
 * Each side is read `repeats` times, the sides in turn, and the fastest read of each counts.
 */

/** Waits until batchd has written the batch's results file; returns the seconds waited. */
async function waitForResultsFile(dir: string, batchId: string, timeoutMs: number): Promise<number> {
  const path = join(dir, 'batchd', 'batchd.sqlite.results', `${batchId}.jsonl`);
  const start = performance.now();
  while (!existsSync(path)) {
    if (performance.now() - start > timeoutMs) throw new Error(`no results file at ${path} after ${timeoutMs} ms`);
    await delay(20);
  }
  return secondsSince(start);
}

/** A bare HTTP server in a process of its own (`support/<script>.js` with `args`): the attainable limit of the stream. */
async function startBareServer(script: string, args: string[]): Promise<{ read(): Promise<{ seconds: number; bytes: number }>; stop(): void }> {
  const child = spawn(process.execPath, [join(BENCH_DIST, `support/${script}.js`), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  const client = new BatchdClient(line.trim());
  return {
    async read() {
      const start = performance.now();
      const { bytes } = await client.streamLines('/');
      return { seconds: secondsSince(start), bytes };
    },
    stop() {
      client.close();
      child.kill('SIGTERM');
    },
  };
}

async function saveResults(client: BatchdClient, id: string, path: string): Promise<void> {
  const response = await client.send('GET', `/v1/messages/batches/${id}/results`);
  if (response.statusCode !== 200) throw new Error(`results of ${id} answered ${response.statusCode}`);
  await pipeline(response, createWriteStream(path));
}

const resultsOn = (kind: StoreKind, requests: number): Scenario => ({
  name: nameOn('results', kind),
  summary: `stream the results of a ${requests.toLocaleString('en')}-request batch (~${(requests * 0.003).toFixed(0)} MB JSONL) on ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: MB/s and server RSS growth vs reading a file`,
  sizes: fullAndTiny({ requests, answerChars: 2_400, concurrency: 64, repeats: 5 }, { requests: 1000, repeats: 1 }),
  run: (params, context) => withStore(kind, (store) => runResults(params, context, store)),
});

async function runResults(params: Params, context: RunContext, store: BenchStore): Promise<ScenarioOutput> {
  const requests = param(params, 'requests');
  const repeats = param(params, 'repeats');
  const longText = prose(0, param(params, 'answerChars'));
  const provider = await FakeProvider.start({
    shape: 'anthropic',
    record: false,
    respond: (body) => ({ ...anthropicMessage(body), content: [{ type: 'text', text: longText, citations: null }] }),
  });
  const savedPath = join(context.workDir, 'results.jsonl');
  const db = await store.fresh();
  let batchId: string;
  let fillSeconds: number;
  let fileSeconds = 0;
  try {
    const run = await runBatchAgainstProvider({
      provider,
      dir: context.workDir,
      concurrency: param(params, 'concurrency'),
      body: createBodyBuffer(requests, (i) => messageParams(i, 20, 1024)),
      requests,
      pollMs: 200,
      timeoutMs: 60_000 + requests * 5,
      cpuProfileDir: context.cpuProfileDir,
      flags: db,
      whileRunning: async (_server, _client, batch) => {
        if (store.kind === 'sqlite') fileSeconds = await waitForResultsFile(context.workDir, batch.id, 120_000);
      },
    });
    batchId = run.batch.id;
    fillSeconds = run.seconds;
    context.log(`filled in ${fillSeconds.toFixed(1)} s${store.kind === 'sqlite' ? `; results file written ${fileSeconds.toFixed(1)} s after the batch was seen ended` : ''}`);
  } finally {
    await provider.close();
  }

  // A fresh process serves the results, so its memory and profile hold the stream alone. A first
  // read saves the bytes for the baselines (and warms every side's page cache); then each round
  // reads batchd, the file and the bare servers in turn, so a neighbour's burst falls on all alike.
  const server = await BatchdProcess.start({ dir: join(context.workDir, 'batchd'), flags: db, cpuProfileDir: context.cpuProfileDir });
  const client = new BatchdClient(server.url);
  const initial = server.memory();
  // Each read's growth over the resident size at its start (the first, cold read included): what one stream costs.
  const growth = { rss: 0, anon: 0, file: 0 };
  let highest = initial.rssBytes;
  const measuredRead = async <T>(read: () => Promise<T>): Promise<T> => {
    const before = server.memory();
    const readSampler = new RssSampler(server.pid, 10);
    try {
      return await read();
    } finally {
      const peaks = readSampler.stop();
      growth.rss = Math.max(growth.rss, peaks.maxRssBytes - before.rssBytes);
      growth.anon = Math.max(growth.anon, peaks.maxAnonBytes - before.anonBytes);
      growth.file = Math.max(growth.file, peaks.maxFileBytes - before.fileBytes);
      highest = Math.max(highest, peaks.maxRssBytes);
    }
  };
  const measured = { seconds: Number.POSITIVE_INFINITY, bytes: 0, lines: 0, cpuSeconds: Number.POSITIVE_INFINITY, clientCpuMs: Number.POSITIVE_INFINITY, databaseCpuSeconds: Number.POSITIVE_INFINITY };
  let fileRead = { seconds: Number.POSITIVE_INFINITY, bytes: 0, lines: 0, cpuMs: Number.POSITIVE_INFINITY };
  let fileReadCpuMs = Number.POSITIVE_INFINITY;
  const fastest = <T extends { seconds: number }>(best: T, read: T): T => (read.seconds < best.seconds ? read : best);
  let bare = { seconds: Number.POSITIVE_INFINITY, bytes: 0 };
  let bareCopy: typeof bare | undefined;
  const bareServers: Awaited<ReturnType<typeof startBareServer>>[] = [];
  try {
    await measuredRead(() => saveResults(client, batchId, savedPath));
    const bareServer = await startBareServer('bare-file-server', [savedPath]);
    bareServers.push(bareServer);
    // On PostgreSQL, also the same rows sent by one COPY through a bare HTTP server: what any server of them pays.
    const bareCopyServer = db.db === undefined ? undefined : await startBareServer('bare-copy-server', [db.db, batchId]);
    if (bareCopyServer) bareServers.push(bareCopyServer);
    for (let i = 0; i < repeats; i++) {
      const cpuAtStart = server.cpuSeconds();
      const databaseCpuAtStart = store.databaseCpuSeconds() ?? 0;
      const clientCpuAtStart = ownCpuMs();
      const start = performance.now();
      const read = await measuredRead(() => client.streamResults(batchId));
      const seconds = secondsSince(start);
      measured.clientCpuMs = Math.min(measured.clientCpuMs, ownCpuMs() - clientCpuAtStart);
      measured.cpuSeconds = Math.min(measured.cpuSeconds, server.cpuSeconds() - cpuAtStart);
      measured.databaseCpuSeconds = Math.min(measured.databaseCpuSeconds, (store.databaseCpuSeconds() ?? 0) - databaseCpuAtStart);
      if (seconds < measured.seconds) Object.assign(measured, { seconds, bytes: read.bytes, lines: read.lines });

      const file = await readFileTimed(savedPath);
      fileReadCpuMs = Math.min(fileReadCpuMs, file.cpuMs);
      fileRead = fastest(fileRead, file);
      const bareRead = await bareServer.read();
      bare = fastest(bare, bareRead);
      context.log(`round ${i + 1}: batchd ${(read.bytes / MB / seconds).toFixed(0)} MB/s, file ${(file.bytes / MB / file.seconds).toFixed(0)}, bare server ${(bareRead.bytes / MB / bareRead.seconds).toFixed(0)}`);
      if (bareCopyServer) bareCopy = fastest(bareCopy ?? { seconds: Number.POSITIVE_INFINITY, bytes: 0 }, await bareCopyServer.read());
    }
  } finally {
    for (const bareServer of bareServers) bareServer.stop();
    client.close();
    await server.stop();
  }
  // Growth over the fresh process through every read, which what the reads leave behind adds to.
  const throughout = highest - initial.rssBytes;
  context.log(`streamed ${(measured.bytes / MB).toFixed(0)} MB in ${measured.seconds.toFixed(2)} s`);
  if (measured.lines !== requests) throw new Error(`results had ${measured.lines} lines, expected ${requests}`);
  const per100MB = (ms: number) => ms / (measured.bytes / (100 * MB));
  if (fileRead.bytes !== measured.bytes) throw new Error(`saved ${fileRead.bytes} bytes of ${measured.bytes}`);
  if (bare.bytes !== measured.bytes) throw new Error(`the bare server sent ${bare.bytes} bytes of ${measured.bytes}`);
  if (bareCopy && bareCopy.bytes !== measured.bytes) throw new Error(`the bare COPY server sent ${bareCopy.bytes} bytes of ${measured.bytes}`);

  return {
    figures: [
      figure('stream', 'MB/s', measured.bytes / MB / measured.seconds, {
        baseline: { name: 'file read', value: fileRead.bytes / MB / fileRead.seconds },
        target: { on: 'ratio', compare: '>=', limit: store.kind === 'sqlite' ? 0.9 : 0.5 },
      }),
      // The attainable limit: the same bytes from a bare HTTP server of the file, over the same loopback.
      figure('stream against a bare HTTP server', 'MB/s', measured.bytes / MB / measured.seconds, {
        baseline: { name: 'bare server', value: bare.bytes / MB / bare.seconds },
      }),
      ...(bareCopy
        ? [
            figure('stream against a bare COPY server', 'MB/s', measured.bytes / MB / measured.seconds, {
              baseline: { name: 'bare COPY server', value: bareCopy.bytes / MB / bareCopy.seconds },
            }),
          ]
        : []),
      // What the stream costs against what the file read costs, whatever else the machine runs.
      figure('CPU per 100 MB, batchd + client', 'ms', per100MB(measured.cpuSeconds * 1000 + measured.clientCpuMs), {
        baseline: { name: 'file read', value: per100MB(fileReadCpuMs) },
      }),
      figure('server RSS growth', 'MB', growth.rss / MB, { target: { on: 'value', compare: '<=', limit: 50 } }),
    ],
    details: {
      fillSeconds,
      fillRequestsPerSecond: requests / fillSeconds,
      resultsFileSeconds: fileSeconds,
      resultBytes: measured.bytes,
      streamSeconds: measured.seconds,
      // CPU time does not depend on what else the machine runs: the server's cost of the stream.
      serverCpuMsPer100MB: per100MB(measured.cpuSeconds * 1000),
      clientCpuMsPer100MB: per100MB(measured.clientCpuMs),
      // PostgreSQL's processes during the read: whether its backend or batchd sets the pace.
      ...(store.kind === 'postgres' ? { databaseCpuMsPer100MB: per100MB(measured.databaseCpuSeconds * 1000) } : {}),
      fileReadSeconds: fileRead.seconds,
      bareServerSeconds: bare.seconds,
      ...(bareCopy ? { bareCopyServerSeconds: bareCopy.seconds } : {}),
      serverRssBeforeMB: initial.rssBytes / MB,
      rssGrowthThroughAllReadsMB: throughout / MB,
      anonymousRssGrowthMB: growth.anon / MB,
      fileBackedRssGrowthMB: growth.file / MB,
    },
  };
}

export const results = resultsOn('sqlite', 100_000);
/** Fewer requests on PostgreSQL, where the fill runs at a few hundred requests a second on this machine. */
export const resultsPg = resultsOn('postgres', 40_000);
