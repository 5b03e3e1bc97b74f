import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { anthropicMessage } from '../../packages/server/test-support/fakes/fake-answers.js';
import { FakeProvider } from '../../packages/server/test-support/fakes/fake-provider.js';
import { BatchdClient } from '../support/batchd-client.js';
import { BatchdProcess } from '../support/batchd-process.js';
import { ownCpuMs, readFileTimed } from '../support/file-read.js';
import { runBatchAgainstProvider } from '../support/provider-run.js';
import { createBodyBuffer, messageParams, prose } from '../support/request-bodies.js';

/**
 * What serving an ended batch's results file costs, per build: CPU per 100 MB of batchd and of
 * the reading client (this process), beside a read of the same bytes from a file in the page
 * cache. The first run fills a batch of 30,000 results of about 3 KB into `dir` (as `results`
 * does) and keeps it; every run then serves it `reads` times from a fresh batchd, the first read
 * reported apart (a fresh process and connection), then the file once. Alternate builds by
 * running it with `BATCHD_BENCH_MAIN` set to each build's `main.js` in turn.
 *
 *   node bench/dist/bench/probes/results-serve.js DIR READS
 */

const MB = 1e6;
const [dirArg, readsArg] = process.argv.slice(2);
if (!dirArg) throw new Error('usage: results-serve DIR READS');
const dir = dirArg;
const REQUESTS = 30_000;
const batchdDir = join(dir, 'batchd');
const idPath = join(dir, 'batch-id');
const savedPath = join(dir, 'results.jsonl');

function ownSystemMs(): number {
  return process.cpuUsage().system / 1000;
}

async function fill(): Promise<void> {
  const longText = prose(0, 2_400);
  const provider = await FakeProvider.start({
    shape: 'anthropic',
    record: false,
    respond: (body) => ({ ...anthropicMessage(body), content: [{ type: 'text', text: longText, citations: null }] }),
  });
  try {
    const run = await runBatchAgainstProvider({
      provider,
      dir,
      concurrency: 64,
      body: createBodyBuffer(REQUESTS, (i) => messageParams(i, 20, 1024)),
      requests: REQUESTS,
      pollMs: 200,
      timeoutMs: 600_000,
      whileRunning: async (_server, _client, batch) => {
        while (!existsSync(join(batchdDir, 'batchd.sqlite.results', `${batch.id}.jsonl`))) await delay(50);
      },
    });
    writeFileSync(idPath, run.batch.id);
  } finally {
    await provider.close();
  }
}

async function serve(batchId: string, reads: number): Promise<string> {
  const server = await BatchdProcess.start({ dir: batchdDir });
  const client = new BatchdClient(server.url);
  const rows: string[] = [];
  const warm = { bytes: 0, seconds: 0, serverMs: 0, systemMs: 0, clientMs: 0, clientSystemMs: 0 };
  const per100 = (ms: number, bytes: number) => (ms / (bytes / (100 * MB))).toFixed(0);
  try {
    for (let i = 0; i < reads; i++) {
      const serverAt = server.cpuTimes();
      const clientAt = ownCpuMs();
      const clientSystemAt = ownSystemMs();
      const start = performance.now();
      let chunks = 0;
      const read = await client.streamResults(batchId, () => (chunks += 1));
      const seconds = (performance.now() - start) / 1000;
      const clientMs = ownCpuMs() - clientAt;
      const clientSystemMs = ownSystemMs() - clientSystemAt;
      const serverEnd = server.cpuTimes();
      const systemMs = (serverEnd.system - serverAt.system) * 1000;
      const serverMs = (serverEnd.user - serverAt.user) * 1000 + systemMs;
      rows.push(`${(read.bytes / chunks / 1024).toFixed(0)} KB/chunk`);
      if (i === 0) rows.push(`first ${(read.bytes / MB / seconds).toFixed(0)} MB/s, batchd ${per100(serverMs, read.bytes)} ms/100MB (system ${per100(systemMs, read.bytes)}), client ${per100(clientMs, read.bytes)} (system ${per100(clientSystemMs, read.bytes)})`);
      else Object.assign(warm, { bytes: warm.bytes + read.bytes, seconds: warm.seconds + seconds, serverMs: warm.serverMs + serverMs, systemMs: warm.systemMs + systemMs, clientMs: warm.clientMs + clientMs, clientSystemMs: warm.clientSystemMs + clientSystemMs });
    }
    rows.push(`then ${(warm.bytes / MB / warm.seconds).toFixed(0)} MB/s, batchd ${per100(warm.serverMs, warm.bytes)} ms/100MB (system ${per100(warm.systemMs, warm.bytes)}), client ${per100(warm.clientMs, warm.bytes)} (system ${per100(warm.clientSystemMs, warm.bytes)})`);
    if (!existsSync(savedPath)) await pipeline(await client.send('GET', `/v1/messages/batches/${batchId}/results`), createWriteStream(savedPath));
  } finally {
    client.close();
    await server.stop();
  }
  return rows.join(' | ');
}

async function fileRead(): Promise<string> {
  const read = await readFileTimed(savedPath);
  return `${(read.bytes / MB / read.seconds).toFixed(0)} MB/s, ${(read.cpuMs / (read.bytes / (100 * MB))).toFixed(0)} ms/100MB, ${read.lines} lines`;
}

if (!existsSync(idPath)) await fill();
const batchId = readFileSync(idPath, 'utf8');
console.log(`batchd: ${await serve(batchId, Number(readsArg))}`);
console.log(`file read: ${await fileRead()}`);
