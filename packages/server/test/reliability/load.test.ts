import type { MessageBatch, MessageBatchesPage } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { api, type ApiResponse } from '../../test-support/api/api.js';
import { emulatorReply, userRequest, type BatchRequest } from '../../test-support/api/batches.js';
import { schemaErrors } from '../../test-support/api/openapi.js';
import { startServer } from '../../test-support/process/server-process.js';
import { percentile } from '../../test-support/process/process-memory.js';

/**
 * Load: 200 concurrent clients for 20 s, each creating small batches, polling them until they end,
 * listing, and reading results, while the batches run. Every answer must be a valid 2xx and every
 * batch must end with exactly its requests in the results. Retrieve latencies are recorded and
 * their percentiles printed; the benchmark suite owns the timing targets.
 */

const CLIENTS = 200;
const DURATION_MS = 20_000;
const POLL_INTERVAL_MS = 100;
/** A client still waiting for its last batch this long after the load window is a failure. */
const DRAIN_LIMIT_MS = 60_000;

interface Tally {
  creates: number;
  retrieves: number;
  lists: number;
  results: number;
  batches: number;
  requests: number;
}

describe('200 concurrent clients', () => {
  it('create, poll, list and read results with no errors', async () => {
    const server = await startServer({ flags: { 'emulator-latency-ms': 20, concurrency: 64, 'log-level': 'warn' } });
    const client = api(server.url);
    const retrieveMs: number[] = [];
    const errors: string[] = [];
    const tally: Tally = { creates: 0, retrieves: 0, lists: 0, results: 0, batches: 0, requests: 0 };
    const started = Date.now();
    const loadEnds = started + DURATION_MS;
    const drainEnds = loadEnds + DRAIN_LIMIT_MS;

    /** Checks a 200 JSON answer against a schema; records an error and returns undefined otherwise. */
    function accept<T>(response: ApiResponse, schema: string, what: string): T | undefined {
      const problems = response.status === 200 ? schemaErrors(schema, response.body) : [`status ${response.status}`];
      if (response.requestId === null) problems.push('no request-id');
      if (problems.length === 0) return response.body as T;
      errors.push(`${what}: ${problems.join('; ')} ${response.text.slice(0, 200)}`);
      return undefined;
    }

    async function runBatch(who: number, round: number): Promise<boolean> {
      const size = 1 + ((who + round) % 10);
      const requests: BatchRequest[] = Array.from({ length: size }, (_, i) => userRequest(`c${who}-b${round}-r${i}`));
      tally.creates++;
      const created = accept<MessageBatch>(await client.post('/v1/messages/batches', { requests }), 'MessageBatch', `create c${who}-b${round}`);
      if (!created) return false;

      let batch = created;
      // Bounded by the drain deadline: the batch must end before it.
      while (batch.processing_status !== 'ended') {
        if (Date.now() > drainEnds) {
          errors.push(`batch ${batch.id} of client ${who} did not end: ${JSON.stringify(batch.request_counts)}`);
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        const sent = performance.now();
        const response = await client.get(`/v1/messages/batches/${batch.id}`);
        retrieveMs.push(performance.now() - sent);
        tally.retrieves++;
        const next = accept<MessageBatch>(response, 'MessageBatch', `retrieve ${batch.id}`);
        if (!next) return false;
        const counts = next.request_counts;
        if (counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired !== size) {
          errors.push(`batch ${batch.id}: counts ${JSON.stringify(counts)} do not sum to ${size}`);
        }
        batch = next;
      }

      tally.lists++;
      const page = accept<MessageBatchesPage>(await client.get('/v1/messages/batches?limit=20'), 'ListResponse_MessageBatch_', 'list');
      if (page && page.data.length > 20) errors.push(`list returned ${page.data.length} batches for limit 20`);

      tally.results++;
      const results = await client.get(`/v1/messages/batches/${batch.id}/results`);
      if (results.status !== 200 || !/^application\/x-jsonl/.test(results.contentType ?? '')) {
        errors.push(`results ${batch.id}: ${results.status} ${results.text.slice(0, 200)}`);
        return false;
      }
      if (!results.text.endsWith('\n') || results.text.includes('\n\n')) errors.push(`results ${batch.id}: not one line per result: ${JSON.stringify(results.text.slice(0, 200))}`);
      type Line = { custom_id: string; result: { type: string; message?: { content: unknown } } };
      const lines = results.text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Line);
      const ids = lines.map((line) => line.custom_id).sort();
      const expected = requests.map((request) => request.custom_id).sort();
      if (JSON.stringify(ids) !== JSON.stringify(expected)) errors.push(`results ${batch.id}: custom_ids ${ids.join(',')} instead of ${expected.join(',')}`);
      for (const line of lines) {
        const text = `Say hello to ${line.custom_id}.`;
        const content = line.result.message?.content;
        if (line.result.type !== 'succeeded' || JSON.stringify(content) !== JSON.stringify([{ type: 'text', text: emulatorReply(text), citations: null }])) {
          errors.push(`results ${batch.id}: ${line.custom_id} ended ${JSON.stringify(line.result).slice(0, 200)}`);
        }
      }
      tally.batches++;
      tally.requests += size;
      return true;
    }

    async function runClient(who: number): Promise<void> {
      for (let round = 0; Date.now() < loadEnds && round < 10_000; round++) {
        try {
          if (!(await runBatch(who, round))) return;
        } catch (error) {
          errors.push(`client ${who}: ${(error as Error).message}`);
          return;
        }
      }
    }

    await Promise.all(Array.from({ length: CLIENTS }, (_, who) => runClient(who)));
    const elapsedS = (Date.now() - started) / 1000;

    expect(errors.slice(0, 20), `${errors.length} errors`).toEqual([]);
    expect(tally.batches).toBeGreaterThan(0);
    expect((await client.get('/health')).status).toBe(200);

    const p = (q: number) => percentile(retrieveMs, q).toFixed(1);
    console.log(
      `[reliability] load: ${CLIENTS} clients for ${elapsedS.toFixed(1)} s: ${tally.creates} creates, ${tally.retrieves} retrieves, ` +
        `${tally.lists} lists, ${tally.results} result reads; ${tally.batches} batches (${tally.requests} requests) ended exactly once; ` +
        `0 errors; retrieve latency p50 ${p(50)} ms, p99 ${p(99)} ms, max ${Math.max(...retrieveMs).toFixed(1)} ms`,
    );
  }, 180_000);
});
