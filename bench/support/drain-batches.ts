import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BatchdClient, type BatchView } from './batchd-client.js';
import type { BatchdProcess } from './batchd-process.js';
import { RssSampler, type RssPeaks } from './proc-stats.js';

/**
 * Several large batches created back to back on one batchd process and drained: the time from
 * sending the first create to the last batch's `ended_at`, the server's memory throughout, and how
 * evenly the batches progress (each batch's request counts read with one list call every
 * `sampleMs`).
 */

export interface DrainOptions {
  server: BatchdProcess;
  body: Buffer;
  batches: number;
  perBatch: number;
  sampleMs: number;
  timeoutMs: number;
}

export interface DrainReport {
  /** From sending the first create to the latest `ended_at`. */
  drainSeconds: number;
  /** Sum of the create calls' times (sent back to back). */
  createSeconds: number;
  /** CPU seconds batchd used from the first create to the end. */
  serverCpuSeconds: number;
  /** The part of it on the main thread (the event loop). */
  serverMainCpuSeconds: number;
  /** CPU seconds this process (the fake provider, the creates and the sampling) used meanwhile. */
  benchCpuSeconds: number;
  /** VmHWM at the end: the peak resident size since the process started. */
  peakRssBytes: number;
  /** The largest VmRSS sampled every 50 ms while the batches ran. */
  sampled: RssPeaks;
  /** Seconds from the first create sent to the first and to the last batch's end. */
  firstEndSeconds: number;
  lastEndSeconds: number;
  /**
   * Each batch's requests done from the first sample after the last create was answered to the
   * last sample in which no batch had finished, the smallest over the largest: 1 when the
   * scheduler shares evenly among the batches, near 0 when it serves them one after another; 1
   * when no request finished in that time (a tiny run): every batch had the same share, none.
   */
  evenShare: number;
  /** Seconds between those two samples. */
  evenShareSeconds: number;
  /** Largest minus smallest per-batch done fraction at the first sample with half of all requests done. */
  midpointSpread: number;
  /** Done fraction of all requests at that sample. */
  midpointDone: number;
  progressSamples: number;
}

const done = (batch: BatchView) => {
  const counts = batch.request_counts;
  return counts.succeeded + counts.errored + counts.canceled + counts.expired;
};

/** Largest minus smallest done fraction over `views`. */
function spreadOf(views: BatchView[], perBatch: number): number {
  const fractions = views.map((view) => done(view) / perBatch);
  return Math.max(...fractions) - Math.min(...fractions);
}

export async function drainBatches(options: DrainOptions): Promise<DrainReport> {
  const { server, batches, perBatch } = options;
  const client = new BatchdClient(server.url);
  const rss = new RssSampler(server.pid, 50);
  try {
    const cpuAtStart = server.cpuSeconds();
    const mainCpuAtStart = server.mainThreadCpuSeconds();
    const benchCpuAtStart = process.cpuUsage();
    const startWall = Date.now();
    const ids = new Set<string>();
    let createSeconds = 0;
    for (let i = 0; i < batches; i++) {
      const sent = performance.now();
      ids.add((await client.createBatch(options.body)).id);
      createSeconds += (performance.now() - sent) / 1000;
    }
    const deadline = performance.now() + options.timeoutMs;
    let midpoint: { spread: number; done: number } | undefined;
    let progressSamples = 0;
    let views: BatchView[];
    let allCreated: { at: number; done: number[] } | undefined;
    let allRunning: { at: number; done: number[] } | undefined;
    for (;;) {
      views = (await client.listBatches(Math.min(1000, batches + 10))).filter((view) => ids.has(view.id));
      if (views.length !== batches) throw new Error(`the list shows ${views.length} of ${batches} batches`);
      progressSamples += 1;
      const total = views.reduce((sum, view) => sum + done(view), 0) / (batches * perBatch);
      if (!midpoint && total >= 0.5) midpoint = { spread: spreadOf(views, perBatch), done: total };
      const sample = { at: performance.now(), done: views.map(done) };
      allCreated ??= sample;
      if (sample.done.every((count) => count < perBatch)) allRunning = sample;
      if (views.every((view) => view.processing_status === 'ended')) break;
      if (performance.now() > deadline) throw new Error(`batches had not ended after ${options.timeoutMs} ms: ${views.map(done).join(', ')} done`);
      await delay(options.sampleMs);
    }
    const serverCpuSeconds = server.cpuSeconds() - cpuAtStart;
    const serverMainCpuSeconds = server.mainThreadCpuSeconds() - mainCpuAtStart;
    const benchCpu = process.cpuUsage(benchCpuAtStart);
    for (const view of views) {
      if (view.request_counts.succeeded !== perBatch) throw new Error(`batch ${view.id}: ${JSON.stringify(view.request_counts)}`);
    }
    // A batch may end before the first sample (tiny sizes, a loaded host): no sample had them all running, so the shares are of nothing.
    const running = allRunning ?? allCreated!;
    const shares = running.done.map((count, i) => count - allCreated!.done[i]!);
    const ends = views.map((view) => (Date.parse(view.ended_at ?? '') - startWall) / 1000);
    return {
      drainSeconds: Math.max(...ends),
      createSeconds,
      serverCpuSeconds,
      serverMainCpuSeconds,
      benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      peakRssBytes: server.memory().peakRssBytes,
      sampled: rss.stop(),
      firstEndSeconds: Math.min(...ends),
      lastEndSeconds: Math.max(...ends),
      evenShare: Math.max(...shares) === 0 ? 1 : Math.min(...shares) / Math.max(...shares),
      evenShareSeconds: (running.at - allCreated!.at) / 1000,
      midpointSpread: midpoint!.spread,
      midpointDone: midpoint!.done,
      progressSamples,
    };
  } finally {
    rss.stop();
    client.close();
  }
}

/** Bytes of every file under `dir`, recursively. */
export function bytesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return bytes;
}

/** Waits until `dir` holds `count` results files (`*.jsonl`); throws after `timeoutMs`. */
export async function waitForResultsFiles(dir: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const present = () => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.jsonl')).length : 0);
  while (present() < count) {
    if (performance.now() > deadline) throw new Error(`${present()} of ${count} results files in ${dir} after ${timeoutMs} ms`);
    await delay(100);
  }
}
