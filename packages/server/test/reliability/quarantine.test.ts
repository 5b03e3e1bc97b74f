import { describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../../test-support/postgres/test-database.js';
import { api } from '../../test-support/api/api.js';
import { databaseRows } from '../../test-support/api/database-rows.js';
import { SUSPECT_LEASE_LOSSES } from '../../src/store/quarantine.js';
import { createBatch, fetchResults, pollUntil, resultsById, tally, userRequest, waitUntilEnded } from '../../test-support/api/batches.js';
import { restartServer, startServer, type ServerFlags, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Quarantine: one request of a batch hangs its backend call (the emulator's `latency` directive,
 * far beyond the test), and batchd is killed with SIGKILL each time it is working on it. The
 * third time, the request is not sent again: it ends `errored` (`api_error`, saying it could not
 * be processed) and the batch ends with the other requests succeeded, on SQLite and PostgreSQL.
 * The others take a few seconds each and are in flight beside it at the first two kills: they
 * become suspects with it, run one at a time, and none is in flight at the third kill.
 */

const KILLS = 3;
const OTHERS = 6;
const deadly = userRequest('deadly', 'This one never finishes.', { metadata: { user_id: 'emulator:latency=3600000' } });
const slow = (customId: string) => userRequest(customId, `Say hello to ${customId}.`, { metadata: { user_id: 'emulator:latency=3000' } });

const unavailable = postgresUnavailable();
const stores: Array<[string, () => Promise<{ flags: ServerFlags; db: (server: ServerHandle) => string; drop: () => Promise<void> }>, boolean]> = [
  ['SQLite', async () => ({ flags: {}, db: (server) => server.dbPath, drop: async () => undefined }), false],
  [
    `PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const database = await createTestDatabase();
      // A killed process's lease lapses after 2 s; the next process's maintenance then reclaims it.
      return { flags: { db: database.url, lease: '2s', 'maintenance-interval': '250ms' }, db: () => database.url, drop: () => database.drop() };
    },
    unavailable !== null,
  ],
];

describe.each(stores)('a request in flight at three kill -9 on %s', (_name, makeStore, skip) => {
  it.skipIf(skip)('ends errored instead of running a fourth time, and the rest of its batch succeeds', async () => {
    const store = await makeStore();
    try {
      let server = await startServer({ flags: { 'log-level': 'warn', ...store.flags } });
      const others = Array.from({ length: OTHERS }, (_, i) => slow(`fine-${i}`));
      const batch = await createBatch(api(server.url), [others[0]!, deadly, ...others.slice(1)]);
      const deadlyRow = async () =>
        (await databaseRows<{ attempts: number; state: string }>(store.db(server), `SELECT attempts, state FROM requests WHERE custom_id = 'deadly'`))[0]!;
      const othersRunning = async () =>
        Number((await databaseRows<{ n: number }>(store.db(server), `SELECT count(*) AS n FROM requests WHERE custom_id <> 'deadly' AND state = 'running'`))[0]!.n);

      for (let kill = 1; kill <= KILLS; kill++) {
        // Killed once this process has claimed the request (its call is then hanging), and at the
        // first two kills once every other request is in flight beside it too.
        await pollUntil(deadlyRow, (row) => row.state === 'running' && row.attempts === kill, { timeoutMs: 60_000, what: `attempt ${kill} of the deadly request` });
        if (kill < KILLS) await pollUntil(othersRunning, (n) => n === OTHERS, { timeoutMs: 60_000, what: `the others in flight at kill ${kill}` });
        expect((await server.kill()).signal).toBe('SIGKILL');
        server = await restartServer(server);
      }

      const client = api(server.url);
      const ended = await waitUntilEnded(client, batch.id, OTHERS + 1, { timeoutMs: 60_000 });
      expect(ended.request_counts).toEqual({ processing: 0, succeeded: OTHERS, errored: 1, canceled: 0, expired: 0 });
      const lines = await fetchResults(client, ended);
      expect(tally(lines)).toEqual({ succeeded: OTHERS, errored: 1, canceled: 0, expired: 0 });
      const result = resultsById(lines, [deadly.custom_id, ...others.map((request) => request.custom_id)]).get('deadly')!.result;
      expect(result.type).toBe('errored');
      if (result.type !== 'errored') return;
      expect(result.error.error.type).toBe('api_error');
      expect(result.error.error.message).toContain('could not be processed');
      expect(await deadlyRow()).toEqual({ attempts: KILLS, state: 'done' });
      // The others lost their leases at the first two kills, beside the deadly one, and succeeded.
      const losses = await databaseRows<{ lease_losses: number }>(store.db(server), `SELECT lease_losses FROM requests WHERE custom_id <> 'deadly'`);
      expect(losses.map((row) => Number(row.lease_losses))).toEqual(Array(OTHERS).fill(SUSPECT_LEASE_LOSSES));
      await server.stop();
    } finally {
      await store.drop();
    }
  }, 180_000);
});
