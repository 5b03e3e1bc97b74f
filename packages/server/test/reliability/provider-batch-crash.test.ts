import { BatchdClient } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { api } from '../../test-support/api/api.js';
import { fetchResults, pollUntil, resultsById, userRequests, waitUntilEnded, createBatch } from '../../test-support/api/batches.js';
import { FakeAnthropicBatches, type FakeAnthropicBatchesOptions } from '../../test-support/fakes/fake-anthropic-batches.js';
import { storeFlagCases } from '../../test-support/postgres/store-flag-cases.js';
import { batchAnswer, PROVIDER_KEY, startProviderBatchServer } from '../../test-support/process/provider-batch-server.js';
import { restartServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Crash safety of provider batches: batchd is killed with SIGKILL at each step of a provider
 * batch's life and restarted on the same database, on SQLite and on PostgreSQL: after the intent
 * is recorded (the provider failed the create), while the provider holds back its answer to a
 * create it accepted (with the requests routed by the engine, and handed over by the create
 * itself when the backend serves every model), while polling, and while downloading results (after some were written).
 * Each run ends with exactly one provider submission of each request, and every result
 * written once: the results are the provider's and the usage totals count each once.
 */

interface Step {
  name: string;
  requests: number;
  fake: FakeAnthropicBatchesOptions;
  /** The models the provider-batch backend serves (`claude-*` unless told); `*` hands a batch's requests over at its create. */
  models?: string[];
  /** Arms the fake's faults before the batch is created. */
  arm(fake: FakeAnthropicBatches): void;
  /** Resolves at the moment to kill. */
  until(fake: FakeAnthropicBatches, server: ServerHandle, batchId: string): Promise<unknown>;
}

const calls = (fake: FakeAnthropicBatches, method: string, pattern: RegExp) => fake.calls.filter((call) => call.method === method && pattern.test(call.path)).length;
const waitFor = (what: string, check: () => boolean) => pollUntil(async () => check(), (done) => done, { what, intervalMs: 5, timeoutMs: 60_000 });

const STEPS: Step[] = [
  {
    name: 'after the intent, the create refused',
    requests: 30,
    fake: {},
    arm: (fake) => fake.inject('create', 500),
    until: (fake) => waitFor('a refused create', () => calls(fake, 'POST', /\/batches$/) === 1),
  },
  {
    name: 'while the provider holds back its answer to an accepted create',
    requests: 30,
    fake: {},
    arm: (fake) => fake.inject('create', 'hold'),
    until: (fake) => waitFor('an accepted create', () => fake.submissions.length === 1),
  },
  {
    name: 'serving every model, routed at create, while the provider holds back its answer',
    requests: 30,
    fake: {},
    models: ['*'],
    arm: (fake) => fake.inject('create', 'hold'),
    until: (fake) => waitFor('an accepted create', () => fake.submissions.length === 1),
  },
  {
    name: 'while polling',
    requests: 30,
    fake: { timing: { delayMs: 1500 } },
    arm: () => undefined,
    until: (fake) => waitFor('a poll', () => calls(fake, 'GET', /\/batches\/[^/]+$/) >= 2),
  },
  {
    // The download is cut half way, then held: the lines read before the cut are written before the kill.
    name: 'while downloading results, some already written',
    requests: 2500,
    fake: {},
    arm: (fake) => fake.inject('results', 'cut', 'hold'),
    until: async (fake, server, batchId) => {
      await waitFor('a second download', () => calls(fake, 'GET', /\/results$/) >= 2);
      const batch = await new BatchdClient({ baseURL: server.url, apiKey: 'test-key' }).messages.batches.retrieve(batchId);
      expect(batch.request_counts.succeeded, 'results of the cut download were written').toBeGreaterThan(0);
      expect(batch.request_counts.succeeded).toBeLessThan(2500);
    },
  },
];

// On PostgreSQL the killed process's leases (submissions and requests) lapse after 1 s.
const stores = storeFlagCases({ lease: '1s', 'maintenance-interval': '250ms' });

describe.each(stores)('kill -9 of a provider batch on %s', (_name, storeFlags, skip) => {
  it.skipIf(skip).each(STEPS)('$name: one provider submission per request, every result written once', async (step) => {
    const fake = await FakeAnthropicBatches.start({ apiKey: PROVIDER_KEY, answer: batchAnswer, ...step.fake });
    try {
      step.arm(fake);
      let server = await startProviderBatchServer(fake, { flags: { ...(await storeFlags()), 'log-level': 'warn' }, models: step.models });
      const requests = userRequests(step.requests, 'crash');
      const created = await createBatch(api(server.url), requests);
      await step.until(fake, server, created.id);
      expect((await server.kill()).signal).toBe('SIGKILL');
      server = await restartServer(server);

      const ended = await waitUntilEnded(api(server.url), created.id, step.requests, { timeoutMs: 90_000, intervalMs: 100 });
      expect(ended.request_counts).toEqual({ processing: 0, succeeded: step.requests, errored: 0, canceled: 0, expired: 0 });
      const lines = await fetchResults(api(server.url), ended);
      const byId = resultsById(lines, requests.map((request) => request.custom_id));
      const wrong = requests.filter((request) => JSON.stringify(byId.get(request.custom_id)!.result) !== JSON.stringify({ type: 'succeeded', message: batchAnswer(request.params) }));
      expect(wrong.map((request) => request.custom_id).slice(0, 5)).toEqual([]);

      const submitted = fake.submissions.flatMap((submission) => submission.customIds);
      expect(submitted.length, 'one provider submission per request').toBe(step.requests);
      expect(new Set(submitted).size).toBe(step.requests);
      expect(fake.directCalls).toBe(0);
      const usage = await new BatchdClient({ baseURL: server.url, apiKey: 'test-key' }).messages.batches.usage(created.id);
      const outputTokens = requests.reduce((sum, request) => sum + (batchAnswer(request.params) as { usage: { output_tokens: number } }).usage.output_tokens, 0);
      expect(usage.usage.output_tokens, 'each result counted once').toBe(outputTokens);
    } finally {
      await fake.close();
    }
  }, 180_000);
});
