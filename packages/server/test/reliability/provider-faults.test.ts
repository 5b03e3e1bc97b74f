import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicMessage, lastUserText } from '../../test-support/fakes/fake-answers.js';
import { FakeProvider, type FakeFault } from '../../test-support/fakes/fake-provider.js';
import { api } from '../../test-support/api/api.js';
import { createBatch, fetchResults, resultsById, tally, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { schemaErrors } from '../../test-support/api/openapi.js';
import { startServer } from '../../test-support/process/server-process.js';
import { tallyFaults } from '../../test-support/process/fault-tally.js';

/**
 * A batch against a provider that fails a quarter of its calls: it drops the connection, stalls past
 * batchd's backend timeout, answers 429, 529, 500 and 503, or answers 200 with a body that is not
 * JSON. Every request ends exactly once; every `succeeded` result carries exactly the message the
 * provider answered for that request; every message batchd received became a `succeeded` result;
 * an `errored` request ended with a retryable error type once batchd ran out of attempts.
 *
 * The provider runs in the test process: the schema validators are compiled before the batch
 * starts, so that compiling them cannot hold up the provider's answers past the timeout.
 */

const REQUESTS = 600;
/**
 * A quarter of all calls fail. A stall holds one of batchd's few call slots (it cuts its
 * concurrency on overload signals) for the whole backend timeout, so stalls are drawn at half the
 * weight of the other kinds to keep the run short.
 */
const FAULT_KINDS: FakeFault[] = [429, 529, 500, 503, 'drop', 'garbage'];
const FAULTS = { rate: 0.25, kinds: [...FAULT_KINDS, ...FAULT_KINDS, 'stall'] as FakeFault[], seed: 20_261_125 };
const BACKEND_TIMEOUT = '2s';
const MAX_ATTEMPTS = 6;
const UPSTREAM_KEY = 'sk-upstream-faults';
/** The error types batchd gives a request whose every attempt met one of these faults. */
const FAULT_ERROR_TYPES = ['api_error', 'rate_limit_error', 'overloaded_error', 'timeout_error'];

interface LaneStats {
  calls: number;
  succeeded: number;
  rateLimited: number;
  overloaded: number;
  serverErrors: number;
}

let fake: FakeProvider;
/** The custom_id of each call the provider answered with a message. */
const answered: string[] = [];

beforeAll(async () => {
  for (const name of ['MessageBatch', 'MessageBatchIndividualResponse', 'ErrorResponse']) schemaErrors(name, {});
  fake = await FakeProvider.start({
    shape: 'anthropic',
    latencyMs: 5,
    apiKey: UPSTREAM_KEY,
    faults: FAULTS,
    respond: (body) => {
      answered.push(customIdOf(body));
      return anthropicMessage(body);
    },
  });
});

afterAll(async () => {
  await fake.close();
});

/** `userRequests` ask "Say hello to <custom_id>."; the id is read back from what the provider received. */
function customIdOf(body: unknown): string {
  const match = /^Say hello to (\S+)\.$/.exec(lastUserText(body));
  if (!match) throw new Error(`the provider received a call that matches no request: ${JSON.stringify(body)}`);
  return match[1]!;
}

describe('a provider that fails', () => {
  it('loses nothing and reports as succeeded only what the provider answered', async () => {
    const server = await startServer({
      flags: {
        backend: 'anthropic',
        'backend-url': fake.url,
        'backend-timeout': BACKEND_TIMEOUT,
        'max-attempts': MAX_ATTEMPTS,
        concurrency: 32,
        'log-level': 'error',
      },
      env: { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY },
    });
    const client = api(server.url);
    const requests = userRequests(REQUESTS, 'fault');
    const created = await createBatch(client, requests);
    const ended = await waitUntilEnded(client, created.id, REQUESTS, { timeoutMs: 240_000, intervalMs: 250 });

    const lines = await fetchResults(client, ended);
    const byId = resultsById(lines, requests.map((request) => request.custom_id));
    const counts = tally(lines);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: counts.succeeded, errored: counts.errored, canceled: 0, expired: 0 });
    expect(counts.succeeded + counts.errored).toBe(REQUESTS);

    const callsPerId = new Map<string, number>();
    for (const call of fake.requests) {
      const id = customIdOf(call.body);
      callsPerId.set(id, (callsPerId.get(id) ?? 0) + 1);
    }
    const answeredIds = new Set(answered);
    const problems: string[] = [];
    for (const request of requests) {
      const { result } = byId.get(request.custom_id)!;
      const calls = callsPerId.get(request.custom_id) ?? 0;
      if (result.type === 'succeeded') {
        if (!answeredIds.has(request.custom_id)) problems.push(`${request.custom_id}: succeeded, but the provider never answered it`);
        if (JSON.stringify(result.message) !== JSON.stringify(anthropicMessage(request.params))) {
          problems.push(`${request.custom_id}: succeeded with a message the provider did not answer: ${JSON.stringify(result.message).slice(0, 300)}`);
        }
      } else if (result.type === 'errored') {
        if (!FAULT_ERROR_TYPES.includes(result.error.error.type)) problems.push(`${request.custom_id}: errored with ${result.error.error.type}`);
        if (calls > MAX_ATTEMPTS) problems.push(`${request.custom_id}: ${calls} calls, more than ${MAX_ATTEMPTS} attempts`);
      } else {
        problems.push(`${request.custom_id}: ended ${result.type}`);
      }
      if (calls === 0) problems.push(`${request.custom_id}: never sent to the provider`);
    }
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);

    // Every message batchd received (its own count of answered calls) became a succeeded result.
    const backends = await client.get<{ data: LaneStats[] }>('/v1/batchd/backends');
    const stats = backends.body.data[0]!;
    expect(stats.succeeded, 'messages received from the provider').toBe(counts.succeeded);

    // The faults, counted by replaying the provider's draws, agree with the calls it answered
    // with a message and with the error statuses batchd counted. (An answer that reached batchd
    // after its timeout counts as a timeout there, hence at most.)
    const faults = tallyFaults(FAULTS, fake.requests.length);
    const faultTotal = [...faults.values()].reduce((sum, count) => sum + count, 0);
    expect(answered.length + faultTotal).toBe(fake.requests.length);
    expect(stats.succeeded).toBeLessThanOrEqual(answered.length);
    expect(stats.rateLimited).toBeLessThanOrEqual(faults.get(429)!);
    expect(stats.overloaded).toBeLessThanOrEqual(faults.get(529)! + faults.get(503)!);
    expect(stats.serverErrors).toBeLessThanOrEqual(faults.get(500)! + faults.get(529)! + faults.get(503)!);
    for (const kind of new Set(FAULTS.kinds)) expect(faults.get(kind), `faults of kind ${kind}`).toBeGreaterThan(0);

    const byKind = [...new Set(FAULTS.kinds)].map((kind) => `${kind} ×${faults.get(kind)}`).join(', ');
    console.log(
      `[reliability] provider faults: ${REQUESTS} requests, ${fake.requests.length} provider calls, ` +
        `${faultTotal} faults injected (${byKind}); results: ${counts.succeeded} succeeded, ${counts.errored} errored ` +
        `(every attempt failed), 0 lost, 0 false successes`,
    );
  }, 300_000);
});
