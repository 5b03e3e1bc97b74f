import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { downloadFloors } from '../support/download-baseline.js';
import { RssSampler } from '../support/proc-stats.js';
import { providerTimeline, type FakeCallTimes, type ProviderBatchTimes, type Timeline } from '../support/provider-timeline.js';
import { REPO_ROOT } from '../support/repo-paths.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { param, type Scenario, type RunContext } from './scenario.js';

const FAKE_MAIN = join(REPO_ROOT, 'bench/dist/packages/server/test-support/fakes/fake-batches-main.js');
const KEY = 'bench-provider-key';
const HEADERS = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const MB = 1024 * 1024;

/** The fake Message Batches API in a process of its own; resolves with its URL once it listens. */
async function startFake(processingMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [FAKE_MAIN, JSON.stringify({ shape: 'anthropic', apiKey: KEY, timing: { delayMs: processingMs } })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  return { url: (JSON.parse(line.split('\n')[0]!) as { url: string }).url, child };
}

/** Reads a JSON answer of the fake provider. */
async function fakeJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: HEADERS });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The provider's batches, with when each was created and ended and where its results are. */
async function providerBatches(url: string): Promise<Array<ProviderBatchTimes & { resultsUrl: string }>> {
  const list = await fakeJson<{ data: Array<{ id: string; created_at: string; ended_at: string | null; results_url: string | null }> }>(`${url}/v1/messages/batches?limit=1000`);
  return list.data.map((batch) => ({ id: batch.id, createdAt: Date.parse(batch.created_at), endedAt: Date.parse(batch.ended_at ?? ''), resultsUrl: batch.results_url ?? '' }));
}

/** What one round measured: the timeline, the floors under its download, and the server's CPU and peak RSS. */
interface Round {
  timeline: Timeline;
  floors: { transfer: number; stored: number };
  cpuSeconds: number;
  maxRssBytes: number;
  providerBatches: number;
  createBodyMB: number;
  polls: string;
}

/** Waits for every written page to reach the disk, so that what came before is not written back during what comes next. */
function settleDisk(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

/**
 * One batch of `requests` through a new batchd and a new fake provider, in `dir`; then, batchd
 * stopped, the floors under its download, fetched from that fake.
 */
async function round(dir: string, sizes: { requests: number; processingMs: number; pollMs: number }, context: RunContext): Promise<Round> {
  const fake = await startFake(sizes.processingMs);
  mkdirSync(dir, { recursive: true });
  try {
    settleDisk();
    const measured = await batchThroughBatchd(dir, sizes, fake.url, context);
    // Measured once batchd has stopped and what it wrote is on disk: neither the results file it
    // writes when a batch ends, nor the kernel writing its pages back, weighs on the floor.
    settleDisk();
    const floors = await downloadFloors(measured.resultsUrl, HEADERS, join(dir, 'download-floor.sqlite'));
    context.log(`${sizes.requests} requests: ${JSON.stringify(measured.timeline)}; the download alone ${floors.transfer.toFixed(2)} s, kept ${floors.stored.toFixed(2)} s`);
    return { ...measured, floors };
  } finally {
    fake.child.kill('SIGTERM');
  }
}

/** The batch through a new batchd, stopped before this returns: its timeline, CPU and peak RSS, and where the provider's results are. */
async function batchThroughBatchd(dir: string, sizes: { requests: number; pollMs: number }, fakeUrl: string, context: RunContext): Promise<Omit<Round, 'floors'> & { resultsUrl: string }> {
  const { requests, pollMs } = sizes;
  const config = join(dir, 'provider-batch.json');
  writeFileSync(config, JSON.stringify({ backends: [{ name: 'claude-batch', type: 'anthropic-batch', url: fakeUrl, api_key_env: 'PROVIDER_KEY', models: ['*'] }] }));
  const server = await BatchdProcess.start({ dir: join(dir, 'batchd'), flags: { config, 'provider-poll-interval': `${pollMs}ms` }, env: { PROVIDER_KEY: KEY }, cpuProfileDir: context.cpuProfileDir });
  const client = new BatchdClient(server.url);
  const sampler = new RssSampler(server.pid, 20);
  try {
    const body = createBodyBuffer(requests, (i) => messageParams(i, 20, 64));
    const sent = Date.now();
    const created = await client.createBatch(body);
    const acknowledged = Date.now();
    const cpuAtAcknowledged = server.cpuSeconds();
    const ended = await client.waitForEnd(created.id, 50, 600_000);
    const cpuSeconds = server.cpuSeconds() - cpuAtAcknowledged;
    if (ended.request_counts.succeeded !== requests) throw new Error(`the batch ended with ${JSON.stringify(ended.request_counts)}`);
    const peaks = sampler.stop();
    const { data } = await client.json<{ data: Array<{ created_at: string }> }>('GET', `/v1/messages/batches/${created.id}/provider_batches`);
    const batches = await providerBatches(fakeUrl);
    const calls = await fakeJson<FakeCallTimes[]>(`${fakeUrl}/_fake/calls`);
    const intent = Math.min(...data.map((batch) => Date.parse(batch.created_at)));
    const timeline = providerTimeline({ sent, acknowledged, intent, ended: Date.parse(ended.ended_at!), calls, batches });
    const createAnswered = calls.find((call) => call.method === 'POST')?.answeredAt ?? 0;
    const polls = calls.filter((call) => call.method === 'GET' && /\/batches\/[^/]+$/.test(call.path)).map((call) => ((call.at - createAnswered) / 1000).toFixed(2));
    return {
      timeline, cpuSeconds, maxRssBytes: peaks.maxRssBytes, providerBatches: batches.length, createBodyMB: body.length / MB, polls: polls.join(' '), resultsUrl: batches[0]!.resultsUrl,
    };
  } finally {
    sampler.stop();
    client.close();
    await server.stop();
  }
}

/** Rounds run, each with a new batchd and fake: the time added and the download's floor are each the best of them. */
const ROUNDS = 2;

/**
 * A batch through `anthropic-batch`: `requests` requests go to a fake Message Batches API (in its
 * own process) that ends a provider batch `processingMs` after its create. The timeline of the
 * batch comes from batchd's and the fake's records (`support/provider-timeline.ts`); the time
 * batchd adds is from the create acknowledged (the upload is the client's) to the batch ended,
 * less the provider's processing (its batches running, and its handling of the create from the
 * body fully read to its answer), and is judged against one poll interval plus the download's
 * floor: the results fetched and kept by a bare loop (`support/download-baseline.ts`). Each side
 * is the best of two rounds, each round a new batchd and fake, its batch and then its floor, so
 * a neighbour's burst weighs on both sides alike; the phases shown are the best round's. The
 * server's resident size is sampled throughout; its peak is the higher round's.
 */
export const providerBatch: Scenario = {
  name: 'provider-batch',
  summary: '100,000 requests through anthropic-batch against a fake provider: time added beyond its processing (best of two rounds), server peak RSS',
  sizes: {
    full: { requests: 100_000, processingMs: 5_000, pollMs: 2_000 },
    tiny: { requests: 1000, processingMs: 500, pollMs: 500 },
  },

  async run(params, context) {
    const sizes = { requests: param(params, 'requests'), processingMs: param(params, 'processingMs'), pollMs: param(params, 'pollMs') };
    const rounds: Round[] = [];
    for (let index = 0; index < ROUNDS; index += 1) rounds.push(await round(join(context.workDir, `round-${index + 1}`), sizes, context));
    const best = rounds.reduce((a, b) => (b.timeline.added < a.timeline.added ? b : a));
    const transfer = Math.min(...rounds.map((r) => r.floors.transfer));
    const stored = Math.min(...rounds.map((r) => r.floors.stored));
    const { timeline } = best;
    return {
      figures: [
        figure('upload (create acknowledged)', 's', timeline.upload),
        figure('routing (intent written)', 's', timeline.routing),
        figure('submit (provider create answered)', 's', timeline.submit),
        figure('of which the provider handling the create', 's', timeline.providerCreate),
        figure('provider processing', 's', timeline.provider),
        figure('poll lag (batchd saw it ended)', 's', timeline.pollLag),
        figure('download (results read)', 's', timeline.download),
        figure('last results written → ended', 's', timeline.writeTail),
        figure('the results fetched alone', 's', transfer),
        figure('the results fetched and kept alone', 's', stored),
        figure('added beyond provider processing', 's', timeline.added, {
          baseline: { name: 'poll interval + results fetched and kept', value: sizes.pollMs / 1000 + stored },
          target: { on: 'ratio', compare: '<=', limit: 1 },
        }),
        figure('server CPU, create acknowledged → ended', 's', best.cpuSeconds),
        figure('server peak RSS', 'MB', Math.max(...rounds.map((r) => r.maxRssBytes)) / MB, { target: { on: 'value', compare: '<=', limit: 600 } }),
      ],
      details: {
        ...sizes,
        createBodyMB: best.createBodyMB,
        providerBatches: best.providerBatches,
        // Each round: time added / the results fetched and kept alone / batchd's download / its poll lag (s), and its polls after the create's answer.
        rounds: rounds.map((r) => [r.timeline.added, r.floors.stored, r.timeline.download, r.timeline.pollLag].map((s) => s.toFixed(2)).join(' / ')).join('; '),
        polls: rounds.map((r) => r.polls).join('; '),
      },
    };
  },
};
