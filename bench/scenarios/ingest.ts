import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { insertRows, parseBody } from '../support/ingest-baseline.js';
import { figure } from '../support/report.js';
import { messageParams, writeCreateBody } from '../support/request-bodies.js';
import { secondsSince } from '../support/stats.js';
import { param, type Scenario } from './scenario.js';

const MB = 1e6;

/**
 * One create of `requests` requests (about 1 KB each) over HTTP, streamed from a file. The
 * emulator answers one request a second meanwhile, so processing does not compete with the create.
 */
export const ingest: Scenario = {
  name: 'ingest',
  summary: 'create one batch of 100,000 requests (~100 MB) over HTTP: seconds, MB/s, server peak RSS',
  sizes: { full: { requests: 100_000, textLength: 880 }, tiny: { requests: 200, textLength: 880 } },

  async run(params, context) {
    const requests = param(params, 'requests');
    const bodyPath = join(context.workDir, 'create-body.json');
    const bytes = await writeCreateBody(bodyPath, requests, (i) => messageParams(i, param(params, 'textLength')));
    context.log(`body: ${(bytes / MB).toFixed(1)} MB`);

    const server = await BatchdProcess.start({
      dir: join(context.workDir, 'batchd'),
      flags: { backend: 'emulator', concurrency: 1, 'emulator-latency-ms': 1000 },
      cpuProfileDir: context.cpuProfileDir,
    });
    const client = new BatchdClient(server.url);
    const rssAtStart = server.memory().rssBytes;
    const start = performance.now();
    const batch = await client.createBatch(() => createReadStream(bodyPath), bytes);
    const seconds = secondsSince(start);
    const { peakRssBytes } = server.memory();
    client.close();
    await server.stop();
    if (batch.request_counts.processing !== requests) throw new Error(`create stored ${batch.request_counts.processing} of ${requests} requests`);

    const parseStart = performance.now();
    const rows = await parseBody(bodyPath);
    const parseSeconds = secondsSince(parseStart);
    const insertStart = performance.now();
    insertRows(join(context.workDir, 'baseline.sqlite'), rows);
    const insertSeconds = secondsSince(insertStart);
    const baselineSeconds = parseSeconds + insertSeconds;

    return {
      figures: [
        figure('create time', 's', seconds, {
          baseline: { name: 'parse + insert', value: baselineSeconds },
          target: { on: 'ratio', compare: '<=', limit: 1.3 },
        }),
        figure('throughput', 'MB/s', bytes / MB / seconds, { baseline: { name: 'parse + insert', value: bytes / MB / baselineSeconds } }),
        figure('server peak RSS', 'MB', peakRssBytes / MB, { target: { on: 'value', compare: '<=', limit: 300 } }),
      ],
      details: {
        bodyBytes: bytes,
        baselineParseSeconds: parseSeconds,
        baselineInsertSeconds: insertSeconds,
        serverRssAtStartMB: rssAtStart / MB,
      },
    };
  },
};
