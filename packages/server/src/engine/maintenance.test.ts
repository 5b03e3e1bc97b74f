import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { NewRequest } from '../store/store.js';
import { Maintenance } from './maintenance.js';

const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function* requests(count: number): AsyncGenerator<NewRequest[]> {
  yield Array.from({ length: count }, (_, i) => ({ customId: `r${i}`, params: '{}' }));
}

/** A store holding one ended batch of `count` requests whose results are past their TTL at `archiveAt`. */
async function storeWithEndedBatch(count: number, archiveAt: number): Promise<SqliteStore> {
  const dir = await mkdtemp(join(tmpdir(), 'batchd-maintenance-'));
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'batchd.sqlite'));
  await store.createBatch({ id: 'msgbatch_1', workspaceId: 'w', createdAt: 0, expiresAt: HOUR, archiveAt }, requests(count));
  const claimed = await store.claimRequests('owner', count, HOUR, 0);
  await store.completeRequests('owner', claimed.map((request) => ({ key: request.key, type: 'errored', result: '{"type":"errored"}' })), 1);
  return store;
}

describe('Maintenance', () => {
  it('archives a batch past its results TTL and purges at most purgeLimit rows a tick, in short transactions', async () => {
    const store = await storeWithEndedBatch(1_200, 2 * HOUR);
    const purgeCalls: number[] = [];
    const purge = store.purge.bind(store);
    store.purge = async (limit) => {
      purgeCalls.push(limit);
      return purge(limit);
    };
    let now = HOUR;
    const maintenance = new Maintenance({ store, clock: { now: () => now }, logger, intervalMs: 1_000, onRequeue: () => {}, purgeLimit: 700 });

    await maintenance.tick();
    expect((await store.getBatch('w', 'msgbatch_1'))?.archivedAt).toBeNull();
    now = 3 * HOUR;
    await maintenance.tick();
    expect((await store.getBatch('w', 'msgbatch_1'))?.archivedAt).toBe(3 * HOUR);
    await maintenance.tick();
    // Nothing to purge before archival; then 700 rows (500 + 200), then the last 500 and a look
    // for more that finds none.
    expect(purgeCalls).toEqual([500, 500, 200, 500, 200]);
    expect(await store.purge(10)).toBe(0);
    await store.close();
  });

  it('reports requeued requests when it reclaims lapsed leases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'batchd-maintenance-'));
    dirs.push(dir);
    const store = new SqliteStore(join(dir, 'batchd.sqlite'));
    await store.createBatch({ id: 'msgbatch_1', workspaceId: 'w', createdAt: 0, expiresAt: HOUR, archiveAt: 2 * HOUR }, requests(3));
    await store.claimRequests('owner', 3, 1_000, 0);
    let requeued = 0;
    const maintenance = new Maintenance({ store, clock: { now: () => 2_000 }, logger, intervalMs: 1_000, onRequeue: () => requeued++ });

    await maintenance.tick();
    expect(requeued).toBe(1);
    expect(await store.claimRequests('other', 3, 60_000, 2_000)).toHaveLength(3);
    await store.close();
  });
});
