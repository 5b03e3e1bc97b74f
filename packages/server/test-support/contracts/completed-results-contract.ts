import { describe, expect, it } from 'vitest';
import type { CompletedPage } from '../../src/store/completed-results.js';
import type { BatchStore, NewRequest } from '../../src/store/store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';

/**
 * Reading results in completion order while a batch runs, as every store must do it. Each
 * implementation's test file calls this with a factory that makes a fresh, empty store.
 */
export function runCompletedResultsContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store: results in completion order`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1;

    async function create(count: number, ttl = HOUR) {
      const requests: NewRequest[] = Array.from({ length: count }, (_, i) => ({ customId: `r${i}`, params: '{}' }));
      return store.createBatch(
        { id: `msgbatch_01DONE${String(nextId++).padStart(18, '0')}`, workspaceId: 'w1', createdAt: T0, expiresAt: T0 + ttl, archiveAt: T0 + 2 * HOUR },
        (async function* () {
          yield requests;
        })(),
      );
    }
    /** Leases every request of the store to `a`, keyed by custom_id (one batch at a time in these tests). */
    async function claimAll(): Promise<Map<string, number>> {
      const claimed = await store.claimRequests('a', 100, T0 + HOUR, T0);
      return new Map(claimed.map((r) => [r.customId, r.key]));
    }
    const ok = (key: number) => ({ key, type: 'succeeded' as const, result: `{"type":"succeeded","message":{"k":${key}}}` });
    async function pages(id: string, after: number, size = 100): Promise<CompletedPage[]> {
      const all: CompletedPage[] = [];
      for await (const page of store.readCompletedResults(id, after, size)) all.push(page);
      return all;
    }
    const lines = (read: CompletedPage[]) =>
      read.flatMap((page) => page.lines.toString().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { custom_id: string; result: { type: string } }));
    const ids = (read: CompletedPage[]) => lines(read).map((line) => line.custom_id);

    it('reads results in the order they were written, after a given completion', async () => {
      const batch = await create(5);
      const keys = await claimAll();
      expect(await pages(batch.id, 0)).toEqual([]);
      await store.completeRequests('a', [ok(keys.get('r3')!)], T0 + 1);
      await store.completeRequests('a', [ok(keys.get('r0')!), ok(keys.get('r1')!)], T0 + 2);
      const first = await pages(batch.id, 0);
      expect(ids(first)[0]).toBe('r3');
      expect(ids(first).slice(1).sort()).toEqual(['r0', 'r1']);
      expect(lines(first)[0]).toEqual({ custom_id: 'r3', result: { type: 'succeeded', message: { k: keys.get('r3') } } });
      const seen = first.at(-1)!.lastSeq;
      await store.completeRequests('a', [ok(keys.get('r4')!)], T0 + 3);
      expect(ids(await pages(batch.id, seen))).toEqual(['r4']);
      // A result written without the lease takes no place in the order.
      await store.completeRequests('intruder', [ok(keys.get('r2')!)], T0 + 4);
      expect(ids(await pages(batch.id, seen))).toEqual(['r4']);
    });

    it('reads in pages whose last completions grow, ending with the last page', async () => {
      const batch = await create(5);
      const keys = await claimAll();
      for (const id of ['r4', 'r2', 'r0', 'r1', 'r3']) await store.completeRequests('a', [ok(keys.get(id)!)], T0 + 1);
      const read = await pages(batch.id, 0, 2);
      expect(read.map((page) => ids([page]).length)).toEqual([2, 2, 1]);
      expect(ids(read)).toEqual(['r4', 'r2', 'r0', 'r1', 'r3']);
      const seqs = read.map((page) => page.lastSeq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(3);
      expect(await pages(batch.id, seqs[1]!, 2)).toEqual([read[2]]);
      expect(await pages('msgbatch_missing', 0)).toEqual([]);
    });

    it('numbers requests canceled in bulk, then those finishing in flight after them', async () => {
      const batch = await create(4);
      const [running] = await store.claimRequests('a', 1, T0 + HOUR, T0);
      await store.cancelBatch('w1', batch.id, T0 + 1);
      const canceled = await pages(batch.id, 0);
      expect(lines(canceled).map((line) => line.result.type)).toEqual(['canceled', 'canceled', 'canceled']);
      expect(ids(canceled)).not.toContain(running!.customId);
      await store.completeRequests('a', [ok(running!.key)], T0 + 2);
      expect(ids(await pages(batch.id, canceled.at(-1)!.lastSeq))).toEqual([running!.customId]);
      expect((await store.getBatch('w1', batch.id))!.status).toBe('ended');
    });

    it('numbers requests expired in bulk', async () => {
      const batch = await create(3, 1000);
      const [running] = await store.claimRequests('a', 1, T0 + HOUR, T0);
      await store.completeRequests('a', [ok(running!.key)], T0 + 10);
      await store.expireBatches(T0 + 1000);
      const read = lines(await pages(batch.id, 0));
      expect(read.map((line) => [line.custom_id === running!.customId, line.result.type])).toEqual([
        [true, 'succeeded'],
        [false, 'expired'],
        [false, 'expired'],
      ]);
    });

    it('signals this process’s writes that end requests until unsubscribed', async () => {
      const batch = await create(4);
      let signals = 0;
      const unsubscribe = store.subscribeCompletions(() => signals++);
      const keys = await claimAll();
      expect(signals).toBe(0);
      await store.completeRequests('a', [ok(keys.get('r0')!)], T0 + 1);
      expect(signals).toBe(1);
      await store.retryRequests('a', [{ key: keys.get('r1')!, runAt: T0 + 2 }], T0 + 1);
      await store.cancelBatch('w1', batch.id, T0 + 2);
      const afterCancel = signals;
      expect(afterCancel).toBeGreaterThanOrEqual(2);
      unsubscribe();
      await store.completeRequests('a', [ok(keys.get('r2')!)], T0 + 3);
      expect(signals).toBe(afterCancel);
    });
  });
}
