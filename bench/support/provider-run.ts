import { join } from 'node:path';
import { FakeProvider } from '../../packages/server/src/test-support/fake-provider.js';
import { BatchdClient, type BackendView, type BatchView } from './batchd-client.js';
import { BatchdProcess } from './batchd-process.js';
import { secondsSince } from './stats.js';

/**
 * batchd in front of a fake Anthropic provider: start it with `--backend anthropic`, create one
 * batch, wait for it to end, and time the phases.
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
}

export function startBatchdFor(provider: FakeProvider, dir: string, concurrency: number, cpuProfileDir?: string): Promise<BatchdProcess> {
  return BatchdProcess.start({
    dir,
    flags: { backend: 'anthropic', 'backend-url': provider.url, concurrency },
    env: { BATCHD_BACKEND_API_KEY: BACKEND_KEY },
    cpuProfileDir,
  });
}

export async function runBatchAgainstProvider(options: ProviderRunOptions): Promise<ProviderRunReport> {
  const server = await startBatchdFor(options.provider, join(options.dir, 'batchd'), options.concurrency, options.cpuProfileDir);
  const client = new BatchdClient(server.url);
  try {
    const start = performance.now();
    const created = await client.createBatch(options.body);
    const createSeconds = secondsSince(start);
    const batch = await client.waitForEnd(created.id, options.pollMs, options.timeoutMs);
    const seconds = secondsSince(start);
    if (batch.request_counts.succeeded !== options.requests) {
      throw new Error(`expected ${options.requests} succeeded, got ${JSON.stringify(batch.request_counts)}`);
    }
    const [backend] = await client.backends();
    if (!backend) throw new Error('batchd reports no backend');
    const { peakRssBytes } = server.memory();
    await options.whileRunning?.(server, client, batch);
    const serverSeconds = (Date.parse(batch.ended_at ?? '') - Date.parse(batch.created_at)) / 1000;
    return { batch, seconds, createSeconds, serverSeconds, backend, peakRssBytes };
  } finally {
    client.close();
    await server.stop();
  }
}
