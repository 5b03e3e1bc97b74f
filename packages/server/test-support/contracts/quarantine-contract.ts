import { describe, expect, it } from 'vitest';
import { MAX_LEASE_LOSSES, QUARANTINE_MESSAGE, SUSPECT_LEASE_LOSSES } from '../../src/store/quarantine.js';
import type { BatchStore, Dialect } from '../../src/store/store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';

/**
 * Quarantine, for every store: a request whose lease lapses for the third time ends errored
 * instead of going back in the queue; retries and results written in time do not count. A
 * request one loss short of it is a suspect, claimed only as one of a claim's `suspects`.
 */
export function runQuarantineContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store quarantine`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1;

    async function create(dialect: Dialect, customIds: string[]) {
      const id = `${dialect === 'chat' ? 'batch_' : 'msgbatch_'}01QUAR${String(nextId++).padStart(16, '0')}`;
      return store.createBatch(
        { id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 24 * HOUR, archiveAt: T0 + 48 * HOUR, dialect },
        (async function* () {
          yield customIds.map((customId) => ({ customId, params: '{}' }));
        })(),
      );
    }

    /** Claims the one runnable request with a lease until `at + 1000`, then lets that lease lapse at `at + 2000`. */
    async function claimAndLapse(owner: string, at: number): Promise<number> {
      const [claimed] = await store.claimRequests(owner, 1, at + 1000, at);
      expect(claimed, `a request is runnable at ${at - T0}`).toBeDefined();
      return store.reclaimExpiredLeases(at + 2000);
    }

    it(`ends a request errored when its lease lapses the ${MAX_LEASE_LOSSES}rd time, and the batch with it`, async () => {
      const batch = await create('messages', ['fine', 'deadly']);
      const first = await store.claimRequests('a', 2, T0 + 1000, T0);
      const fine = first.find((request) => request.customId === 'fine')!;
      await store.completeRequests('a', [{ key: fine.key, type: 'succeeded', result: '{"type":"succeeded","message":{}}' }], T0 + 10);
      expect(await store.reclaimExpiredLeases(T0 + 2000)).toBe(1);
      expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ processing: 1, errored: 0 });
      expect(await claimAndLapse('b', T0 + 3000)).toBe(1);
      expect((await store.getBatch('w', batch.id))!.status).toBe('in_progress');
      expect(await claimAndLapse('c', T0 + 6000)).toBe(1);

      expect(await store.claimRequests('d', 10, T0 + 20_000, T0 + 9000)).toEqual([]);
      const ended = (await store.getBatch('w', batch.id))!;
      expect(ended).toMatchObject({ status: 'ended', endedAt: T0 + 8000 });
      expect(ended.counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
      let text = '';
      for await (const page of store.readResults(batch.id, 10)) text += page;
      const lines = text.trim().split('\n').map((line) => JSON.parse(line));
      expect(lines.find((line) => line.custom_id === 'deadly')).toEqual({
        custom_id: 'deadly',
        result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: QUARANTINE_MESSAGE }, request_id: null } },
      });
      expect(QUARANTINE_MESSAGE).toContain('could not be processed');
    });

    it(`claims a request that lost its lease ${SUSPECT_LEASE_LOSSES} times only as a suspect: first, as many as asked, and marked`, async () => {
      await create('messages', ['a', 'b', 'c']);
      for (let loss = 0; loss < SUSPECT_LEASE_LOSSES; loss++) {
        const at = T0 + loss * 3000;
        const claimed = await store.claimRequests(`owner-${loss}`, 10, at + 1000, at);
        expect(claimed.map((request) => [request.customId, request.suspect])).toEqual([['a', undefined], ['b', undefined], ['c', undefined]]);
        expect(await store.reclaimExpiredLeases(at + 2000)).toBe(3);
      }
      const now = T0 + 10_000;
      expect(await store.claimRequests('none', 10, now + 1000, now, undefined, undefined, 0)).toEqual([]);
      const other = await create('messages', ['fresh']);
      const first = await store.claimRequests('x', 10, now + 1000, now);
      expect(first.map((request) => [request.customId, request.suspect, request.attempt])).toEqual([['a', true, SUSPECT_LEASE_LOSSES + 1], ['fresh', undefined, 1]]);
      expect(first[1]!.batchId).toBe(other.id);
      expect((await store.claimRequests('y', 1, now + 1000, now, undefined, undefined, 2)).map((request) => [request.customId, request.suspect])).toEqual([['b', true]]);
      expect((await store.claimRequests('z', 10, now + 1000, now, undefined, undefined, 2)).map((request) => [request.customId, request.suspect])).toEqual([['c', true]]);
    });

    it('counts only lapsed leases, not retries', async () => {
      const batch = await create('messages', ['retried']);
      for (let retry = 0; retry < MAX_LEASE_LOSSES; retry++) {
        const at = T0 + retry * 10;
        const [claimed] = await store.claimRequests('a', 1, at + 1000, at);
        await store.retryRequests('a', [{ key: claimed!.key, runAt: at }], at);
      }
      expect(await claimAndLapse('b', T0 + 1000)).toBe(1);
      expect(await claimAndLapse('c', T0 + 4000)).toBe(1);
      expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ processing: 1, errored: 0 });
      const [last] = await store.claimRequests('d', 1, T0 + 8000, T0 + 7000);
      expect(last!.attempt).toBe(MAX_LEASE_LOSSES + 3);
      await store.completeRequests('d', [{ key: last!.key, type: 'succeeded', result: '{"type":"succeeded","message":{}}' }], T0 + 7100);
      expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ processing: 0, succeeded: 1 });
    });

    it('stores no response for a quarantined request of a chat batch: its error file line says why', async () => {
      const batch = await create('chat', ['deadly']);
      for (let loss = 0; loss < MAX_LEASE_LOSSES; loss++) await claimAndLapse(`owner-${loss}`, T0 + loss * 3000);
      expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ processing: 0, errored: 1 });
      const rows = [];
      for await (const page of store.files.readResultRows(batch.id, false, 10)) rows.push(...page);
      expect(rows).toEqual([{ key: expect.any(Number), customId: 'deadly', type: 'errored', result: null }]);
    });
  });
}
