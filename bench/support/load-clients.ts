import { setTimeout as delay } from 'node:timers/promises';
import { BatchdClient, type BatchView } from './batchd-client.js';
import { createBodyBuffer, messageParams } from './request-bodies.js';
import { percentile } from './stats.js';

/**
 * Background load for the control plane: `clients` API clients, each on its own connection,
 * creating a batch of 1 to 10 requests that the emulator answers after `requestLatencyMs`,
 * retrieving it every `pollMs` until it ends, listing the first page and reading its results,
 * over and over for `durationMs`.
 *
 * Run as its own process: `node load-clients.js '<json LoadClientsOptions>'`; prints one JSON
 * line (LoadClientsReport) on stdout.
 */

export interface LoadClientsOptions {
  url: string;
  clients: number;
  durationMs: number;
  pollMs: number;
  requestLatencyMs: number;
}

export interface LoadClientsReport {
  batches: number;
  creates: number;
  retrieves: number;
  lists: number;
  resultReads: number;
  /** Retrieve latency as these clients saw it, their own process's queueing included. */
  retrieveP50Ms: number;
  retrieveP99Ms: number;
  /** The first few failures; the load counts only when this is empty. */
  errors: string[];
}

/** Create bodies for batches of 1 to 10 requests, each request answered after `latencyMs`. */
function createBodies(latencyMs: number): Buffer[] {
  const params = (index: number) => ({ ...messageParams(index, 20, 16), metadata: { user_id: `emulator:latency=${latencyMs}` } });
  return Array.from({ length: 10 }, (_, i) => createBodyBuffer(i + 1, params));
}

async function main(options: LoadClientsOptions): Promise<LoadClientsReport> {
  const client = new BatchdClient(options.url, 'bench-key', options.clients);
  const report: LoadClientsReport = { batches: 0, creates: 0, retrieves: 0, lists: 0, resultReads: 0, retrieveP50Ms: 0, retrieveP99Ms: 0, errors: [] };
  const retrieveMs: number[] = [];
  const bodies = createBodies(options.requestLatencyMs);
  const ends = performance.now() + options.durationMs;

  async function round(who: number, turn: number): Promise<void> {
    report.creates += 1;
    let batch: BatchView = await client.createBatch(bodies[(who + turn) % bodies.length]!);
    while (batch.processing_status !== 'ended') {
      await delay(options.pollMs);
      const sent = performance.now();
      batch = await client.retrieve(batch.id);
      retrieveMs.push(performance.now() - sent);
      report.retrieves += 1;
    }
    await client.json('GET', '/v1/messages/batches?limit=20');
    report.lists += 1;
    await client.streamResults(batch.id);
    report.resultReads += 1;
    report.batches += 1;
  }

  async function run(who: number): Promise<void> {
    // Spread the clients' first creates over one poll interval, as clients arriving would.
    await delay((who * options.pollMs) / options.clients);
    for (let turn = 0; performance.now() < ends; turn++) {
      try {
        await round(who, turn);
      } catch (error) {
        if (report.errors.length < 10) report.errors.push((error as Error).message);
        return;
      }
    }
  }

  await Promise.all(Array.from({ length: options.clients }, (_, who) => run(who)));
  client.close();
  report.retrieveP50Ms = percentile(retrieveMs, 50);
  report.retrieveP99Ms = percentile(retrieveMs, 99);
  return report;
}

const report = await main(JSON.parse(process.argv[2] ?? '{}') as LoadClientsOptions);
process.stdout.write(`${JSON.stringify(report)}\n`);
