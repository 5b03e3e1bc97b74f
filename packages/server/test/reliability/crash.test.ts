import { request as httpRequest } from 'node:http';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicMessage } from '../../test-support/fakes/fake-answers.js';
import { FakeProvider } from '../../test-support/fakes/fake-provider.js';
import { api, TEST_API_KEY } from '../../test-support/api/api.js';
import { createBatch, fetchResults, listBatches, pollUntil, resultsById, tally, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { restartServer, startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Crash safety: batchd is killed with SIGKILL three times while a 10,000-request batch runs
 * against a slow provider, and restarted on the same database each time. After the last restart
 * the batch ends with every request in the results exactly once, and the only calls the provider
 * saw twice are calls that were in flight at a kill: sent, with no result committed yet.
 */

const REQUESTS = 10_000;
const CONCURRENCY = 64;
const LATENCY_MS = 50;
/** Kills happen once the provider has seen this many calls. */
const KILL_AFTER_CALLS = [2_000, 4_500, 7_000];
const UPSTREAM_KEY = 'sk-upstream-crash';

let fake: FakeProvider;

beforeAll(async () => {
  fake = await FakeProvider.start({ shape: 'anthropic', latencyMs: LATENCY_MS, apiKey: UPSTREAM_KEY });
});

afterAll(async () => {
  await fake.close();
});

/** Reads a stopped or running server's database with a read-only connection of its own. */
function readDb<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The custom_ids whose results are committed in the database of a stopped server. */
function committedIds(dbPath: string): Set<string> {
  return readDb(dbPath, (db) => new Set(db.prepare(`SELECT custom_id FROM requests WHERE state = 'done'`).pluck().all() as string[]));
}

describe('kill -9 during a batch', () => {
  it('loses nothing and repeats only the calls in flight at each kill', async () => {
    const requests = userRequests(REQUESTS, 'crash');
    const idByText = new Map(requests.map((request) => [JSON.stringify(request.params), request.custom_id]));
    const idOfCall = (index: number): string => {
      const id = idByText.get(JSON.stringify(fake.requests[index]!.body));
      if (id === undefined) throw new Error(`the provider received a call that matches no request: ${JSON.stringify(fake.requests[index]!.body)}`);
      return id;
    };

    let server: ServerHandle = await startServer({
      flags: { backend: 'anthropic', 'backend-url': fake.url, concurrency: CONCURRENCY, 'log-level': 'warn' },
      env: { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY },
    });
    const created = await createBatch(api(server.url), requests);

    /** Per kill: the calls the provider had received whose results were not committed. */
    const inFlightAtKill: Array<Set<string>> = [];
    for (const threshold of KILL_AFTER_CALLS) {
      await pollUntil(async () => fake.requests.length, (calls) => calls >= threshold, {
        timeoutMs: 60_000,
        intervalMs: 10,
        what: `the provider to see ${threshold} calls`,
      });
      const exit = await server.kill();
      expect(exit.signal).toBe('SIGKILL');
      const sent = new Set(fake.requests.map((_, index) => idOfCall(index)));
      const committed = committedIds(server.dbPath);
      for (const id of committed) expect(sent.has(id), `${id} has a result but was never sent`).toBe(true);
      inFlightAtKill.push(new Set([...sent].filter((id) => !committed.has(id))));
      server = await restartServer(server);
    }

    const client = api(server.url);
    const ended = await waitUntilEnded(client, created.id, REQUESTS, { timeoutMs: 120_000, intervalMs: 200 });
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: REQUESTS, errored: 0, canceled: 0, expired: 0 });

    const lines = await fetchResults(client, ended);
    expect(lines).toHaveLength(REQUESTS);
    const byId = resultsById(lines, requests.map((request) => request.custom_id));
    expect(tally(lines)).toEqual({ succeeded: REQUESTS, errored: 0, canceled: 0, expired: 0 });
    const wrong = requests.filter((request) => {
      const line = byId.get(request.custom_id)!;
      return line.result.type !== 'succeeded' || JSON.stringify(line.result.message) !== JSON.stringify(anthropicMessage(request.params));
    });
    expect(wrong.map((request) => request.custom_id).slice(0, 10), `${wrong.length} results differ from the provider's answer`).toEqual([]);

    const callsPerId = new Map<string, number>();
    for (let index = 0; index < fake.requests.length; index++) {
      const id = idOfCall(index);
      callsPerId.set(id, (callsPerId.get(id) ?? 0) + 1);
    }
    expect(callsPerId.size, 'every request was sent to the provider').toBe(REQUESTS);
    const inFlight = new Set(inFlightAtKill.flatMap((ids) => [...ids]));
    const repeated = [...callsPerId].filter(([, calls]) => calls > 1).map(([id]) => id);
    const repeatedNotInFlight = repeated.filter((id) => !inFlight.has(id));
    expect(repeatedNotInFlight.slice(0, 10), 'requests sent twice that were not in flight at a kill').toEqual([]);
    const inFlightCounts = inFlightAtKill.map((ids) => ids.size);
    const calls = fake.requests.length;
    expect(calls).toBeLessThanOrEqual(REQUESTS + inFlightCounts.reduce((sum, count) => sum + count, 0));

    console.log(
      `[reliability] crash: ${KILL_AFTER_CALLS.length} kill -9 survived during a ${REQUESTS}-request batch; ` +
        `${lines.length} results, 0 lost, 0 duplicated; provider calls ${calls} (+${calls - REQUESTS}); ` +
        `in flight at each kill: ${inFlightCounts.join(', ')} (concurrency ${CONCURRENCY})`,
    );
  }, 240_000);
});

describe('kill -9 during a create', () => {
  it('discards the create it did not acknowledge and keeps the one it did', async () => {
    const server = await startServer({ flags: { 'log-level': 'warn' } });
    const acknowledged = await createBatch(api(server.url), userRequests(100, 'kept'));

    // A create whose body is half sent: batchd has stored part of it when it is killed.
    const upload = httpRequest(`${server.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, 'anthropic-version': '2023-06-01' },
    });
    upload.on('error', () => undefined);
    upload.write('{"requests":[');
    upload.write(userRequests(5_000, 'unfinished').map((request) => JSON.stringify(request)).join(','));
    const storedOfUnfinished = () =>
      readDb(server.dbPath, (db) =>
        db.prepare(`SELECT count(*) FROM requests WHERE batch_seq IN (SELECT seq FROM batches WHERE status = 'creating')`).pluck().get() as number,
      );
    await pollUntil(async () => storedOfUnfinished(), (stored) => stored >= 1_000, { timeoutMs: 30_000, what: 'part of the upload to be stored' });
    await server.kill();
    upload.destroy();

    const restarted = await restartServer(server);
    const client = api(restarted.url);
    const page = await listBatches(client, '?limit=100');
    expect(page.data.map((batch) => batch.id)).toEqual([acknowledged.id]);
    const ended = await waitUntilEnded(client, acknowledged.id, 100, { timeoutMs: 60_000 });
    const lines = await fetchResults(client, ended);
    resultsById(lines, userRequests(100, 'kept').map((request) => request.custom_id));
    expect(tally(lines)).toEqual({ succeeded: 100, errored: 0, canceled: 0, expired: 0 });
    expect(readDb(restarted.dbPath, (db) => db.prepare('SELECT count(*) FROM requests').pluck().get())).toBe(100);
  }, 120_000);
});
