import { describe, expect, it } from 'vitest';
import type { BatchStore, NewRequest } from '../../src/store/store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';

/**
 * The behaviour every store implementation must show. Each implementation's test file calls
 * this with a factory that makes a fresh, empty store.
 */
export function runStoreContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store contract`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1000;

    const batchId = () => `msgbatch_01TEST${String(nextId++).padStart(18, '0')}`;
    const requests = (count: number, prefix = 'r'): NewRequest[] =>
      Array.from({ length: count }, (_, i) => ({ customId: `${prefix}${i}`, params: `{"n":${i}}` }));
    async function* chunks(...groups: NewRequest[][]): AsyncGenerator<NewRequest[]> {
      for (const group of groups) yield group;
    }
    async function create(count: number, options: { workspace?: string; at?: number; ttl?: number } = {}) {
      const at = options.at ?? T0;
      return store.createBatch(
        { id: batchId(), workspaceId: options.workspace ?? 'w1', createdAt: at, expiresAt: at + (options.ttl ?? 24 * HOUR), archiveAt: at + 29 * 24 * HOUR },
        chunks(requests(count)),
      );
    }
    const ok = (key: number) => ({ key, type: 'succeeded' as const, result: `{"type":"succeeded","message":{"k":${key}}}`, usage: { input_tokens: 3, output_tokens: 5, cache_creation_input_tokens: 1, cache_read_input_tokens: 2 } });
    async function allResults(id: string): Promise<string[]> {
      let text = '';
      for await (const page of store.readResults(id, 3)) text += page;
      return text.split('\n').filter((line) => line !== '');
    }

    it('stores a batch with all its requests and shows it at once', async () => {
      const batch = await create(5);
      expect(batch.status).toBe('in_progress');
      expect(batch.counts).toEqual({ processing: 5, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
      expect(await store.getBatch('w1', batch.id)).toEqual(batch);
      expect(await store.getBatch('w2', batch.id)).toBeNull();
    });

    it('stores nothing when the requests fail part way', async () => {
      async function* failing(): AsyncGenerator<NewRequest[]> {
        yield requests(3);
        throw new Error('bad body');
      }
      const id = batchId();
      await expect(store.createBatch({ id, workspaceId: 'w1', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + HOUR }, failing())).rejects.toThrow('bad body');
      expect(await store.getBatch('w1', id)).toBeNull();
      expect((await store.listBatches('w1', { limit: 10 })).batches).toEqual([]);
      expect(await store.claimRequests('a', 10, T0 + 1000, T0)).toEqual([]);
    });

    it('lists newest first and pages both ways, per workspace', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await create(1)).id);
      await create(1, { workspace: 'other' });
      const newestFirst = [...ids].reverse();
      const first = await store.listBatches('w1', { limit: 2 });
      expect(first.batches.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
      expect(first.hasMore).toBe(true);
      const second = await store.listBatches('w1', { limit: 2, afterId: newestFirst[1] });
      expect(second.batches.map((b) => b.id)).toEqual(newestFirst.slice(2, 4));
      const last = await store.listBatches('w1', { limit: 2, afterId: newestFirst[3] });
      expect(last.batches.map((b) => b.id)).toEqual(newestFirst.slice(4));
      expect(last.hasMore).toBe(false);
      const back = await store.listBatches('w1', { limit: 2, beforeId: newestFirst[4] });
      expect(back.batches.map((b) => b.id)).toEqual(newestFirst.slice(2, 4));
      expect(back.hasMore).toBe(true);
    });

    it('leases each request to one owner, spread across batches', async () => {
      const big = await create(50);
      const small = await create(4);
      const a = await store.claimRequests('a', 8, T0 + 1000, T0);
      const b = await store.claimRequests('b', 100, T0 + 1000, T0);
      expect(a).toHaveLength(8);
      expect(a.filter((r) => r.batchId === small.id).length).toBeGreaterThanOrEqual(4);
      expect(b).toHaveLength(54 - 8);
      const keys = new Set([...a, ...b].map((r) => r.key));
      expect(keys.size).toBe(54);
      expect(a[0]).toMatchObject({ attempt: 1, expiresAt: big.expiresAt });
      expect(JSON.parse(a[0]!.params)).toHaveProperty('n');
    });

    it('keeps the requests leased by all owners together within a cluster limit', async () => {
      await create(20);
      const a = await store.claimRequests('a', 8, T0 + 1000, T0, 10);
      const b = await store.claimRequests('b', 8, T0 + 1000, T0, 10);
      expect(a).toHaveLength(8);
      expect(b).toHaveLength(2);
      expect(await store.claimRequests('c', 8, T0 + 1000, T0, 10)).toEqual([]);
      await store.completeRequests('a', a.slice(0, 3).map((r) => ok(r.key)), T0 + 1);
      expect(await store.claimRequests('c', 8, T0 + 1000, T0 + 1, 10)).toHaveLength(3);
      // Lapsed leases no longer hold their place.
      expect(await store.claimRequests('d', 8, T0 + 5000, T0 + 2000, 10)).toHaveLength(7);
    });

    it('stops a claim once its params pass the byte budget, always taking one', async () => {
      // Each request's params, {"n":0} to {"n":9}, are 7 bytes.
      await create(4);
      await create(4);
      const first = await store.claimRequests('a', 10, T0 + 1000, T0, undefined, 20);
      expect(first).toHaveLength(3);
      expect(first.map((r) => JSON.parse(r.params))).toEqual(expect.arrayContaining([{ n: 0 }, { n: 1 }]));
      expect(await store.claimRequests('b', 10, T0 + 1000, T0, undefined, 1)).toHaveLength(1);
      expect(await store.claimRequests('c', 10, T0 + 1000, T0, 10, 8)).toHaveLength(2);
      expect(await store.claimRequests('d', 10, T0 + 1000, T0)).toHaveLength(2);
    });

    it('stores params given in pieces, counts their bytes in claims and hands them over whole', async () => {
      const pieces = ['{"text":"', 'é'.repeat(3000), '🌍'.repeat(2000), '"}'];
      await store.createBatch(
        { id: batchId(), workspaceId: 'w1', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + HOUR },
        chunks([{ customId: 'pieced', params: pieces }, ...requests(1)]),
      );
      const bytes = Buffer.byteLength(pieces.join(''));
      const first = await store.claimRequests('a', 10, T0 + 1000, T0, undefined, bytes);
      expect(first.map((r) => [r.customId, r.params])).toEqual([['pieced', pieces.join('')]]);
      expect((await store.claimRequests('b', 10, T0 + 1000, T0)).map((r) => r.params)).toEqual(['{"n":0}']);
    });

    it("claims a batch's requests sharing a prefix key together, and in arrival order without keys", async () => {
      const keyed = Array.from({ length: 12 }, (_, i): NewRequest => ({ customId: `k${i}`, params: `{"n":${i}}`, prefixKey: `group-${'cab'[i % 3]}` }));
      const plain = requests(6, 'p');
      const at = T0;
      const batch = (id: string) => ({ id, workspaceId: 'w1', createdAt: at, expiresAt: at + HOUR, archiveAt: at + 2 * HOUR });
      await store.createBatch(batch(batchId()), chunks(keyed.slice(0, 5), keyed.slice(5)));
      await store.createBatch(batch(batchId()), chunks(plain));
      // A claim returns its requests in any order; which requests it takes is the point.
      const ids = async (owner: string, limit: number) => (await store.claimRequests(owner, limit, T0 + 1000, T0)).map((r) => r.prefixKey ? `${r.customId}@${r.prefixKey}` : r.customId).sort();
      expect(await ids('a', 8)).toEqual(['k1@group-a', 'k10@group-a', 'k4@group-a', 'k7@group-a', 'p0', 'p1', 'p2', 'p3'].sort());
      expect(await ids('b', 4)).toEqual(['k2@group-b', 'k5@group-b', 'p4', 'p5']);
      expect(await ids('c', 20)).toEqual(['k0@group-c', 'k11@group-b', 'k3@group-c', 'k6@group-c', 'k8@group-b', 'k9@group-c'].sort());
    });

    it('keeps API keys by hash, lists and revokes them', async () => {
      const key = { id: 'key_1', workspaceId: 'team-a', hash: 'a'.repeat(64), prefix: 'bk_abcd', createdAt: T0 };
      await store.apiKeys.create(key);
      await store.apiKeys.create({ ...key, id: 'key_2', workspaceId: 'team-b', hash: 'b'.repeat(64), createdAt: T0 + 1 });
      expect(await store.apiKeys.find('a'.repeat(64))).toEqual({ ...key, revokedAt: null });
      expect(await store.apiKeys.find('c'.repeat(64))).toBeNull();
      await expect(store.apiKeys.create({ ...key, id: 'key_3' })).rejects.toThrow();
      expect(await store.apiKeys.revoke('key_1', T0 + 5)).toBe(true);
      expect(await store.apiKeys.revoke('key_9', T0 + 5)).toBe(false);
      expect((await store.apiKeys.list()).map((k) => [k.id, k.revokedAt])).toEqual([['key_1', T0 + 5], ['key_2', null]]);
    });

    it('counts the requests a workspace has waiting or running', async () => {
      await create(5);
      await create(3, { workspace: 'other' });
      const claimed = await store.claimRequests('a', 2, T0 + 1000, T0);
      const mine = claimed.filter((r) => r.customId.startsWith('r'));
      await store.completeRequests('a', mine.map((r) => ok(r.key)), T0 + 1);
      expect((await store.queuedRequests('w1')) + (await store.queuedRequests('other'))).toBe(8 - mine.length);
      expect(await store.queuedRequests('nobody')).toBe(0);
    });

    it('writes results only under a held lease, counts them and ends the batch', async () => {
      const batch = await create(2);
      const claimed = await store.claimRequests('a', 10, T0 + 1000, T0);
      await store.completeRequests('intruder', claimed.map((r) => ok(r.key)), T0 + 10);
      expect((await store.getBatch('w1', batch.id))!.counts.succeeded).toBe(0);
      await store.completeRequests('a', [ok(claimed[0]!.key)], T0 + 10);
      expect((await store.getBatch('w1', batch.id))!.counts).toMatchObject({ processing: 1, succeeded: 1 });
      await store.completeRequests('a', [{ key: claimed[1]!.key, type: 'errored', result: '{"type":"errored"}' }], T0 + 20);
      const ended = (await store.getBatch('w1', batch.id))!;
      expect(ended).toMatchObject({ status: 'ended', endedAt: T0 + 20 });
      expect(ended.counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
      expect(ended.usage).toEqual({ input_tokens: 3, output_tokens: 5, cache_creation_input_tokens: 1, cache_read_input_tokens: 2 });
      const lines = await allResults(batch.id);
      expect(lines).toHaveLength(2);
      expect(lines.map((l) => JSON.parse(l).result.type).sort()).toEqual(['errored', 'succeeded']);
    });

    it('adds up what answers cost as they are written, counting those without a price', async () => {
      const batch = await create(4);
      expect(batch.cost).toEqual({ nanoUsd: 0, directNanoUsd: 0, pricedRequests: 0, unpricedRequests: 0 });
      const [a, b, c, d] = (await store.claimRequests('a', 10, T0 + 1000, T0)).map((r) => r.key) as [number, number, number, number];
      await store.completeRequests('intruder', [{ ...ok(a), cost: { nanoUsd: 100, directNanoUsd: 100 } }], T0 + 5);
      // Past 2^32 nano-dollars ($4.29): sums must stay exact integers on both stores.
      await store.completeRequests('a', [{ ...ok(a), cost: { nanoUsd: 1_500_000_000_001, directNanoUsd: 3_000_000_000_002 } }, { ...ok(b), cost: { nanoUsd: 7, directNanoUsd: 14 } }], T0 + 10);
      await store.completeRequests('a', [{ ...ok(c), cost: 'unpriced' }, { key: d, type: 'errored', result: '{"type":"errored"}' }], T0 + 20);
      const ended = (await store.getBatch('w1', batch.id))!;
      expect(ended.status).toBe('ended');
      expect(ended.cost).toEqual({ nanoUsd: 1_500_000_000_008, directNanoUsd: 3_000_000_000_016, pricedRequests: 2, unpricedRequests: 1 });
    });

    it('requeues retries and holds them until they are due', async () => {
      await create(1);
      const [request] = await store.claimRequests('a', 1, T0 + 1000, T0);
      await store.retryRequests('a', [{ key: request!.key, runAt: T0 + 500 }], T0);
      expect(await store.claimRequests('a', 1, T0 + 1000, T0 + 100)).toEqual([]);
      const again = await store.claimRequests('b', 1, T0 + 2000, T0 + 500);
      expect(again.map((r) => [r.key, r.attempt])).toEqual([[request!.key, 2]]);
    });

    it('cancels unsent requests at once and ends after those in flight', async () => {
      const batch = await create(4);
      const running = await store.claimRequests('a', 1, T0 + 1000, T0);
      const outcome = await store.cancelBatch('w1', batch.id, T0 + 5);
      expect(outcome.kind).toBe('ok');
      if (outcome.kind !== 'ok') return;
      expect(outcome.batch).toMatchObject({ status: 'canceling', cancelInitiatedAt: T0 + 5 });
      expect(outcome.batch.counts).toMatchObject({ processing: 1, canceled: 3 });
      expect(await store.cancelingBatchIds()).toEqual([batch.id]);
      expect(await store.claimRequests('a', 10, T0 + 1000, T0)).toEqual([]);
      await store.completeRequests('a', [ok(running[0]!.key)], T0 + 9);
      expect(await store.cancelingBatchIds()).toEqual([]);
      expect((await store.getBatch('w1', batch.id))!).toMatchObject({ status: 'ended', endedAt: T0 + 9 });
      expect((await store.cancelBatch('w1', batch.id, T0 + 10)).kind).toBe('ended');
      expect((await store.cancelBatch('w1', 'msgbatch_missing', T0)).kind).toBe('not_found');
      const types = (await allResults(batch.id)).map((l) => JSON.parse(l).result.type).sort();
      expect(types).toEqual(['canceled', 'canceled', 'canceled', 'succeeded']);
    });

    it('answers a cancel with nothing in flight canceling, and the batch has ended', async () => {
      const batch = await create(3);
      const outcome = await store.cancelBatch('w1', batch.id, T0 + 5);
      expect(outcome).toMatchObject({ kind: 'ok', batch: { status: 'canceling', cancelInitiatedAt: T0 + 5, endedAt: null } });
      if (outcome.kind !== 'ok') return;
      expect(outcome.batch.counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 3, expired: 0 });
      expect((await store.getBatch('w1', batch.id))!).toMatchObject({ status: 'ended', endedAt: T0 + 5, cancelInitiatedAt: T0 + 5 });
      expect((await store.cancelBatch('w1', batch.id, T0 + 6)).kind).toBe('ended');
    });

    it('expires unsent requests of overdue batches', async () => {
      const batch = await create(3, { ttl: 1000 });
      const running = await store.claimRequests('a', 1, T0 + 5000, T0);
      expect(await store.expireBatches(T0 + 999)).toBe(0);
      await store.expireBatches(T0 + 1000);
      expect((await store.getBatch('w1', batch.id))!.counts).toMatchObject({ processing: 1, expired: 2 });
      expect(await store.claimRequests('b', 10, T0 + 5000, T0 + 1000)).toEqual([]);
      await store.completeRequests('a', [ok(running[0]!.key)], T0 + 1200);
      expect((await store.getBatch('w1', batch.id))!.status).toBe('ended');
    });

    it('reclaims lapsed leases so another owner runs them', async () => {
      const batch = await create(2);
      const first = await store.claimRequests('a', 2, T0 + 1000, T0);
      await store.renewLeases('a', [first[0]!.key], T0 + 5000);
      expect(await store.reclaimExpiredLeases(T0 + 2000)).toBe(1);
      const second = await store.claimRequests('b', 2, T0 + 9000, T0 + 2000);
      expect(second.map((r) => r.key)).toEqual([first[1]!.key]);
      await store.completeRequests('a', [ok(first[1]!.key)], T0 + 2100);
      expect((await store.getBatch('w1', batch.id))!.counts.succeeded).toBe(0);
      await store.completeRequests('b', [ok(first[1]!.key)], T0 + 2100);
      await store.completeRequests('a', [ok(first[0]!.key)], T0 + 2100);
      expect((await store.getBatch('w1', batch.id))!.counts).toMatchObject({ processing: 0, succeeded: 2 });
    });

    it('deletes only ended batches, then hides and purges them', async () => {
      const batch = await create(2);
      expect(await store.deleteBatch('w1', batch.id)).toBe('not_ended');
      const claimed = await store.claimRequests('a', 2, T0 + 1000, T0);
      await store.completeRequests('a', claimed.map((r) => ok(r.key)), T0 + 1);
      expect(await store.deleteBatch('w2', batch.id)).toBe('not_found');
      expect(await store.deleteBatch('w1', batch.id)).toBe('deleted');
      expect(await store.getBatch('w1', batch.id)).toBeNull();
      expect(await store.deleteBatch('w1', batch.id)).toBe('not_found');
      expect((await store.listBatches('w1', { limit: 5 })).batches).toEqual([]);
      expect(await store.purge(100)).toBe(2);
    });

    it('archives ended batches past their results TTL and purges their results', async () => {
      const batch = await create(2);
      const claimed = await store.claimRequests('a', 2, T0 + 1000, T0);
      await store.completeRequests('a', claimed.map((r) => ok(r.key)), T0 + 1);
      expect(await store.archiveBatches(T0 + HOUR)).toBe(0);
      expect(await store.archiveBatches(T0 + 29 * 24 * HOUR)).toBe(1);
      expect((await store.getBatch('w1', batch.id))!.archivedAt).toBe(T0 + 29 * 24 * HOUR);
      expect(await store.purge(1)).toBe(1);
      expect(await store.purge(100)).toBe(1);
      expect(await allResults(batch.id)).toEqual([]);
      expect((await store.getBatch('w1', batch.id))!.counts.succeeded).toBe(2);
    });
  });
}
