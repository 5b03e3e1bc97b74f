import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../../test-support/postgres/test-database.js';
import { freshStores, type StoreKind } from '../../test-support/stores/fresh-stores.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import type { BatchStore } from '../store/store.js';
import { DEFAULT_WORKSPACE } from './authenticator.js';
import { buildTestApp } from '../../test-support/api/test-app.js';

/**
 * The results of an ended batch over real HTTP are the stored result text byte for byte,
 * whatever characters it holds, and a client that stops reading them holds none of the store's
 * pooled connections.
 */

const KEY = { 'x-api-key': 'k' };

const stores = freshStores('batchd-results-bytes-');

/** Stored results with what escaping formats change: backslashes, tabs, newlines (escaped and raw), quotes and unicode. */
const AWKWARD = [
  JSON.stringify({ type: 'succeeded', message: { text: 'C:\\path\\to\tfile\n"quoted"\r\nend\\' } }),
  '{"type":"succeeded","message":{"text":"raw\ttab and raw\nnewline, \\\\N and \\."}}',
  JSON.stringify({ type: 'succeeded', message: { text: 'ünïcødé 日本語 🎉 \u2028 \u00a0' } }),
  '{"type":"succeeded","message":{"text":"\\u0000 escaped, \\\\x01"}}',
];

/** Stores an ended batch `id` whose request `i` ends with `result(i)`; returns the expected JSONL. */
async function endedBatch(store: BatchStore, id: string, count: number, result: (i: number) => string): Promise<string> {
  const now = Date.now();
  await store.createBatch(
    { id, workspaceId: DEFAULT_WORKSPACE, createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
    (async function* () {
      yield Array.from({ length: count }, (_, i) => ({ customId: `r-${i}`, params: '{}' }));
    })(),
  );
  const claimed = await store.claimRequests('owner', count, now + 60_000, now);
  const byId = new Map(claimed.map((request) => [request.customId, request.key]));
  const results = Array.from({ length: count }, (_, i) => ({ key: byId.get(`r-${i}`)!, type: 'succeeded' as const, result: result(i) }));
  await store.completeRequests('owner', results, now);
  return results.map((_, i) => `{"custom_id":"r-${i}","result":${result(i)}}\n`).join('');
}

describe.each<StoreKind>(['SQLite', 'PostgreSQL'])('results bytes on %s', (kind) => {
  it.skipIf(stores.skipped(kind))('are the stored results byte for byte, in every page and in completion order', async () => {
    const store = await stores.open(kind);
    const id = 'msgbatch_01AWKWARD';
    const expected = await endedBatch(store, id, AWKWARD.length * 3, (i) => AWKWARD[i % AWKWARD.length]!);
    const app = buildTestApp(store);
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${url}/v1/messages/batches/${id}/results`, { headers: KEY });
      expect(response.headers.get('content-type')).toBe('application/x-jsonl');
      expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(expected))).toBe(true);

      const pages: Buffer[] = [];
      for await (const page of store.readResults(id, 5)) pages.push(page);
      expect(pages).toHaveLength(3);
      expect(Buffer.concat(pages).toString()).toBe(expected);
      let completed = '';
      for await (const page of store.readCompletedResults(id, 0, 5)) completed += page.lines.toString();
      expect(completed).toBe(expected);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

const sockets: Socket[] = [];
afterAll(() => sockets.forEach((socket) => socket.destroy()));

/** Asks for the results of `id` on a raw socket and stops reading once the first bytes arrive. */
function stalledReader(port: number, id: string): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.write(`GET /v1/messages/batches/${id}/results HTTP/1.1\r\nhost: localhost\r\nx-api-key: k\r\n\r\n`);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', () => {
      socket.pause();
      resolve();
    });
  });
}

describe('results read by clients that stop reading, on PostgreSQL', () => {
  it.skipIf(postgresUnavailable() !== null)('hold no pooled connection: other reads and retrieves still run', async () => {
    const database = await createTestDatabase();
    const store = await PostgresStore.open(database.url, { poolSize: 2, poolWaitMs: 2_000 });
    const app = buildTestApp(store);
    try {
      // About 24 MB of results: far more than the socket buffers of a reader that stops.
      const text = 'x'.repeat(8_000);
      const expected = await endedBatch(store, 'msgbatch_01LARGE', 3_000, (i) => `{"type":"succeeded","message":{"n":${i},"text":"${text}"}}`);
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const port = Number(new URL(url).port);
      for (let i = 0; i < 4; i++) await stalledReader(port, 'msgbatch_01LARGE');

      const whole = await fetch(`${url}/v1/messages/batches/msgbatch_01LARGE/results`, { headers: KEY });
      expect((await whole.text()) === expected).toBe(true);
      const retrieved = await fetch(`${url}/v1/messages/batches/msgbatch_01LARGE`, { headers: KEY });
      expect(retrieved.status).toBe(200);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await app.close();
      await store.close();
      await database.drop();
    }
  });
});
