import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient, type BackendView, type BatchView } from './batchd-client.js';
import { BatchdProcess } from './batchd-process.js';
import { secondsSince } from './stats.js';

/**
 * batchd in front of a fake provider: start it with `--backend anthropic` (or `openai`), create
 * one batch, wait for it to end, and time the phases.
 */

export const BACKEND_KEY = 'bench-upstream-key';

export interface ProviderRunOptions {
  provider: FakeProvider;
  dir: string;
  concurrency: number;
  body: Buffer;
  requests: number;
  pollMs: number;
  timeoutMs: number;
  cpuProfileDir?: string;
  /** When set, `/v1/batchd/backends` is read this often while the batch runs (see `lane`). */
  sampleBackendMs?: number;
  /** More `serve` flags (`cache-aware`, say). */
  flags?: Record<string, string | number>;
  /** Called with the ended batch while the server still runs (results, extra reads). */
  whileRunning?: (server: BatchdProcess, client: BatchdClient, batch: BatchView) => Promise<void>;
}

export interface ProviderRunReport {
  batch: BatchView;
  /** From sending the create to seeing the batch ended. */
  seconds: number;
  /** From sending the create to its answer. */
  createSeconds: number;
  /** `ended_at - created_at` as batchd recorded them. */
  serverSeconds: number;
  backend: BackendView;
  peakRssBytes: number;
  /** CPU seconds batchd used from the create to the end. */
  serverCpuSeconds: number;
  /** The part of it on the main thread (the event loop). */
  serverMainCpuSeconds: number;
  /**
   * Means over the samples of the backend's state while the batch ran (with `sampleBackendMs`),
   * and of how long each sample's request took: batchd's responsiveness while it works.
   */
  lane: { meanLimit: number; meanInFlight: number; meanRequestMs: number; samples: number };
}

/** Reads the backend's state every `intervalMs` until stopped; keeps running sums. */
export function sampleBackend(client: BatchdClient, intervalMs: number): () => Promise<ProviderRunReport['lane']> {
  let stopped = false;
  let limit = 0;
  let inFlight = 0;
  let requestMs = 0;
  let samples = 0;
  const loop = (async () => {
    while (!stopped) {
      const start = performance.now();
      const [backend] = await client.backends();
      if (backend && !stopped) {
        requestMs += performance.now() - start;
        limit += backend.concurrency_limit;
        inFlight += backend.in_flight;
        samples += 1;
      }
      await delay(intervalMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { meanLimit: limit / samples, meanInFlight: inFlight / samples, meanRequestMs: requestMs / samples, samples };
  };
}

/** batchd in front of `provider`: an `anthropic` backend, or an `openai` one when the provider speaks chat completions. */
export function startBatchdFor(provider: FakeProvider, dir: string, concurrency: number, cpuProfileDir?: string, flags: Record<string, string | number> = {}): Promise<BatchdProcess> {
  return BatchdProcess.start({
    dir,
    flags: { backend: provider.url.endsWith('/v1') ? 'openai' : 'anthropic', 'backend-url': provider.url, concurrency, ...flags },
    env: { BATCHD_BACKEND_API_KEY: BACKEND_KEY },
    cpuProfileDir,
  });
}

export async function runBatchAgainstProvider(options: ProviderRunOptions): Promise<ProviderRunReport> {
  const server = await startBatchdFor(options.provider, join(options.dir, 'batchd'), options.concurrency, options.cpuProfileDir, options.flags);
  const client = new BatchdClient(server.url);
  try {
    const cpuAtStart = server.cpuSeconds();
    const mainCpuAtStart = server.mainThreadCpuSeconds();
    const start = performance.now();
    const created = await client.createBatch(options.body);
    const createSeconds = secondsSince(start);
    const stopSampling = options.sampleBackendMs === undefined ? undefined : sampleBackend(client, options.sampleBackendMs);
    const batch = await client.waitForEnd(created.id, options.pollMs, options.timeoutMs);
    const seconds = secondsSince(start);
    const lane = (await stopSampling?.()) ?? { meanLimit: Number.NaN, meanInFlight: Number.NaN, meanRequestMs: Number.NaN, samples: 0 };
    const serverCpuSeconds = server.cpuSeconds() - cpuAtStart;
    const serverMainCpuSeconds = server.mainThreadCpuSeconds() - mainCpuAtStart;
    if (batch.request_counts.succeeded !== options.requests) {
      throw new Error(`expected ${options.requests} succeeded, got ${JSON.stringify(batch.request_counts)}`);
    }
    const [backend] = await client.backends();
    if (!backend) throw new Error('batchd reports no backend');
    const { peakRssBytes } = server.memory();
    await options.whileRunning?.(server, client, batch);
    const serverSeconds = (Date.parse(batch.ended_at ?? '') - Date.parse(batch.created_at)) / 1000;
    return { batch, seconds, createSeconds, serverSeconds, backend, peakRssBytes, serverCpuSeconds, serverMainCpuSeconds, lane };
  } finally {
    client.close();
    await server.stop();
  }
}
