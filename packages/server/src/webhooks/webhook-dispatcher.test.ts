import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-webhook-dispatcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_800_000_000_000;
const DAY = 86_400_000;
const ENDPOINTS = 20;
const BATCHES = 260;

describe('webhook dispatcher', () => {
  it('purges every settled delivery past retention in one scan, however many were made', async () => {
    const store = new SqliteStore(join(dir, 'purge.sqlite'));
    let now = T0;
    for (let i = 0; i < ENDPOINTS; i++) {
      await store.webhooks.createEndpoint({
        id: `whep_${i}`,
        workspaceId: 'w',
        url: `http://127.0.0.1:9/${i}`,
        secret: 'whsec_c2VjcmV0',
        description: null,
        createdAt: T0,
        consecutiveFailures: 0,
        pausedUntil: null,
        disabledAt: null,
      });
    }
    for (let i = 0; i < BATCHES; i++) {
      const id = `msgbatch_01PURGE${String(i).padStart(17, '0')}`;
      await store.createBatch({ id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + DAY, archiveAt: T0 + 29 * DAY }, (async function* () {
        yield [{ customId: 'only', params: '{}' }];
      })());
    }
    let announced = 0;
    while (announced < BATCHES) {
      const claimed = await store.claimRequests('engine', BATCHES, T0 + 60_000, T0);
      await store.completeRequests('engine', claimed.map((c) => ({ key: c.key, type: 'succeeded' as const, result: '{}' })), T0);
      announced += await store.webhooks.announceEndedBatches(T0, BATCHES, () => [{ type: 'batch.ended', payload: '{}' }]);
    }
    const deliveries = await store.webhooks.claimDeliveries('sender', { total: 10_000, perEndpoint: 10_000, perWorkspace: 10_000 }, T0 + 1000, T0);
    expect(deliveries).toHaveLength(ENDPOINTS * BATCHES);
    const delivered = { status: 200, error: null, delivered: true, retryAt: null, pause: { afterFailures: 5, firstMs: 1, longestMs: 1 }, disable: false };
    for (const d of deliveries) await store.webhooks.recordAttempt('sender', d.id, 1, delivered, T0 + 1);

    // A month later, one scan removes all 5,200: more than one purge step holds.
    now = T0 + 31 * DAY;
    const dispatcher = new WebhookDispatcher({
      store: store.webhooks,
      clock: { now: () => now },
      logger: pino({ level: 'silent' }),
      owner: 'sender',
      publicUrl: () => 'http://127.0.0.1',
      intervalMs: 3_600_000,
      timeoutMs: 1000,
      retryScale: 1,
    });
    await dispatcher.tick();
    await dispatcher.stop();
    for (let i = 0; i < ENDPOINTS; i++) expect((await store.webhooks.listDeliveries('w', `whep_${i}`, { limit: 1 })).deliveries).toEqual([]);
    await store.close();
  });
});
