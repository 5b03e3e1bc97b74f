import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEY_TTL_MS, IdempotencyKeyReused, RETRY_WINDOW_MS, type CreateOptions } from '../../src/store/batch-creates.js';
import type { BatchStore, NewRequest } from '../../src/store/store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';

/**
 * How every store answers a create that repeats an earlier one (`createBatch` with options):
 * the same `Idempotency-Key`, or an SDK retry from the same caller with the same body.
 */
export function runBatchCreatesContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store: repeated creates`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1000;

    const requests = (count: number): NewRequest[] => Array.from({ length: count }, (_, i) => ({ customId: `r${i}`, params: `{"n":${i}}` }));
    async function* chunks(count: number, gate?: Promise<void>): AsyncGenerator<NewRequest[]> {
      yield requests(count);
      await gate;
    }
    interface Create {
      workspace?: string;
      at?: number;
      count?: number;
      gate?: Promise<void>;
    }
    function create(options: Partial<CreateOptions> & Create = {}) {
      const at = options.at ?? T0;
      const id = `msgbatch_01REPEAT${String(nextId++).padStart(16, '0')}`;
      const batch = { id, workspaceId: options.workspace ?? 'w1', createdAt: at, expiresAt: at + 24 * HOUR, archiveAt: at + 29 * 24 * HOUR };
      return store.createBatch(batch, chunks(options.count ?? 2, options.gate), { caller: 'key_1', bodyDigest: () => 'digest-a', ...options });
    }
    const listed = async (workspace = 'w1') => (await store.listBatches(workspace, { limit: 100 })).batches.map((b) => b.id);
    const queued = async () => (await store.claimRequests('probe', 100, T0 + 2 * HOUR, T0 + HOUR)).length;

    it('answers a repeated key with the first batch as it is now, storing nothing more', async () => {
      const first = await create({ idempotencyKey: 'k-1' });
      const [claimed] = await store.claimRequests('a', 1, T0 + 1000, T0);
      await store.completeRequests('a', [{ key: claimed!.key, type: 'succeeded', result: '{"type":"succeeded"}' }], T0 + 1);
      const again = await create({ idempotencyKey: 'k-1', at: T0 + HOUR, caller: 'key_2' });
      expect(again.id).toBe(first.id);
      expect(again.counts).toMatchObject({ processing: 1, succeeded: 1 });
      expect(await listed()).toEqual([first.id]);
      expect(await queued()).toBe(1);
    });

    it('refuses a key used with another body and stores nothing', async () => {
      const first = await create({ idempotencyKey: 'k-1' });
      const other = create({ idempotencyKey: 'k-1', bodyDigest: () => 'digest-b', count: 3 });
      await expect(other).rejects.toBeInstanceOf(IdempotencyKeyReused);
      await expect(other).rejects.toThrow(first.id);
      expect(await listed()).toEqual([first.id]);
      expect(await queued()).toBe(2);
    });

    it('scopes keys to the workspace and lets them go after 24 hours or once their batch is deleted', async () => {
      const first = await create({ idempotencyKey: 'k-1' });
      const elsewhere = await create({ idempotencyKey: 'k-1', workspace: 'w2' });
      expect(elsewhere.id).not.toBe(first.id);
      expect(await listed('w2')).toEqual([elsewhere.id]);
      const later = await create({ idempotencyKey: 'k-1', at: T0 + IDEMPOTENCY_KEY_TTL_MS, bodyDigest: () => 'digest-b' });
      expect(later.id).not.toBe(first.id);
      expect((await create({ idempotencyKey: 'k-1', at: T0 + IDEMPOTENCY_KEY_TTL_MS + 1, bodyDigest: () => 'digest-b' })).id).toBe(later.id);
      // The workspace-2 batch ends and is deleted: its key makes a new batch.
      const running = await store.claimRequests('a', 100, T0 + HOUR, T0);
      await store.completeRequests('a', running.filter((r) => r.batchId === elsewhere.id).map((r) => ({ key: r.key, type: 'succeeded', result: '{}' })), T0 + 1);
      expect(await store.deleteBatch('w2', elsewhere.id)).toBe('deleted');
      const replacement = await create({ idempotencyKey: 'k-1', workspace: 'w2', at: T0 + 2 });
      expect(replacement.id).not.toBe(elsewhere.id);
      expect(await listed('w2')).toEqual([replacement.id]);
    });

    it('gives racing creates with one key exactly one batch', async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const racers = [create({ idempotencyKey: 'race', gate }), create({ idempotencyKey: 'race', gate }), create({ idempotencyKey: 'race', gate, bodyDigest: () => 'digest-b' })];
      await new Promise((resolve) => setTimeout(resolve, 20));
      open();
      const outcomes = await Promise.allSettled(racers);
      const made = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.id] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      // Whichever finished first made the batch; the same body got it, the other body was refused.
      if (made.length === 2) {
        expect(made[0]).toBe(made[1]);
        expect(refused[0]).toBeInstanceOf(IdempotencyKeyReused);
      } else {
        expect(made).toHaveLength(1);
        expect(refused.map((error) => error instanceof IdempotencyKeyReused)).toEqual([true, true]);
      }
      expect(await listed()).toEqual([made[0]]);
    });

    it('answers a retry with the batch the same caller made from the same body within the window', async () => {
      const first = await create();
      expect((await create({ retried: true, at: T0 + RETRY_WINDOW_MS })).id).toBe(first.id);
      const unmarked = await create({ at: T0 + 1 });
      const otherCaller = await create({ retried: true, caller: 'key_2', at: T0 + 2 });
      const otherBody = await create({ retried: true, bodyDigest: () => 'digest-b', at: T0 + 3 });
      const late = await create({ retried: true, at: T0 + 10 + RETRY_WINDOW_MS });
      const made = [first, unmarked, otherCaller, otherBody, late].map((b) => b.id);
      expect(new Set(made).size).toBe(5);
      expect((await listed()).sort()).toEqual(made.sort());
    });

    it('asks refuseNew only about creates that make a new batch', async () => {
      const refuseNew = () => new Error('queue full');
      const first = await create({ idempotencyKey: 'k-1' });
      expect((await create({ idempotencyKey: 'k-1', refuseNew })).id).toBe(first.id);
      expect((await create({ retried: true, refuseNew })).id).toBe(first.id);
      await expect(create({ idempotencyKey: 'k-2', refuseNew })).rejects.toThrow('queue full');
      await expect(create({ retried: true, bodyDigest: () => 'digest-b', refuseNew })).rejects.toThrow('queue full');
      expect(await listed()).toEqual([first.id]);
      expect((await create({ idempotencyKey: 'k-2', bodyDigest: () => 'digest-b' })).id).not.toBe(first.id);
    });

    it('purges records once they can no longer match', async () => {
      const keyed = await create({ idempotencyKey: 'k-1' });
      await create({ bodyDigest: () => 'digest-b' });
      expect(await store.purgeCreateRecords(T0 + RETRY_WINDOW_MS, 100)).toBe(0);
      expect(await store.purgeCreateRecords(T0 + RETRY_WINDOW_MS + 1, 100)).toBe(1);
      expect((await create({ idempotencyKey: 'k-1', at: T0 + HOUR })).id).toBe(keyed.id);
      expect(await store.purgeCreateRecords(T0 + IDEMPOTENCY_KEY_TTL_MS + 1, 100)).toBe(1);
      expect(await store.purgeCreateRecords(T0 + IDEMPOTENCY_KEY_TTL_MS + 1, 100)).toBe(0);
    });
  });
}
