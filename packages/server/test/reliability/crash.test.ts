import { request as httpRequest } from 'node:http';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { anthropicMessage } from '../../test-support/fakes/fake-answers.js';
import { FakeProvider, type ReceivedRequest } from '../../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable } from '../../test-support/postgres/test-database.js';
import { api, TEST_API_KEY } from '../../test-support/api/api.js';
import { databaseRows } from '../../test-support/api/database-rows.js';
import { createBatch, fetchResults, listBatches, pollUntil, resultsById, tally, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { restartServer, startServer, type ServerFlags, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Crash safety: batchd is killed with SIGKILL three times while a 10,000-request batch runs
 * against a slow provider, and restarted on the same database each time, on SQLite and on
 * PostgreSQL. After the last restart the batch ends with every request in the results exactly
 * once. The calls the provider saw again after a kill are calls whose results were not committed
 * at the kill: calls still in flight (at most the concurrency), and answers received but not yet
 * written, which batchd writes as they arrive (grouped only while a write is under way).
 */

const REQUESTS = 10_000;
const CONCURRENCY = 64;
// Slow enough that on PostgreSQL, where a killed process's leases lapse after 5 s, the third kill still comes mid-batch.
const LATENCY_MS = 100;
/**
 * Kills happen once the provider has seen this many calls, and every request the last killed
 * process held has ended: no request is caught by all three, which would end it errored as one
 * that takes batchd down (`store/quarantine.ts`).
 */
const KILL_AFTER_CALLS = [2_000, 4_500, 7_000];
/**
 * Most calls under way and answers received but not yet written at a kill, together: batchd
 * starts no call while twice the requests it holds (itself three times the concurrency) are under
 * way or unwritten, however far the database falls behind. Usually a few answers wait for a
 * write; the figures are printed.
 */
const MAX_CUT = 6 * CONCURRENCY;
const UPSTREAM_KEY = 'sk-upstream-crash';

/** Reads a stopped or running server's database with a read-only connection of its own. */
function readDb<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** A store the crash runs on: the flags that select it and the database to read, as `--db` names it. */
interface CrashStore {
  flags: ServerFlags;
  db(server: ServerHandle): string;
  drop(): Promise<void>;
}

async function sqliteStore(): Promise<CrashStore> {
  return { flags: {}, db: (server) => server.dbPath, drop: async () => undefined };
}

async function postgresStore(): Promise<CrashStore> {
  const database = await createTestDatabase();
  // The killed process's leases lapse after 5 s; the next one's maintenance then reclaims them.
  return { flags: { db: database.url, lease: '5s', 'maintenance-interval': '250ms' }, db: () => database.url, drop: () => database.drop() };
}

/** What the provider and the database held at one kill. */
interface Kill {
  /** Connections the provider had accepted: every call from the killed process came on one of them. */
  connections: number;
  /** Calls the provider had answered. */
  answered: Set<ReceivedRequest>;
  /** Requests whose results were committed. */
  committed: Set<string>;
}

const unavailable = postgresUnavailable();
const stores: Array<[string, () => Promise<CrashStore>, boolean]> = [
  ['SQLite', sqliteStore, false],
  [`PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, postgresStore, unavailable !== null],
];

describe.each(stores)('kill -9 during a batch on %s', (_name, makeStore, skip) => {
  it.skipIf(skip)('loses nothing and sends again only the calls in flight and the answers not yet written at each kill', async () => {
    const store = await makeStore();
    const fake = await FakeProvider.start({ shape: 'anthropic', latencyMs: LATENCY_MS, apiKey: UPSTREAM_KEY });
    try {
      await crashThreeTimes(store, fake);
    } finally {
      await fake.close();
      await store.drop();
    }
  }, 300_000);
});

async function crashThreeTimes(store: CrashStore, fake: FakeProvider): Promise<void> {
  const requests = userRequests(REQUESTS, 'crash');
  const idByText = new Map(requests.map((request) => [JSON.stringify(request.params), request.custom_id]));
  const idOf = (call: ReceivedRequest): string => {
    const id = idByText.get(JSON.stringify(call.body));
    if (id === undefined) throw new Error(`the provider received a call that matches no request: ${JSON.stringify(call.body)}`);
    return id;
  };

  let server: ServerHandle = await startServer({
    flags: { backend: 'anthropic', 'backend-url': fake.url, concurrency: CONCURRENCY, 'log-level': 'warn', ...store.flags },
    env: { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY },
  });
  const created = await createBatch(api(server.url), requests);

  const kills: Kill[] = [];
  let held: string[] = [];
  for (const threshold of KILL_AFTER_CALLS) {
    const heldList = held.map((id) => `'${id}'`).join(', ');
    await pollUntil(async () => (held.length === 0 ? [] : databaseRows(store.db(server), `SELECT custom_id FROM requests WHERE state <> 'done' AND custom_id IN (${heldList})`)), (rows) => rows.length === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'the requests the killed process held to end',
    });
    await pollUntil(async () => fake.requests.length, (calls) => calls >= threshold, {
      timeoutMs: 60_000,
      intervalMs: 10,
      what: `the provider to see ${threshold} calls`,
    });
    // The provider runs on this event loop: it accepts and answers nothing between this look and the kill.
    const connections = fake.connections;
    const answered = new Set(fake.requests.filter((call) => call.answered));
    expect((await server.kill()).signal).toBe('SIGKILL');
    const rows = await databaseRows<{ custom_id: string }>(store.db(server), `SELECT custom_id FROM requests WHERE state = 'done'`);
    kills.push({ connections, answered, committed: new Set(rows.map((row) => row.custom_id)) });
    held = (await databaseRows<{ custom_id: string }>(store.db(server), `SELECT custom_id FROM requests WHERE state = 'running'`)).map((row) => row.custom_id);
    server = await restartServer(server);
  }

  const client = api(server.url);
  const ended = await waitUntilEnded(client, created.id, REQUESTS, { timeoutMs: 180_000, intervalMs: 200 });
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

  const calls = fake.requests;
  expect(new Set(calls.map(idOf)).size, 'every request was sent to the provider').toBe(REQUESTS);
  /** The kill that ended the process a call came from; -1 for the last process. */
  const killOf = (call: ReceivedRequest): number => kills.findIndex((kill) => call.connection <= kill.connections);
  // Per kill: the requests whose last call came from the killed process and had no committed
  // result, split into calls still in flight and answers received but not written.
  const figures = kills.map((kill, k) => {
    const lastCall = new Map(calls.filter((call) => call.connection <= kill.connections).map((call) => [idOf(call), call]));
    for (const id of kill.committed) expect(lastCall.has(id), `${id} has a result but was never sent`).toBe(true);
    const cut = [...lastCall].filter(([id, call]) => killOf(call) === k && !kill.committed.has(id)).map(([id]) => id);
    const answered = cut.filter((id) => kill.answered.has(lastCall.get(id)!)).length;
    return { cut: new Set(cut), inFlight: cut.length - answered, answered, resent: [] as string[] };
  });
  // Each call that repeats an earlier one is put down to the kill that ended the earlier call's process.
  const earlier = new Map<string, ReceivedRequest>();
  const unexplained: string[] = [];
  for (const call of calls) {
    const id = idOf(call);
    const previous = earlier.get(id);
    earlier.set(id, call);
    if (previous === undefined) continue;
    const k = killOf(previous);
    if (k === -1 || k === killOf(call)) unexplained.push(id);
    else figures[k]!.resent.push(id);
  }
  console.log(
    `[reliability] crash: ${KILL_AFTER_CALLS.length} kill -9 survived during a ${REQUESTS}-request batch; ` +
      `${lines.length} results, 0 lost, 0 duplicated; provider calls ${calls.length} (+${calls.length - REQUESTS}); ` +
      `sent again per kill: ${figures.map((f) => f.resent.length).join(', ')} ` +
      `(in flight ${figures.map((f) => f.inFlight).join(', ')}; answered, not written ${figures.map((f) => f.answered).join(', ')}; concurrency ${CONCURRENCY})`,
  );
  expect(unexplained.slice(0, 10), 'requests sent twice by one process').toEqual([]);
  for (const [k, f] of figures.entries()) {
    const committed = f.resent.filter((id) => !f.cut.has(id));
    expect(committed.slice(0, 10), `requests sent again after kill ${k + 1} whose results were committed`).toEqual([]);
    expect(f.inFlight, `calls in flight at kill ${k + 1}`).toBeLessThanOrEqual(CONCURRENCY);
    expect(f.inFlight + f.answered, `calls in flight and answers not written at kill ${k + 1}`).toBeLessThanOrEqual(MAX_CUT);
  }
  expect(calls.length, 'calls beyond one per request are calls sent again after a kill').toBe(REQUESTS + figures.reduce((sum, f) => sum + f.resent.length, 0));
  await server.stop();
}

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
