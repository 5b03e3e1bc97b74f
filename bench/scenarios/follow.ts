import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import type { FollowClientsReport } from '../support/follow-clients.js';
import { startBatchdFor } from '../support/provider-run.js';
import { figure } from '../support/report.js';
import { createBodyBuffer, messageParams } from '../support/request-bodies.js';
import { runFollowClients } from '../support/run-script.js';
import { fullAndTiny } from '../support/sizes.js';
import { secondsSince } from '../support/stats.js';
import { param, type Params, type Scenario } from './scenario.js';

/**
 * Followers of a running batch: the same batch runs four times against a provider answering in
 * `latencyMs` with batchd at `concurrency`, twice with nobody reading it and twice with `followers`
 * clients (another process) following its results from its create to its end
 * (`?partial=true&follow=true`). Figure: batchd's CPU time per request with followers against
 * without, from the create to a settle time after the end; each follower must receive every
 * result line.
 */

/**
 * Time after the end (and the followers' last reads) before batchd's CPU is read, in both runs:
 * longer than a maintenance tick (1 s), so each counts the writing of the batch's results file.
 */
const SETTLE_MS = 2_500;

interface Arm {
  seconds: number;
  cpuMsPerRequest: number;
  /** The kernel's part of that CPU time (system time: socket writes and their delivery on loopback). */
  systemMsPerRequest: number;
  followers?: FollowClientsReport;
}

async function runArm(params: Params, dir: string, followers: number, cpuProfileDir?: string): Promise<Arm> {
  const requests = param(params, 'requests');
  const provider = await FakeProvider.start({ shape: 'anthropic', latencyMs: param(params, 'latencyMs'), record: false });
  const flags = { 'max-follows-per-workspace': Math.max(followers, 1) };
  const server = await startBatchdFor(provider, dir, param(params, 'concurrency'), cpuProfileDir, flags);
  const client = new BatchdClient(server.url);
  try {
    const body = createBodyBuffer(requests, (i) => messageParams(i, 20, 64));
    const timeoutMs = 60_000 + requests * 10;
    const cpuAtStart = server.cpuTimes();
    const start = performance.now();
    const batch = await client.createBatch(body);
    const following = followers === 0 ? undefined : runFollowClients({ url: server.url, batchId: batch.id, clients: followers }, timeoutMs);
    const ended = await client.waitForEnd(batch.id, 200, timeoutMs);
    const report = await following;
    const seconds = secondsSince(start);
    await delay(SETTLE_MS);
    const cpuAtEnd = server.cpuTimes();
    const systemSeconds = cpuAtEnd.system - cpuAtStart.system;
    const cpuSeconds = cpuAtEnd.user - cpuAtStart.user + systemSeconds;
    if (ended.request_counts.succeeded !== requests) throw new Error(`expected ${requests} succeeded, got ${JSON.stringify(ended.request_counts)}`);
    if (report && (report.errors.length > 0 || report.minLines !== requests || report.maxLines !== requests)) {
      throw new Error(`followers read ${report.minLines}–${report.maxLines} lines of ${requests}: ${report.errors.join('; ')}`);
    }
    return { seconds, cpuMsPerRequest: (cpuSeconds * 1000) / requests, systemMsPerRequest: (systemSeconds * 1000) / requests, followers: report };
  } finally {
    client.close();
    await server.stop();
    await provider.close();
  }
}

export const follow: Scenario = {
  name: 'follow',
  summary: 'a batch of 10,000 requests at C=64, L=100 ms, with 200 clients following its results vs none, twice each: batchd CPU per request',
  sizes: fullAndTiny({ requests: 10_000, concurrency: 64, latencyMs: 100, followers: 200 }, { requests: 400, latencyMs: 20, followers: 20 }),

  async run(params, context) {
    const followers = param(params, 'followers');
    // The arms alternate (none, followers, followers, none) and each keeps its least CPU per
    // request, so a neighbour's burst in one run moves neither figure alone.
    const arms: { alone?: Arm; followed?: Arm } = {};
    const cpuMsPerRequestByRun: string[] = [];
    for (const [round, count] of [0, followers, followers, 0].entries()) {
      const arm = await runArm(params, join(context.workDir, `run-${round}`), count, round < 2 ? context.cpuProfileDir : undefined);
      context.log(`${count === 0 ? 'no' : count} followers: ${arm.seconds.toFixed(1)} s, ${arm.cpuMsPerRequest.toFixed(3)} ms CPU per request (${arm.systemMsPerRequest.toFixed(3)} in the kernel)`);
      cpuMsPerRequestByRun.push(`${count}: ${arm.cpuMsPerRequest.toFixed(3)}`);
      const side = count === 0 ? 'alone' : 'followed';
      if (arms[side] === undefined || arm.cpuMsPerRequest < arms[side]!.cpuMsPerRequest) arms[side] = arm;
    }
    const alone = arms.alone!;
    const followed = arms.followed!;
    const report = followed.followers!;
    return {
      figures: [
        figure('CPU per request, followers', 'ms', followed.cpuMsPerRequest, {
          baseline: { name: 'no followers', value: alone.cpuMsPerRequest },
          target: { on: 'ratio', compare: '<=', limit: 1.1 },
        }),
        figure('time, followers', 's', followed.seconds, { baseline: { name: 'no followers', value: alone.seconds } }),
      ],
      details: {
        // Followers and CPU ms per request of each run, in run order.
        cpuMsPerRequestByRun: cpuMsPerRequestByRun.join(', '),
        systemMsPerRequest: followed.systemMsPerRequest,
        systemMsPerRequestAlone: alone.systemMsPerRequest,
        followerBytes: report.bytes,
        followerChunks: report.chunks,
        chunksPerFollower: report.chunks / followers,
      },
    };
  },
};
