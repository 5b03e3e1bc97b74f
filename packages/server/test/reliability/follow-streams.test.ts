import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../test-support/postgres/test-database.js';
import { createBatch, pollUntil, userRequests } from '../../test-support/api/batches.js';
import { createKey, keysCli, withKey } from '../../test-support/api/keys.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Follow streams (`?partial=true&follow=true`) under `--auth keys`, on each store: a workspace
 * holds at most `--max-follows-per-workspace` open (more get 429 in the envelope, other workspaces
 * are untouched), and a stream ends once its key is revoked instead of outliving it.
 */

const postgresMissing = postgresUnavailable();
/** The bound the server is started with (the default is 32). */
const MAX_FOLLOWS = 5;
const STORES = [
  { store: 'SQLite', database: async (): Promise<TestDatabase | null> => null },
  { store: 'PostgreSQL', database: (): Promise<TestDatabase | null> => createTestDatabase() },
].filter((entry) => entry.store === 'SQLite' || postgresMissing === null);

describe.each(STORES)('follow streams on $store', ({ database: makeDatabase }) => {
  let server: ServerHandle;
  let database: TestDatabase | null;
  let db: string;

  beforeAll(async () => {
    database = await makeDatabase();
    // Requests that never finish while the test runs keep every batch following.
    const flags = { auth: 'keys', 'emulator-latency-ms': 600_000, concurrency: 1, 'max-follows-per-workspace': MAX_FOLLOWS, 'log-level': 'warn', ...(database ? { db: database.url } : {}) };
    server = await startServer({ flags });
    db = database?.url ?? server.dbPath;
  });

  afterAll(async () => {
    await server.kill();
    await database?.drop();
  });

  /** Opens a follow stream of `id` with `key`; resolves once the answer's headers arrive. */
  function follow(key: string, id: string, signal?: AbortSignal): Promise<Response> {
    return fetch(`${server.url}/v1/messages/batches/${id}/results?partial=true&follow=true`, { headers: { 'x-api-key': key }, signal });
  }

  it('bounds the streams a workspace holds open, and frees a place when one closes', async () => {
    const alice = createKey(db, 'team-a').key;
    const bob = createKey(db, 'team-b').key;
    const batch = await createBatch(withKey(server.url, alice), userRequests(2, 'follow'));
    const readers = Array.from({ length: MAX_FOLLOWS }, () => new AbortController());
    const open = await Promise.all(readers.map((reader) => follow(alice, batch.id, reader.signal)));
    expect(open.map((response) => response.status)).toEqual(readers.map(() => 200));

    const over = await follow(alice, batch.id);
    expect(over.status).toBe(429);
    expect(over.headers.get('request-id')).toMatch(/^req_\w+$/);
    expect(((await over.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    // Another workspace has places of its own.
    const bobBatch = await createBatch(withKey(server.url, bob), userRequests(1, 'other'));
    const bobs = await follow(bob, bobBatch.id);
    expect(bobs.status).toBe(200);
    await bobs.body?.cancel();

    readers[0]!.abort();
    const again = await pollUntil(() => follow(alice, batch.id), (response) => response.status === 200, { timeoutMs: 15_000, intervalMs: 100 });
    await again.body?.cancel();
    for (const reader of readers) reader.abort();
  });

  it('ends a stream once its key is revoked', async () => {
    const { id, key } = createKey(db, 'team-c');
    const batch = await createBatch(withKey(server.url, key), userRequests(1, 'revoked'));
    const response = await follow(key, batch.id);
    expect(response.status).toBe(200);
    const ended = response.text().then(
      () => 'ended',
      () => 'cut',
    );
    expect(keysCli(db, 'revoke', id).status).toBe(0);
    // The batch is still running: nothing but the revocation ends the stream.
    expect(await ended).toBe('cut');
    expect((await withKey(server.url, key).get(`/v1/messages/batches/${batch.id}`)).status).toBe(401);
  });
});
