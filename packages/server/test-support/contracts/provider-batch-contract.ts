import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchStore } from '../../src/store/store.js';
import { LINE_OVERHEAD_BYTES } from '../../src/store/submission-row.js';

/**
 * Provider batches, for every store: routed requests leave the queue and hold no lease (lease
 * expiry and quarantine never touch them), an intent covers them before any provider call,
 * results are written once, canceled lines end only requests of batches being canceled, and
 * requests a provider batch lacked are routed again.
 */
export function runProviderBatchContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store provider batches`, () => {
    let store: BatchStore;
    let nextId = 1;
    const T0 = 1_800_000_000_000;
    const HOUR = 3_600_000;
    const LIMITS = { maxRequests: 100, maxBytes: 1_000_000 };

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    async function create(count: number, expiresAt = T0 + 24 * HOUR, endpoint?: string) {
      const id = `msgbatch_01PROV${String(nextId++).padStart(16, '0')}`;
      const batch = await store.createBatch(
        { id, workspaceId: 'w', createdAt: T0, expiresAt, archiveAt: T0 + 48 * HOUR, ...(endpoint ? { dialect: 'chat' as const, endpoint } : {}) },
        (async function* () {
          // Every other request's params in pieces, as a create stores large ones.
          yield Array.from({ length: count }, (_, i) => ({ customId: `r${i}`, params: i % 2 ? ['{"model":"claude",', `"n":${i}}`] : `{"model":"claude","n":${i}}` }));
        })(),
      );
      return batch.id;
    }

    /** Claims everything runnable as `owner` and routes it to backend `pb`. */
    async function routeAll(owner = 'engine', now = T0) {
      const claimed = await store.claimRequests(owner, 1000, now + 1000, now);
      await store.providerBatches.routeToProvider(owner, claimed.map((request) => ({ key: request.key, backend: 'pb' })));
      return claimed;
    }

    const succeeded = (key: number) => ({ key, type: 'succeeded' as const, result: '{"type":"succeeded","message":{"id":"m"}}' });

    it('routed requests hold no lease: lease expiry neither requeues nor quarantines them', async () => {
      const id = await create(3);
      await routeAll();
      expect(await store.reclaimExpiredLeases(T0 + 10 * HOUR)).toBe(0);
      expect(await store.claimRequests('other', 10, T0 + HOUR, T0 + 5000)).toEqual([]);
      expect(await store.providerBatches.routedCount('pb')).toBe(3);
      expect((await store.getBatch('w', id))!.counts.processing).toBe(3);
    });

    it('routes queued requests in groups straight from the queue, unleased, leaving batches of other endpoints and expired ones queued', async () => {
      const messages = await create(4);
      const chat = await create(1, T0 + 24 * HOUR, '/v1/chat/completions');
      const embeddings = await create(2, T0 + 24 * HOUR, '/v1/embeddings');
      const expired = await create(1, T0 + 1);
      const groups: number[] = [];
      for (let routed = -1; routed !== 0; ) groups.push((routed = await store.providerBatches.routeQueued('pb', '/v1/chat/completions', 2, T0 + 10)));
      expect(groups.at(-1)).toBe(0);
      expect(groups.every((routed) => routed <= 2)).toBe(true);
      expect(await store.providerBatches.routedCount('pb')).toBe(5);
      expect(await store.reclaimExpiredLeases(T0 + 10 * HOUR)).toBe(0);
      expect((await store.getBatch('w', messages))!.counts.processing).toBe(4);
      expect((await store.getBatch('w', chat))!.counts.processing).toBe(1);
      const left = await store.claimRequests('engine', 10, T0 + HOUR, T0 + 10);
      expect(left.map((request) => request.batchId)).toEqual([embeddings, embeddings]);
      expect((await store.getBatch('w', expired))!.counts.processing).toBe(1);
      const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0 + 10))!;
      expect(sub.requestCount).toBe(5);
      expect((await store.providerBatches.submissionRequests(sub.id, 0, 10)).map((request) => request.dialect).sort()).toEqual(['chat', 'messages', 'messages', 'messages', 'messages']);
    });

    it('a create handed to a provider-batch backend routes its requests as the batch opens, not before, and a failed or repeated create routes none', async () => {
      const batch = (id: string) => ({ id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 24 * HOUR, archiveAt: T0 + 48 * HOUR, providerBackend: 'pb' });
      const seen: number[] = [];
      const chunks = async function* (fail = false) {
        yield [{ customId: 'a', params: '{"model":"claude"}' }];
        seen.push(await store.providerBatches.routedCount('pb'));
        if (fail) throw new Error('the upload broke');
        yield [{ customId: 'b', params: ['{"model":', '"claude"}'] }];
      };
      const options = { caller: 'c', bodyDigest: () => 'd', idempotencyKey: 'k' };
      const created = await store.createBatch(batch('msgbatch_01PROVAT0000000000000001'), chunks(), options);
      await expect(store.createBatch(batch('msgbatch_01PROVAT0000000000000002'), chunks(true))).rejects.toThrow('the upload broke');
      const repeated = await store.createBatch(batch('msgbatch_01PROVAT0000000000000003'), chunks(), options);
      expect(repeated.id).toBe(created.id);
      expect(seen).toEqual([0, 2, 2]);
      expect(await store.providerBatches.routedCount('pb')).toBe(2);
      expect(await store.claimRequests('engine', 10, T0 + HOUR, T0)).toEqual([]);
      expect(await store.reclaimExpiredLeases(T0 + 10 * HOUR)).toBe(0);
      const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0))!;
      const requests = await store.providerBatches.submissionRequests(sub.id, 0, 10);
      expect(requests.map((request) => request.params)).toEqual(['{"model":"claude"}', '{"model":"claude"}']);
      expect((await store.getBatch('w', created.id))!.counts.processing).toBe(2);
    });

    it('an intent takes routed requests round-robin across batches within the limits, before any provider id', async () => {
      const a = await create(4);
      const b = await create(2);
      await routeAll();
      const sub = await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, { maxRequests: 4, maxBytes: 1_000_000 }, T0);
      expect(sub).toMatchObject({ state: 'submitting', providerBatchId: null, requestCount: 4, backend: 'pb' });
      const requests = await store.providerBatches.submissionRequests(sub!.id, 0, 100);
      expect(requests).toHaveLength(4);
      expect(requests.every((request) => request.dialect === 'messages' && /^\{"model":"claude","n":\d\}$/.test(request.params))).toBe(true);
      expect(await store.providerBatches.routedCount('pb')).toBe(2);
      expect((await store.providerBatches.batchSubmissions(a)).map((s) => s.id)).toEqual([sub!.id]);
      expect((await store.providerBatches.batchSubmissions(b)).map((s) => s.id)).toEqual([sub!.id]);
      const small = await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, { maxRequests: 100, maxBytes: 300 }, T0);
      expect(small!.requestCount).toBe(1);
    });

    it('an intent takes every routed request when all are within the limits, to the byte; requests of an expired batch end expired', async () => {
      await create(3);
      const expiring = await create(1, T0 + HOUR);
      await routeAll();
      // Each request's 24 bytes of params, with the room left for the line around them.
      const line = 24 + LINE_OVERHEAD_BYTES;
      const counts: number[] = [];
      for (const limits of [{ maxRequests: 3, maxBytes: 3 * line - 1 }, { maxRequests: 3, maxBytes: 3 * line }, { maxRequests: 2, maxBytes: 3 * line }]) {
        const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, limits, T0 + HOUR))!;
        counts.push(sub.requestCount, (await store.providerBatches.submissionRequests(sub.id, 0, 10)).length);
        await store.providerBatches.closeSubmission(sub.id, 'o');
      }
      expect(counts).toEqual([2, 2, 3, 3, 2, 2]);
      expect((await store.getBatch('w', expiring))!).toMatchObject({ status: 'ended', counts: { processing: 0, expired: 1 } });
    });

    it('writes each result once, ends the batch, and routes again what the provider batch lacked', async () => {
      const id = await create(3);
      const [first, second, third] = await routeAll();
      const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0))!;
      await store.providerBatches.recordSubmission(sub.id, 'o', { providerBatchId: 'pbatch_1', state: 'ended' });
      await store.providerBatches.completeSubmitted(sub.id, [succeeded(first!.key), succeeded(first!.key)], T0 + 1);
      await store.providerBatches.completeSubmitted(sub.id, [succeeded(first!.key), { key: second!.key, type: 'errored', result: '{"type":"errored"}' }], T0 + 2);
      expect((await store.getBatch('w', id))!.counts).toMatchObject({ processing: 1, succeeded: 1, errored: 1 });
      expect((await store.providerBatches.submissionRequests(sub.id, 0, 10)).map((r) => r.key)).toEqual([third!.key]);
      expect(await store.providerBatches.closeSubmission(sub.id, 'someone-else')).toBe(0);
      expect(await store.providerBatches.closeSubmission(sub.id, 'o')).toBe(1);
      expect(await store.providerBatches.routedCount('pb')).toBe(1);
      const again = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0 + 3))!;
      const [last] = await store.providerBatches.submissionRequests(again.id, 0, 10);
      await store.providerBatches.completeSubmitted(again.id, [{ key: last!.key, type: 'expired', result: null }], T0 + 4);
      expect((await store.getBatch('w', id))!).toMatchObject({ status: 'ended', counts: { processing: 0, succeeded: 1, errored: 1, expired: 1 } });
      expect((await store.providerBatches.batchSubmissions(id)).map((s) => s.state)).toEqual(['closed', 'submitting']);
    });

    it('once the requests of other batches have ended, a submission waits only for those being canceled', async () => {
      await create(1);
      const canceled = await create(1);
      const [done] = await routeAll();
      const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0))!;
      await store.providerBatches.completeSubmitted(sub.id, [succeeded(done!.key)], T0 + 1);
      expect(await store.providerBatches.onlyCanceling(sub.id)).toBe(false);
      await store.cancelBatch('w', canceled, T0 + 2);
      expect(await store.providerBatches.onlyCanceling(sub.id)).toBe(true);
    });

    it('a canceled line ends only requests of batches being canceled; routed requests of a canceled batch end canceled', async () => {
      const kept = await create(1);
      const canceled = await create(2);
      await routeAll();
      const sub = (await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, { maxRequests: 2, maxBytes: 1_000_000 }, T0))!;
      expect(await store.providerBatches.onlyCanceling(sub.id)).toBe(false);
      await store.cancelBatch('w', canceled, T0 + 1);
      const requests = await store.providerBatches.submissionRequests(sub.id, 0, 10);
      await store.providerBatches.completeSubmitted(sub.id, requests.map((r) => ({ key: r.key, type: 'canceled' as const, result: null })), T0 + 2);
      expect((await store.getBatch('w', kept))!.counts).toMatchObject({ processing: 1, canceled: 0 });
      expect((await store.getBatch('w', canceled))!.counts).toMatchObject({ processing: 1, canceled: 1 });
      expect(await store.providerBatches.openSubmission('pb', 'o', T0 + HOUR, LIMITS, T0 + 3)).toBeNull();
      expect((await store.getBatch('w', canceled))!).toMatchObject({ status: 'ended', counts: { processing: 0, canceled: 2 } });
    });

    it('leases submissions to one owner at a time until the lease lapses', async () => {
      await create(1);
      await routeAll();
      const sub = (await store.providerBatches.openSubmission('pb', 'a', T0 + 1000, LIMITS, T0))!;
      expect(await store.providerBatches.takeSubmissions('pb', 'b', T0 + 5000, T0 + 500)).toEqual([]);
      expect((await store.providerBatches.takeSubmissions('pb', 'a', T0 + 5000, T0 + 500)).map((s) => s.id)).toEqual([sub.id]);
      expect((await store.providerBatches.takeSubmissions('pb', 'b', T0 + 9000, T0 + 6000)).map((s) => s.tag)).toEqual([sub.tag]);
      await store.providerBatches.recordSubmission(sub.id, 'a', { providerBatchId: 'lost' });
      expect((await store.providerBatches.batchSubmissions((await store.listBatches('w', { limit: 1 })).batches[0]!.id))[0]!.providerBatchId).toBeNull();
    });
  });
}
