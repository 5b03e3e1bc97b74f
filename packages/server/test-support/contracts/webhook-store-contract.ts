import { describe, expect, it } from 'vitest';
import type { BatchRecord, BatchStore } from '../../src/store/store.js';
import { DISABLED_ERROR } from '../../src/store/webhook-rows.js';
import type { AttemptResult, ClaimLimits, NewEvent, PausePolicy, WebhookEndpointRecord } from '../../src/store/webhook-store.js';
import { openStoreEachTest, T0 } from './contract-setup.js';

/**
 * The webhook behaviour every store must show: endpoints per workspace, the outbox scan over
 * ended batches, leased claims, attempts and the delivery log. Each store's test file calls this
 * with a factory that makes a fresh, empty store.
 */
export function runWebhookStoreContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} webhook store contract`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1000;
    const DAY = 86_400_000;

    const endpoint = (workspaceId: string, createdAt = T0): WebhookEndpointRecord => ({
      id: `whep_${nextId++}`,
      workspaceId,
      url: `http://127.0.0.1:9/${nextId}`,
      secret: `whsec_secret${nextId}`,
      description: null,
      createdAt,
      consecutiveFailures: 0,
      pausedUntil: null,
      disabledAt: null,
    });
    /** A batch of `workspace` with one request, ended by the engine at `T0`. */
    async function endedBatch(workspace: string): Promise<BatchRecord> {
      const id = `msgbatch_01HOOK${String(nextId++).padStart(18, '0')}`;
      await store.createBatch({ id, workspaceId: workspace, createdAt: T0, expiresAt: T0 + DAY, archiveAt: T0 + 29 * DAY }, (async function* () {
        yield [{ customId: 'only', params: '{}' }];
      })());
      const [claimed] = await store.claimRequests('engine', 10, T0 + 60_000, T0);
      await store.completeRequests('engine', [{ key: claimed!.key, type: 'succeeded', result: '{"type":"succeeded"}' }], T0);
      return (await store.getBatch(workspace, id))!;
    }
    const seen: BatchRecord[] = [];
    const events = (batch: BatchRecord): NewEvent[] => {
      seen.push(batch);
      return [{ type: 'batch.ended', payload: JSON.stringify({ type: 'batch.ended', data: { id: batch.id } }) }];
    };
    /** Pauses on the second failure in a row: 1 s, then 2 s, at most 3 s. */
    const pause: PausePolicy = { afterFailures: 2, firstMs: 1000, longestMs: 3000 };
    const failed = (retryAt: number | null): AttemptResult => ({ status: 500, error: 'HTTP 500', delivered: false, retryAt, pause, disable: false });
    const delivered: AttemptResult = { status: 204, error: null, delivered: true, retryAt: null, pause, disable: false };
    /** Claim limits that leave only the total to matter. */
    const upTo = (total: number): ClaimLimits => ({ total, perEndpoint: total, perWorkspace: total });

    it('keeps endpoints per workspace and removes them with their deliveries', async () => {
      const a1 = endpoint('w1');
      const a2 = { ...endpoint('w1', T0 + 1), description: 'second' };
      const b1 = endpoint('w2');
      for (const e of [a2, a1, b1]) await store.webhooks.createEndpoint(e);
      expect(await store.webhooks.listEndpoints('w1')).toEqual([a1, a2]);
      expect(await store.webhooks.getEndpoint('w2', a1.id)).toBeNull();
      expect(await store.webhooks.getEndpoint('w1', a1.id)).toEqual(a1);
      await endedBatch('w1');
      await store.webhooks.announceEndedBatches(T0, 10, events);
      expect(await store.webhooks.deleteEndpoint('w2', a1.id)).toBe(false);
      expect(await store.webhooks.deleteEndpoint('w1', a1.id)).toBe(true);
      expect(await store.webhooks.listEndpoints('w1')).toEqual([a2]);
      expect((await store.webhooks.listDeliveries('w1', a1.id, { limit: 10 })).deliveries).toEqual([]);
      // Only the remaining endpoint's delivery is left to send.
      const claimed = await store.webhooks.claimDeliveries('sender', upTo(10), T0 + 1000, T0);
      expect(claimed.map((c) => c.url)).toEqual([a2.url]);
    });

    it('announces each ended batch once, to every endpoint of its workspace', async () => {
      const [a1, a2, b1] = [endpoint('w1'), endpoint('w1'), endpoint('w2')];
      for (const e of [a1, a2, b1]) await store.webhooks.createEndpoint(e);
      const ended = await endedBatch('w1');
      const quiet = await endedBatch('w3');
      await store.createBatch({ id: 'msgbatch_01HOOKrunning', workspaceId: 'w1', createdAt: T0, expiresAt: T0 + DAY, archiveAt: T0 + DAY }, (async function* () {
        yield [{ customId: 'a', params: '{}' }];
      })());
      seen.length = 0;
      // Both ended batches are announced; only the one whose workspace has endpoints gets deliveries.
      expect(await store.webhooks.announceEndedBatches(T0 + 5, 10, events)).toBe(2);
      expect(seen.map((b) => [b.id, b.status])).toEqual([[ended.id, 'ended']]);
      expect((await store.webhooks.listDeliveries('w1', a2.id, { limit: 10 })).deliveries.map((d) => d.batchId)).toEqual([ended.id]);
      expect(await store.webhooks.announceEndedBatches(T0 + 6, 10, events)).toBe(0);
      // A batch that ended while its workspace had no endpoint stays unannounced to later ones.
      await store.webhooks.createEndpoint(endpoint('w3'));
      expect(await store.webhooks.announceEndedBatches(T0 + 7, 10, events)).toBe(0);
      expect(seen.map((b) => b.id)).not.toContain(quiet.id);

      const [delivery] = (await store.webhooks.listDeliveries('w1', a1.id, { limit: 10 })).deliveries;
      expect(delivery).toMatchObject({ endpointId: a1.id, batchId: ended.id, eventType: 'batch.ended', state: 'pending', attempts: 0, nextAttemptAt: T0 + 5, attemptLog: [] });
      expect(delivery!.id).toMatch(/^evt_/);
      expect(JSON.parse(delivery!.payload)).toEqual({ type: 'batch.ended', data: { id: ended.id } });
      expect((await store.webhooks.listDeliveries('w2', a1.id, { limit: 10 })).deliveries).toEqual([]);
      expect((await store.webhooks.listDeliveries('w2', b1.id, { limit: 10 })).deliveries).toEqual([]);
      // A cursor the endpoint's log does not hold (unknown, purged, or another endpoint's) ends the paging instead of starting it over.
      for (const [endpointId, afterId] of [[a1.id, 'evt_unknown'], [a2.id, delivery!.id]] as const) {
        expect(await store.webhooks.listDeliveries('w1', endpointId, { limit: 10, afterId })).toEqual({ deliveries: [], hasMore: false });
      }
    });

    it('leases a due delivery to one sender, takes it back when the lease lapses, and logs each attempt', async () => {
      const e = endpoint('w1');
      await store.webhooks.createEndpoint(e);
      await endedBatch('w1');
      await store.webhooks.announceEndedBatches(T0, 10, events);
      const [first] = await store.webhooks.claimDeliveries('a', upTo(10), T0 + 1000, T0);
      expect(first).toMatchObject({ url: e.url, secret: e.secret, attempt: 1 });
      expect(await store.webhooks.claimDeliveries('b', upTo(10), T0 + 2000, T0 + 999)).toEqual([]);
      // Sender a's lease lapsed (it died): b takes over, and a late report from a changes nothing.
      const [second] = await store.webhooks.claimDeliveries('b', upTo(10), T0 + 3000, T0 + 1000);
      expect(second).toMatchObject({ id: first!.id, attempt: 2 });
      expect(await store.webhooks.recordAttempt('a', first!.id, 1, delivered, T0 + 1001)).toBe(false);
      expect(await store.webhooks.recordAttempt('b', first!.id, 2, failed(T0 + 5000), T0 + 1002)).toBe(true);
      expect(await store.webhooks.claimDeliveries('b', upTo(10), T0 + 9000, T0 + 4999)).toEqual([]);
      const [third] = await store.webhooks.claimDeliveries('b', upTo(10), T0 + 9000, T0 + 5000);
      expect(third!.attempt).toBe(3);
      expect(await store.webhooks.recordAttempt('b', first!.id, 3, delivered, T0 + 5003)).toBe(true);
      expect(await store.webhooks.claimDeliveries('b', upTo(10), T0 + 99_000, T0 + 90_000)).toEqual([]);
      const [log] = (await store.webhooks.listDeliveries('w1', e.id, { limit: 10 })).deliveries;
      expect(log).toMatchObject({ state: 'delivered', attempts: 3, nextAttemptAt: null, lastStatus: 204, lastError: null, deliveredAt: T0 + 5003 });
      expect(log!.attemptLog).toEqual([
        { attempt: 2, attemptedAt: T0 + 1002, status: 500, error: 'HTTP 500' },
        { attempt: 3, attemptedAt: T0 + 5003, status: 204, error: null },
      ]);
    });

    it('fails a delivery with no retry left, and sends it again when asked', async () => {
      const e = endpoint('w1');
      await store.webhooks.createEndpoint(e);
      await endedBatch('w1');
      await store.webhooks.announceEndedBatches(T0, 10, events);
      const [claimed] = await store.webhooks.claimDeliveries('a', upTo(10), T0 + 1000, T0);
      await store.webhooks.recordAttempt('a', claimed!.id, 1, { status: null, error: 'no answer', delivered: false, retryAt: null, pause, disable: false }, T0 + 10);
      const [gone] = (await store.webhooks.listDeliveries('w1', e.id, { limit: 10 })).deliveries;
      expect(gone).toMatchObject({ state: 'failed', nextAttemptAt: null, lastStatus: null, lastError: 'no answer' });
      expect(await store.webhooks.claimDeliveries('a', upTo(10), T0 + 99_000, T0 + 90_000)).toEqual([]);
      expect(await store.webhooks.retryDelivery('w2', e.id, claimed!.id, T0 + 100)).toBeNull();
      expect(await store.webhooks.retryDelivery('w1', e.id, claimed!.id, T0 + 100)).toMatchObject({ state: 'pending', nextAttemptAt: T0 + 100 });
      expect(await store.webhooks.claimDeliveries('a', upTo(10), T0 + 2000, T0 + 100)).toMatchObject([{ id: claimed!.id, attempt: 2 }]);
    });

    it('pages the delivery log newest first and purges old settled deliveries', async () => {
      const e = endpoint('w1');
      await store.webhooks.createEndpoint(e);
      for (let i = 0; i < 5; i++) {
        await endedBatch('w1');
        await store.webhooks.announceEndedBatches(T0 + i, 10, events);
      }
      const first = await store.webhooks.listDeliveries('w1', e.id, { limit: 2 });
      expect(first.hasMore).toBe(true);
      expect(first.deliveries.map((d) => d.createdAt)).toEqual([T0 + 4, T0 + 3]);
      const rest = await store.webhooks.listDeliveries('w1', e.id, { limit: 10, afterId: first.deliveries[1]!.id });
      expect(rest.deliveries.map((d) => d.createdAt)).toEqual([T0 + 2, T0 + 1, T0]);
      expect(rest.hasMore).toBe(false);

      const claimed = await store.webhooks.claimDeliveries('a', upTo(3), T0 + 1000, T0 + 10);
      for (const c of claimed) await store.webhooks.recordAttempt('a', c.id, 1, delivered, T0 + 20);
      // Settled deliveries created before T0 + 2 go; pending ones stay however old.
      expect(await store.webhooks.purgeDeliveries(T0 + 2, 100)).toBe(2);
      const left = (await store.webhooks.listDeliveries('w1', e.id, { limit: 10 })).deliveries;
      expect(left.map((d) => [d.createdAt, d.state])).toEqual([
        [T0 + 4, 'pending'],
        [T0 + 3, 'pending'],
        [T0 + 2, 'delivered'],
      ]);
    });

    it('stores at most the bound of endpoints per workspace, however many creates run at once', async () => {
      const made = await Promise.all(Array.from({ length: 8 }, () => store.webhooks.createEndpoint(endpoint('w1'), 3)));
      expect(made.filter(Boolean)).toHaveLength(3);
      expect(await store.webhooks.listEndpoints('w1')).toHaveLength(3);
      expect(await store.webhooks.createEndpoint(endpoint('w2'), 3)).toBe(true);
    });

    it('never leases one delivery to two concurrent senders', async () => {
      for (const workspace of ['w1', 'w2']) await store.webhooks.createEndpoint(endpoint(workspace));
      for (let i = 0; i < 12; i++) await endedBatch(i % 2 === 0 ? 'w1' : 'w2');
      const announced = await Promise.all([1, 2, 3].map(() => store.webhooks.announceEndedBatches(T0, 100, events)));
      expect(announced.reduce((a, b) => a + b, 0)).toBe(12);
      const claims = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => store.webhooks.claimDeliveries(owner, upTo(5), T0 + 1000, T0)));
      // A claim may come up short when another took rows it had picked; what is left is claimed next.
      const ids = [...claims.flat(), ...(await store.webhooks.claimDeliveries('e', upTo(20), T0 + 1000, T0))].map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(12);
    });

    it('claims fairly: a quiet workspace is served while a busy one has its share in flight', async () => {
      const busy = [endpoint('w1'), endpoint('w1'), endpoint('w1')];
      const quiet = endpoint('w2');
      for (const e of [...busy, quiet]) await store.webhooks.createEndpoint(e);
      for (let i = 0; i < 3; i++) {
        await endedBatch('w1');
        await store.webhooks.announceEndedBatches(T0 + i, 10, events);
      }
      await endedBatch('w2');
      await store.webhooks.announceEndedBatches(T0 + 10, 10, events);
      const limits: ClaimLimits = { total: 16, perEndpoint: 2, perWorkspace: 4 };
      const first = await store.webhooks.claimDeliveries('a', limits, T0 + 60_000, T0 + 20);
      const urls = first.map((c) => c.url);
      // w1 has 9 due: 4 go (round-robin over its endpoints, none more than 2); w2's newer one goes second.
      expect(urls).toHaveLength(5);
      expect(urls[1]).toBe(quiet.url);
      for (const e of busy) expect(urls.filter((url) => url === e.url).length).toBeLessThanOrEqual(2);
      expect(new Set(urls.slice(0, 4).filter((url) => url !== quiet.url)).size).toBe(3);
      // While those are leased, w1 is at its share: nothing more goes, from any process.
      expect(await store.webhooks.claimDeliveries('b', limits, T0 + 60_000, T0 + 30)).toEqual([]);
      const done = first.find((c) => c.url === busy[0]!.url)!;
      expect(await store.webhooks.recordAttempt('a', done.id, 1, delivered, T0 + 40)).toBe(true);
      expect((await store.webhooks.claimDeliveries('b', limits, T0 + 60_000, T0 + 50)).map((c) => c.url)).toHaveLength(1);
    });

    it('pauses an endpoint that keeps failing, longer each time, and resumes it on a delivery', async () => {
      const e = endpoint('w1');
      await store.webhooks.createEndpoint(e);
      for (let i = 0; i < 4; i++) {
        await endedBatch('w1');
        await store.webhooks.announceEndedBatches(T0, 10, events);
      }
      const health = async () => {
        const { consecutiveFailures, pausedUntil } = (await store.webhooks.getEndpoint('w1', e.id))!;
        return [consecutiveFailures, pausedUntil];
      };
      const claimed = await store.webhooks.claimDeliveries('a', upTo(10), T0 + 100_000, T0);
      expect(claimed.map((c) => c.endpointId)).toEqual([e.id, e.id, e.id, e.id]);
      await store.webhooks.recordAttempt('a', claimed[0]!.id, 1, failed(T0 + 100), T0 + 10);
      expect(await health()).toEqual([1, null]);
      await store.webhooks.recordAttempt('a', claimed[1]!.id, 1, failed(T0 + 100), T0 + 20);
      expect(await health()).toEqual([2, T0 + 1020]);
      await store.webhooks.recordAttempt('a', claimed[2]!.id, 1, failed(T0 + 100), T0 + 30);
      expect(await health()).toEqual([3, T0 + 2030]);
      await store.webhooks.recordAttempt('a', claimed[3]!.id, 1, failed(T0 + 100), T0 + 40);
      expect(await health()).toEqual([4, T0 + 3040]);
      // All four are due again, but the endpoint is paused.
      expect(await store.webhooks.claimDeliveries('a', upTo(10), T0 + 9000, T0 + 3039)).toEqual([]);
      const again = await store.webhooks.claimDeliveries('a', upTo(10), T0 + 9000, T0 + 3040);
      expect(again).toHaveLength(4);
      await store.webhooks.recordAttempt('a', again[0]!.id, 2, delivered, T0 + 3041);
      expect(await health()).toEqual([0, null]);
    });

    it('disables an endpoint whose receiver is gone: its pending deliveries fail and no new ones are stored', async () => {
      const gone = endpoint('w1');
      await store.webhooks.createEndpoint(gone);
      for (let i = 0; i < 2; i++) {
        await endedBatch('w1');
        await store.webhooks.announceEndedBatches(T0 + i, 10, events);
      }
      const other = endpoint('w1');
      await store.webhooks.createEndpoint(other);
      const [claimed] = await store.webhooks.claimDeliveries('a', upTo(1), T0 + 1000, T0 + 5);
      const answer: AttemptResult = { status: 410, error: 'the receiver answered HTTP 410', delivered: false, retryAt: T0 + 500, pause, disable: true };
      expect(await store.webhooks.recordAttempt('a', claimed!.id, 1, answer, T0 + 20)).toBe(true);
      expect(await store.webhooks.getEndpoint('w1', gone.id)).toMatchObject({ disabledAt: T0 + 20 });
      const log = (await store.webhooks.listDeliveries('w1', gone.id, { limit: 10 })).deliveries;
      expect(log.map((d) => [d.state, d.lastError])).toEqual([
        ['failed', DISABLED_ERROR],
        ['failed', 'the receiver answered HTTP 410'],
      ]);
      await endedBatch('w1');
      await store.webhooks.announceEndedBatches(T0 + 30, 10, events);
      expect((await store.webhooks.listDeliveries('w1', gone.id, { limit: 10 })).deliveries).toHaveLength(2);
      const rest = await store.webhooks.claimDeliveries('a', upTo(10), T0 + 9000, T0 + 100);
      expect(rest.map((c) => c.url)).toEqual([other.url]);
    });
  });
}
