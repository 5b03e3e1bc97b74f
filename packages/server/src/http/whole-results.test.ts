import { describe, expect, it } from 'vitest';
import { freshStores, type StoreKind } from '../../test-support/stores/fresh-stores.js';
import type { BatchStore } from '../store/store.js';
import { DEFAULT_WORKSPACE } from './authenticator.js';
import { buildTestApp } from '../../test-support/api/test-app.js';

/**
 * The results of an ended batch over real HTTP, when the batch is deleted and its rows purged
 * while they stream: the body is cut off with an error, never ended cleanly but short.
 */

const stores = freshStores('batchd-whole-results-');

/** More than one page of the results route (1000 lines). */
const REQUESTS = 2500;

/** An ended batch of {@link REQUESTS} succeeded requests. */
async function endedBatch(store: BatchStore, id: string): Promise<void> {
  const now = Date.now();
  await store.createBatch(
    { id, workspaceId: DEFAULT_WORKSPACE, createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
    (async function* () {
      yield Array.from({ length: REQUESTS }, (_, i) => ({ customId: `r${i}`, params: '{}' }));
    })(),
  );
  const claimed = await store.claimRequests('owner', REQUESTS, now + 60_000, now);
  await store.completeRequests('owner', claimed.map((request) => ({ key: request.key, type: 'succeeded', result: `{"type":"succeeded","message":{"n":${request.key}}}` })), now);
}

/** The store, except that a batch's results pause after their first page while `afterFirstPage` runs. */
function pausing(store: BatchStore, afterFirstPage: (batchId: string) => Promise<void>): BatchStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'readResults') {
        return async function* (batchId: string, pageSize: number) {
          let first = true;
          for await (const page of target.readResults(batchId, pageSize)) {
            yield page;
            if (first) await afterFirstPage(batchId);
            first = false;
          }
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe.each<StoreKind>(['SQLite', 'PostgreSQL'])('results read while the batch is deleted, on %s', (kind) => {
  it.skipIf(stores.skipped(kind))('end in an interrupted body', async () => {
    const store = await stores.open(kind);
    const [whole, deleted] = ['msgbatch_01WHOLE', 'msgbatch_01DELETED'];
    await endedBatch(store, whole);
    await endedBatch(store, deleted);
    const app = buildTestApp(
      pausing(store, async (batchId) => {
        if (batchId !== deleted) return;
        expect(await store.deleteBatch(DEFAULT_WORKSPACE, deleted)).toBe('deleted');
        while ((await store.purge(10_000)) > 0);
      }),
    );
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const results = (id: string) => fetch(`${url}/v1/messages/batches/${id}/results`, { headers: { 'x-api-key': 'k' } });
      const complete = await results(whole);
      expect((await complete.text()).split('\n').filter(Boolean)).toHaveLength(REQUESTS);

      const cut = await results(deleted);
      expect(cut.status).toBe(200);
      await expect(cut.text()).rejects.toThrow();
      expect(await store.getBatch(DEFAULT_WORKSPACE, deleted)).toBeNull();
    } finally {
      await app.close();
      await store.close();
    }
  });
});
