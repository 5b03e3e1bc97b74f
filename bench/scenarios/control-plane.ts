import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BatchdClient, type BatchView } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { nameOn, withStore, type BenchStore, type StoreKind } from '../support/bench-store.js';
import { figure } from '../support/report.js';
import type { LoadClientsOptions, LoadClientsReport } from '../support/load-clients.js';
import { runLoadClients } from '../support/run-script.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { fullAndTiny } from '../support/sizes.js';
import { percentile } from '../support/stats.js';
import { param, type Params, type RunContext, type Scenario, type ScenarioOutput } from './scenario.js';

/**
 * Retrieve and list latency with many batches stored, on SQLite or PostgreSQL: `batches` one-request batches are created
 * (emulator, no latency) and run to the end; then retrieves of random batches and list pages
 * (the first page or one after a random id) are timed one at a time over one keep-alive
 * connection. Baseline: `GET /health` on the same server and connection, the HTTP floor.
 *
 * Then the same reads under load: `loadClients` clients in another process create small batches
 * whose requests take `requestLatencyMs` (2 s), poll them until they end, list and read results for `loadSeconds`,
 * while this process times retrieves and `/health` one at a time, alternating, as a client that
 * is not itself overloaded. Twice: the clients polling every second (as the SDK's `wait` starts),
 * which carries the target, and every 100 ms, ten times the polls, reported beside it.
 */

interface LoadPhase {
  retrieve: number[];
  health: number[];
  report: LoadClientsReport;
}

/** Runs the load clients and times reads in the middle of their window. */
async function underLoad(load: LoadClientsOptions, retrievePath: () => string, client: BatchdClient): Promise<LoadPhase> {
  const loadMs = load.durationMs;
  const running = runLoadClients(load, loadMs + 120_000);
  // Time the middle of the window: every client has started, none has stopped.
  await delay(loadMs / 5);
  const timed = await timeUntil(performance.now() + (loadMs * 3) / 5, retrievePath, client);
  const report = await running;
  if (report.errors.length > 0) throw new Error(`load clients failed: ${report.errors.join('; ')}`);
  return { ...timed, report };
}

/** A small deterministic PRNG, so every run reads the same batches. */
function randomIndex(seed: number): (size: number) => number {
  let state = seed >>> 0;
  return (size) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % size;
  };
}

/** Batches not yet ended, counted over every list page. */
async function countNotEnded(client: BatchdClient): Promise<number> {
  let count = 0;
  let after = '';
  for (let page = 0; page < 1000; page++) {
    const query = after === '' ? '' : `&after_id=${after}`;
    const listed = await client.json<{ data: BatchView[]; has_more: boolean; last_id: string | null }>('GET', `/v1/messages/batches?limit=1000${query}`);
    count += listed.data.filter((batch) => batch.processing_status !== 'ended').length;
    if (!listed.has_more || listed.last_id === null) return count;
    after = listed.last_id;
  }
  return count;
}

/** Waits until every stored batch has ended, so the timed reads meet a quiet server. */
async function waitAllEnded(client: BatchdClient, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await countNotEnded(client)) > 0) {
    if (performance.now() > deadline) throw new Error(`batches still running after ${timeoutMs} ms`);
    await delay(200);
  }
}

/** Times retrieves and `/health` alternately until `untilMs` (a `performance.now()` reading). */
async function timeUntil(untilMs: number, retrievePath: () => string, client: BatchdClient): Promise<{ retrieve: number[]; health: number[] }> {
  const retrieve: number[] = [];
  const health: number[] = [];
  while (performance.now() < untilMs) {
    retrieve.push(await client.timeGet(retrievePath()));
    health.push(await client.timeGet('/health'));
    await delay(5);
  }
  return { retrieve, health };
}

async function timeMany(count: number, paths: (i: number) => string, client: BatchdClient): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await client.timeGet(paths(i)));
  return times;
}

const controlPlaneOn = (kind: StoreKind, batches: number): Scenario => ({
  name: nameOn('control-plane', kind),
  summary: `retrieve and list p50/p99 with ${batches.toLocaleString('en')} batches stored, and retrieve under 200 clients, on ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
  sizes: fullAndTiny(
    { batches, createConcurrency: 8, samples: 2_000, warmup: 200, loadClients: 200, loadSeconds: 20, requestLatencyMs: 2_000 },
    { batches: 50, samples: 50, warmup: 10, loadClients: 10, loadSeconds: 2, requestLatencyMs: 200 },
  ),
  run: (params, context) => withStore(kind, (store) => runControlPlane(params, context, store)),
});

async function runControlPlane(params: Params, context: RunContext, store: BenchStore): Promise<ScenarioOutput> {
  const batches = param(params, 'batches');
  const samples = param(params, 'samples');
  const server = await BatchdProcess.start({ dir: join(context.workDir, 'batchd'), flags: { backend: 'emulator', ...(await store.fresh()) }, cpuProfileDir: context.cpuProfileDir });
  const client = new BatchdClient(server.url);
  try {
    const body = createBodyBuffer(1, (i) => messageParams(i, 20, 16));
    const ids: string[] = [];
    let next = 0;
    const createStart = performance.now();
    const creator = async () => {
      while (next < batches) {
        next += 1;
        ids.push((await client.createBatch(body)).id);
      }
    };
    await Promise.all(Array.from({ length: param(params, 'createConcurrency') }, creator));
    const createSeconds = (performance.now() - createStart) / 1000;
    await waitAllEnded(client, 120_000);
    context.log(`created ${batches} batches in ${createSeconds.toFixed(1)} s`);

    const pick = randomIndex(7);
    const retrievePath = () => `/v1/messages/batches/${ids[pick(ids.length)]!}`;
    const listPath = (i: number) => (i % 2 === 0 ? '/v1/messages/batches' : `/v1/messages/batches?after_id=${ids[pick(ids.length)]!}`);
    const warmup = param(params, 'warmup');
    await timeMany(warmup, () => '/health', client);
    await timeMany(warmup, retrievePath, client);
    await timeMany(warmup, listPath, client);

    const health = await timeMany(samples, () => '/health', client);
    const retrieve = await timeMany(samples, retrievePath, client);
    const list = await timeMany(samples, listPath, client);
    const load = {
      url: server.url,
      clients: param(params, 'loadClients'),
      durationMs: param(params, 'loadSeconds') * 1000,
      requestLatencyMs: param(params, 'requestLatencyMs'),
    };
    const loaded = await underLoad({ ...load, pollMs: 1_000 }, retrievePath, client);
    const busy = await underLoad({ ...load, pollMs: 100 }, retrievePath, client);

    const p99Target = { on: 'value', compare: '<=', limit: 5 } as const;
    return {
      figures: [
        figure('retrieve p50', 'ms', percentile(retrieve, 50), { baseline: { name: 'GET /health p50', value: percentile(health, 50) } }),
        figure('retrieve p99', 'ms', percentile(retrieve, 99), { baseline: { name: 'GET /health p99', value: percentile(health, 99) }, target: p99Target }),
        figure('list p50', 'ms', percentile(list, 50), { baseline: { name: 'GET /health p50', value: percentile(health, 50) } }),
        figure('list p99', 'ms', percentile(list, 99), { baseline: { name: 'GET /health p99', value: percentile(health, 99) }, target: p99Target }),
        figure('retrieve p50, clients polling every 1 s', 'ms', percentile(loaded.retrieve, 50), { baseline: { name: 'GET /health p50', value: percentile(loaded.health, 50) } }),
        figure('retrieve p99, clients polling every 1 s', 'ms', percentile(loaded.retrieve, 99), {
          baseline: { name: 'GET /health p99', value: percentile(loaded.health, 99) },
          target: p99Target,
        }),
        figure('retrieve p99, clients polling every 100 ms', 'ms', percentile(busy.retrieve, 99), { baseline: { name: 'GET /health p99', value: percentile(busy.health, 99) } }),
      ],
      details: {
        createSeconds,
        createsPerSecond: batches / createSeconds,
        retrieveMaxMs: Math.max(...retrieve),
        listMaxMs: Math.max(...list),
        loadClients: param(params, 'loadClients'),
        loadSamples: loaded.retrieve.length,
        loadBatches: loaded.report.batches,
        loadRetrieves: loaded.report.retrieves,
        loadClientsRetrieveP99Ms: loaded.report.retrieveP99Ms,
        busySamples: busy.retrieve.length,
        busyBatches: busy.report.batches,
        busyRetrieves: busy.report.retrieves,
        busyClientsRetrieveP99Ms: busy.report.retrieveP99Ms,
      },
    };
  } finally {
    client.close();
    await server.stop();
  }
}

export const controlPlane = controlPlaneOn('sqlite', 10_000);
/** Fewer batches on PostgreSQL, where each create is a transaction of its own (68 creates/s on this machine). */
export const controlPlanePg = controlPlaneOn('postgres', 4_000);
